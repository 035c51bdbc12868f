package dev.tfo.example.echo;

import dev.tfo.TfoChannels;
import dev.tfo.TfoResult;
import dev.tfo.TfoResultListener;
import dev.tfo.TfoServerOptions;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ReflectiveChannelFactory;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP Fast Open echo server: every byte received is written back. Logs, for each accepted connection,
 * whether its SYN carried data ({@code SYN_DATA_ACCEPTED}) or not ({@code NO_SYN_DATA}).
 *
 * <pre>{@code
 * try (EchoServer server = EchoServer.start(group, NettyTransport.EPOLL, new InetSocketAddress(2222), System.out)) {
 *     server.closeFuture().syncUninterruptibly();
 * }
 * }</pre>
 */
public final class EchoServer implements AutoCloseable {
    /** The listener's queue of pending connections whose SYN carried data (the kernel caps it at somaxconn). */
    public static final int TFO_QUEUE_LENGTH = 256;

    private final Channel channel;
    private final AtomicInteger accepted;
    private final PrintStream log;

    private EchoServer(Channel channel, AtomicInteger accepted, PrintStream log) {
        this.channel = channel;
        this.accepted = accepted;
        this.log = log;
    }

    /**
     * Binds a TFO-enabled echo server.
     *
     * @param group     the event loops (of {@code transport})
     * @param transport the transport, whose server channel is used
     * @param address   where to listen; port 0 picks a free port (see {@link #localAddress()})
     * @param log       where the per-connection lines go
     * @throws EchoException when the address cannot be bound (e.g. the port is in use)
     */
    public static EchoServer start(EventLoopGroup group, NettyTransport transport, InetSocketAddress address,
                                   PrintStream log) throws EchoException {
        return start(group, transport, address, log, null);
    }

    /**
     * Binds a TFO-enabled echo server whose accepted connections' results also go to {@code results} (e.g. a
     * {@link dev.tfo.micrometer.TfoMetrics}).
     *
     * @param group     the event loops (of {@code transport})
     * @param transport the transport, whose server channel is used
     * @param address   where to listen; port 0 picks a free port (see {@link #localAddress()})
     * @param log       where the per-connection lines go
     * @param results   told the result of every accepted connection, or {@code null}
     * @throws EchoException when the address cannot be bound (e.g. the port is in use)
     */
    public static EchoServer start(EventLoopGroup group, NettyTransport transport, InetSocketAddress address,
                                   PrintStream log, TfoResultListener results) throws EchoException {
        AtomicInteger accepted = new AtomicInteger();
        TfoServerOptions.Builder options = TfoServerOptions.builder().queueLength(TFO_QUEUE_LENGTH);
        if (results != null) {
            options.resultListener(results);
        }
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channelFactory(TfoChannels.serverFactory(new ReflectiveChannelFactory<>(transport.serverChannel()),
                        options.build()))
                .childHandler(new EchoHandler(accepted, log));
        ChannelFuture bind = bootstrap.bind(address).awaitUninterruptibly();
        if (!bind.isSuccess()) {
            throw new EchoException("cannot listen on " + Main.hostPort(address) + ": "
                    + EchoException.describe(bind.cause()), bind.cause());
        }
        EchoServer server = new EchoServer(bind.channel(), accepted, log);
        log.println("server: listening on " + Main.hostPort(server.localAddress()) + " (" + transport
                + ", TFO queue " + TFO_QUEUE_LENGTH + ")");
        return server;
    }

    /** The bound address (with the real port when 0 was asked). */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** Completes when the listener is closed. */
    public ChannelFuture closeFuture() {
        return channel.closeFuture();
    }

    /** How many connections were accepted so far. */
    public int accepted() {
        return accepted.get();
    }

    /** Stops listening (connections being served finish on their own) and logs the total. Idempotent. */
    @Override
    public void close() {
        if (channel.isOpen()) {
            channel.close().syncUninterruptibly();
            log.println("server: stopped after " + accepted.get() + " connection(s)");
        }
    }

    /** Echoes bytes back and logs each connection's TFO outcome when it is accepted. */
    @Sharable
    private static final class EchoHandler extends ChannelInboundHandlerAdapter {
        private final AtomicInteger accepted;
        private final PrintStream log;

        EchoHandler(AtomicInteger accepted, PrintStream log) {
            this.accepted = accepted;
            this.log = log;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            // On an accepted channel the result is known at once: tcp_info says whether the SYN carried data.
            TfoResult tfo = TfoResult.of(ctx.channel()).getNow();
            log.println("server: connection " + accepted.incrementAndGet() + " from "
                    + Main.hostPort((InetSocketAddress) ctx.channel().remoteAddress()) + ": " + tfo);
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg); // the buffer is released once written
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.println("server: connection from " + Main.hostPort((InetSocketAddress) ctx.channel().remoteAddress())
                    + " failed: " + EchoException.describe(cause));
            ctx.close();
        }
    }
}
