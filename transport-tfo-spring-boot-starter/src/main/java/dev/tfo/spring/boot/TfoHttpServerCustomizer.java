package dev.tfo.spring.boot;

import dev.tfo.TfoResult;
import dev.tfo.TfoResultListener;
import dev.tfo.TfoSupport;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import reactor.netty.http.server.HttpServer;

import java.util.function.UnaryOperator;

/**
 * TFO on the listener of the embedded Reactor Netty server: the kernel's {@code TCP_FASTOPEN} (a listener option,
 * set as the raw socket option as {@code TfoChannels.serverFactory} does, so that it follows the live
 * {@code net.ipv4.tcp_fastopen} rather than the value Netty read at class initialisation), and the
 * {@link TfoResult} of every accepted connection told to the result listener (the metrics), if any.
 *
 * <p>Reactor Netty gives no access to its {@code ServerBootstrap}, so the option is set through
 * {@code HttpServer.option}; only where the server will run on epoll or io_uring (elsewhere Netty would warn at
 * every bind that it does not know the option, and TFO could not work anyway: the startup report says so once).
 */
final class TfoHttpServerCustomizer implements UnaryOperator<HttpServer>, TfoPart {
    /** {@code TCP_FASTOPEN} (level {@code IPPROTO_TCP} 6, option 23): the listener's TFO queue length. */
    static final ChannelOption<Integer> TCP_FASTOPEN = TfoListenerOption.TCP_FASTOPEN;
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(TfoHttpServerCustomizer.class);

    private final int queueLength;
    private final TfoResultListener listener;

    /**
     * @param queueLength the TFO queue length, &gt; 0
     * @param listener    told each accepted connection's result, or {@code null}
     */
    TfoHttpServerCustomizer(int queueLength, TfoResultListener listener) {
        if (queueLength <= 0) {
            throw new IllegalArgumentException("tfo.server.queue-length must be > 0, was " + queueLength);
        }
        this.queueLength = queueLength;
        this.listener = listener;
    }

    int queueLength() {
        return queueLength;
    }

    @Override
    public String description() {
        return "Reactor Netty server (TFO queue " + queueLength + ")";
    }

    @Override
    public String problem(TfoSupport support) {
        if (!TfoHost.nativeServerTransport()) {
            return "the server runs on NIO, which cannot accept data in a SYN (epoll or io_uring can)";
        }
        return support.sysctl() >= 0 && (support.sysctl() & 0x2) != 0 ? null
                : "servers: net.ipv4.tcp_fastopen=" + support.sysctl() + " lacks the server bit 0x2";
    }

    @Override
    public HttpServer apply(HttpServer server) {
        if (!TfoHost.librarySupported()) {
            return server;
        }
        HttpServer configured = server;
        if (TfoHost.nativeServerTransport()) {
            configured = configured.option(TCP_FASTOPEN, queueLength);
        }
        if (listener != null) {
            configured = configured.doOnChannelInit((observer, channel, address) -> {
                if (channel instanceof SocketChannel && channel.parent() != null) {
                    try {
                        // An accepted channel's result is decided at once, from tcp_info.
                        listener.onResult(channel, TfoResult.of(channel).getNow());
                    } catch (RuntimeException e) {
                        logger.warn("TfoResultListener {} threw", listener, e);
                    }
                }
            });
        }
        return configured;
    }

    @Override
    public String toString() {
        return "TfoHttpServerCustomizer(queueLength=" + queueLength + (listener == null ? "" : ", " + listener) + ')';
    }
}
