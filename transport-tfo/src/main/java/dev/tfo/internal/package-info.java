/**
 * Helpers of {@code dev.tfo}, not API: they may change in any release, and nothing outside this library
 * should use them.
 *
 * <ul>
 *   <li>{@link dev.tfo.internal.Procfs} reads {@code /proc/sys/net/ipv4/tcp_fastopen} and the
 *       {@code TcpExt} counters of {@code /proc/net/netstat}, live;</li>
 *   <li>{@link dev.tfo.internal.TcpInfo} reads and decodes the TFO fields of the kernel's
 *       {@code tcp_info};</li>
 *   <li>{@link dev.tfo.internal.Transport} tells a channel's transport (epoll, io_uring, other) and what
 *       Netty decided about TFO for it.</li>
 *   <li>{@link dev.tfo.internal.NettyVersion} checks once that the Netty on the class path is 4.1.76.Final or
 *       later; {@link dev.tfo.internal.TcpOptions} holds the kernel's TFO options a bootstrap carries.</li>
 *   <li>{@link dev.tfo.internal.SocketOps} (its one implementation {@link dev.tfo.internal.NativeSocketOps}) is
 *       the few socket calls the client handler makes itself: {@code TCP_FASTOPEN_CONNECT}, a deferred
 *       connect's SYN (its first {@code write(2)}, or {@code sendto(MSG_FASTOPEN)} without data), {@code tcp_info};
 *       tests replace it.</li>
 *   <li>{@link dev.tfo.internal.ReplaySafePrefix} finds how much of a first write is safe to replay (a TLS
 *       ClientHello, an HTTP {@code GET}).</li>
 *   <li>{@link dev.tfo.internal.BoundedLru} is the bounded, least-recently-used map behind the per-destination
 *       memories.</li>
 * </ul>
 *
 * <p>The channel handlers that carry a first flight are not here: they are package-private in
 * {@code dev.tfo}.
 */
package dev.tfo.internal;
