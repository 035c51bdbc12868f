/**
 * Micrometer meters for transport-tfo: {@link dev.tfo.micrometer.TfoMetrics} counts connections by TCP Fast
 * Open outcome, exposes the kernel's {@code TCPFastOpen*} counters and the backoff's state.
 *
 * <pre>{@code
 * TfoMetrics metrics = new TfoMetrics();
 * metrics.bindTo(registry);
 * bootstrap.channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new, metrics.clientOptions()));
 * serverBootstrap.channelFactory(
 *         TfoChannels.serverFactory(EpollServerSocketChannel::new, metrics.serverOptions()));
 * }</pre>
 */
package dev.tfo.micrometer;
