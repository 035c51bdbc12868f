package dev.tfo.example.echo;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;

import java.util.Locale;

/**
 * The Netty transports the example can run on. TFO needs a native one ({@link #EPOLL} or {@link #IO_URING});
 * on {@link #NIO} the same bytes are delivered without it, and the outcome says so.
 */
public enum NettyTransport {
    /** Linux epoll: TFO client and server. */
    EPOLL,
    /** Linux io_uring: TFO client and server. */
    IO_URING,
    /** Java NIO: portable, never TFO. */
    NIO;

    /** The best available: epoll, else io_uring, else NIO. */
    public static NettyTransport best() {
        return Epoll.isAvailable() ? EPOLL : IoUring.isAvailable() ? IO_URING : NIO;
    }

    /** Why this transport cannot be used here, or {@code null} when it can. */
    public Throwable unavailabilityCause() {
        switch (this) {
            case EPOLL:
                return Epoll.unavailabilityCause();
            case IO_URING:
                return IoUring.unavailabilityCause();
            default:
                return null;
        }
    }

    /** A new event loop group of {@code threads} threads for this transport. */
    public EventLoopGroup newGroup(int threads) {
        IoHandlerFactory factory;
        switch (this) {
            case EPOLL:
                factory = EpollIoHandler.newFactory();
                break;
            case IO_URING:
                factory = IoUringIoHandler.newFactory();
                break;
            default:
                factory = NioIoHandler.newFactory();
        }
        return new MultiThreadIoEventLoopGroup(threads, factory);
    }

    /** The client channel class. */
    public Class<? extends Channel> socketChannel() {
        switch (this) {
            case EPOLL:
                return EpollSocketChannel.class;
            case IO_URING:
                return IoUringSocketChannel.class;
            default:
                return NioSocketChannel.class;
        }
    }

    /** The server channel class. */
    public Class<? extends ServerChannel> serverChannel() {
        switch (this) {
            case EPOLL:
                return EpollServerSocketChannel.class;
            case IO_URING:
                return IoUringServerSocketChannel.class;
            default:
                return NioServerSocketChannel.class;
        }
    }

    /** The name as written on the command line: {@code epoll}, {@code io_uring}, {@code nio}. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
