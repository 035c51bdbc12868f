package dev.tfo.internal;

import io.netty.channel.Channel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;

/** The Netty transport behind a channel, and what Netty decided about TFO when that transport initialised. */
public enum Transport {
    /** {@code EpollSocketChannel} / {@code EpollServerSocketChannel}. */
    EPOLL("epoll"),
    /** {@code IoUringSocketChannel} / {@code IoUringServerSocketChannel}. */
    IO_URING("io_uring"),
    /** Any other transport (NIO, kqueue, local, embedded): TFO is never used. */
    OTHER("other");

    private final String displayName;

    Transport(String displayName) {
        this.displayName = displayName;
    }

    /** Detects the transport of a channel from its class. */
    public static Transport of(Channel channel) {
        return ofClass(channel.getClass());
    }

    /** Detects the transport from a channel class. */
    public static Transport ofClass(Class<?> type) {
        if (EpollSocketChannel.class.isAssignableFrom(type) || EpollServerSocketChannel.class.isAssignableFrom(type)) {
            return EPOLL;
        }
        if (IoUringSocketChannel.class.isAssignableFrom(type)
                || IoUringServerSocketChannel.class.isAssignableFrom(type)) {
            return IO_URING;
        }
        return OTHER;
    }

    /** Whether this transport can carry data in a SYN and report {@code tcp_info}. */
    public boolean isNative() {
        return this != OTHER;
    }

    /** What Netty decided at class initialisation: will it send data in the SYN on a client channel? */
    public boolean nettyClientTfo() {
        switch (this) {
            case EPOLL:
                return Epoll.isTcpFastOpenClientSideAvailable();
            case IO_URING:
                return IoUring.isTcpFastOpenClientSideAvailable();
            default:
                return false;
        }
    }

    /** What Netty decided at class initialisation: will it apply {@code TCP_FASTOPEN} on a listener? */
    public boolean nettyServerTfo() {
        switch (this) {
            case EPOLL:
                return Epoll.isTcpFastOpenServerSideAvailable();
            case IO_URING:
                return IoUring.isTcpFastOpenServerSideAvailable();
            default:
                return false;
        }
    }

    /** The transport's name as users write it ({@code epoll}, {@code io_uring}, {@code other}). */
    public String displayName() {
        return displayName;
    }
}
