package dev.tfo.internal;

import io.netty.channel.ChannelOption;
import io.netty.channel.unix.IntegerUnixChannelOption;

/**
 * The kernel's TFO socket options a bootstrap carries, as Netty channel options.
 *
 * <p>Typed {@link ChannelOption} on purpose: a class that only reads these fields never names
 * {@code IntegerUnixChannelOption} (Netty 4.1.76+), so it still loads on an older Netty and can fail
 * there with {@link NettyVersion}'s message instead of a {@code NoClassDefFoundError}.
 */
public final class TcpOptions {
    /**
     * {@code setsockopt(IPPROTO_TCP, TCP_FASTOPEN=23)}: the listener's TFO queue, set on the socket whatever
     * Netty read from {@code net.ipv4.tcp_fastopen} when it initialised (Netty's own {@code TCP_FASTOPEN} is
     * silently skipped when the server bit was off then, even if it is on now).
     */
    public static final ChannelOption<Integer> FASTOPEN_QUEUE = new IntegerUnixChannelOption("TCP_FASTOPEN", 6, 23);
    /** {@code setsockopt(IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE=34)}, Linux 4.15+. */
    public static final ChannelOption<Integer> NO_COOKIE = new IntegerUnixChannelOption("TCP_FASTOPEN_NO_COOKIE", 6, 34);

    private TcpOptions() {
    }
}
