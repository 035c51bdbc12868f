package dev.tfo.internal;

import io.netty.channel.ChannelOption;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.channel.unix.RawUnixChannelOption;

import java.nio.ByteBuffer;

/**
 * The kernel's TFO socket options this library sets on listeners, as Netty channel options.
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

    /**
     * {@code setsockopt(IPPROTO_TCP, TCP_FASTOPEN_KEY=33)} with a primary key only (16 bytes; Netty checks the
     * length), Linux 4.10+.
     */
    public static final ChannelOption<ByteBuffer> FASTOPEN_KEY = new RawUnixChannelOption("TCP_FASTOPEN_KEY", 6, 33, 16);
    /** {@code setsockopt(IPPROTO_TCP, TCP_FASTOPEN_KEY=33)} with primary and backup keys (32 bytes), Linux 5.8+. */
    public static final ChannelOption<ByteBuffer> FASTOPEN_KEYS = new RawUnixChannelOption("TCP_FASTOPEN_KEY", 6, 33, 32);

    private TcpOptions() {
    }
}
