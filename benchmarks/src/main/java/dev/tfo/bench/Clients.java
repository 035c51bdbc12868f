package dev.tfo.bench;

import dev.tfo.TfoChannels;
import dev.tfo.TfoBootstraps;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;

import dev.tfo.TfoClientOptions;

import java.net.SocketAddress;

/**
 * The client side of the {@link Variant}s, built once per target, with the SAME application handler
 * ({@link ResponseReader}) and the same request buffer in each, so that only the way of connecting differs.
 *
 * <p>A connection ends when the whole response has been read: the reader stamps {@link #DONE_AT}
 * ({@code System.nanoTime()}, on the event loop) and closes the channel; callers wait for the close future.
 */
final class Clients {
    /** When the last byte of the response was read ({@code System.nanoTime()}). */
    static final AttributeKey<Long> DONE_AT = AttributeKey.valueOf(Clients.class, "doneAt");
    /** Plain variant only: when the connect future succeeded (the handshake's RTT). */
    static final AttributeKey<Long> CONNECTED_AT = AttributeKey.valueOf(Clients.class, "connectedAt");
    /** The kernel's smoothed RTT ({@code tcpi_rtt}, microseconds) when the response was in; set when asked. */
    static final AttributeKey<Long> KERNEL_RTT = AttributeKey.valueOf(Clients.class, "kernelRtt");

    /** The kernel's own {@code TCP_FASTOPEN_CONNECT} ({@code setsockopt(IPPROTO_TCP, 30, 1)}), set raw. */
    static final IntegerUnixChannelOption KERNEL_FASTOPEN_CONNECT =
            new IntegerUnixChannelOption("TCP_FASTOPEN_CONNECT", 6, 30);

    final ByteBuf request;
    final Bootstrap plain;
    final Bootstrap hand;
    /** Channels from {@code TfoChannels.clientFactory}: both library variants (first flight and connect-then-write) use it. */
    final Bootstrap helper;
    final Bootstrap handCtw;
    private final ChannelFutureListener writeRequest;

    /**
     * @param group         the client event loop group (epoll)
     * @param requestBytes  request size
     * @param responseBytes response size
     * @param helperOptions the options of the helper's channel factory ({@link TfoChannels#clientFactory}), or
     *                      {@code null} for the defaults (what an application gets without choosing)
     */
    Clients(EventLoopGroup group, int requestBytes, int responseBytes, TfoClientOptions helperOptions) {
        this(group, requestBytes, responseBytes, helperOptions, false);
    }

    /**
     * @param kernelRtt also record {@link #KERNEL_RTT} (one getsockopt per connection, in every variant)
     */
    Clients(EventLoopGroup group, int requestBytes, int responseBytes, TfoClientOptions helperOptions,
            boolean kernelRtt) {
        this.request = Unpooled.unreleasableBuffer(
                Unpooled.directBuffer(requestBytes).writeBytes(Payloads.request(requestBytes)));
        ChannelHandler reader = new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new ResponseReader(responseBytes, kernelRtt));
            }
        };
        ByteBuf req = request;
        ChannelHandler handInit = new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new ResponseReader(responseBytes, kernelRtt));
                // The first flight: written (never flushed) before the connect; Netty sends it with MSG_FASTOPEN.
                ch.write(req.duplicate()).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
            }
        };
        Bootstrap base = new Bootstrap()
                .group(group)
                .channel(EpollSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 30_000);
        this.plain = base.clone().handler(reader);
        this.hand = base.clone().option(ChannelOption.TCP_FASTOPEN_CONNECT, true).handler(handInit);
        this.helper = new Bootstrap()
                .group(group)
                .channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new,
                        helperOptions == null ? TfoClientOptions.defaults() : helperOptions))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 30_000)
                .handler(reader);
        this.handCtw = base.clone().option(KERNEL_FASTOPEN_CONNECT, 1).handler(reader);
        this.writeRequest = f -> {
            if (f.isSuccess()) {
                f.channel().attr(CONNECTED_AT).set(System.nanoTime());
                f.channel().writeAndFlush(req.duplicate()).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
            }
        };
    }

    /** Flushes the first flight once the connect future succeeded (hand-written TFO). */
    static final ChannelFutureListener FLUSH = f -> {
        if (f.isSuccess()) {
            f.channel().flush();
        }
    };

    /** Starts a plain connection; the returned future is the connect's. */
    ChannelFuture plain(SocketAddress server) {
        return plain.connect(server).addListener(writeRequest);
    }

    /** Starts a hand-written TFO connection; the returned future is the connect's. */
    ChannelFuture hand(SocketAddress server) {
        return hand.connect(server).addListener(FLUSH);
    }

    /** Starts a TfoBootstraps connection. */
    Future<Channel> helper(SocketAddress server) {
        return TfoBootstraps.connect(helper, server, request.duplicate());
    }

    /**
     * Starts a connect-then-write connection ({@link Variant#connectThenWrite()}): connect, then
     * {@code writeAndFlush(request)} on the event loop once the connect future succeeded. The returned future
     * is the connect's.
     */
    ChannelFuture connectThenWrite(Variant v, SocketAddress server) {
        return bootstrap(v).connect(server).addListener(writeRequest);
    }

    /** The bootstrap of a variant. */
    Bootstrap bootstrap(Variant v) {
        switch (v) {
            case PLAIN:
                return plain;
            case HAND_TFO:
                return hand;
            case HAND_CTW:
                return handCtw;
            default:
                return helper;
        }
    }

    /** Reads the fixed-size response, stamps {@link #DONE_AT}, closes. */
    static final class ResponseReader extends ChannelInboundHandlerAdapter {
        private final boolean kernelRtt;
        private int remaining;

        ResponseReader(int responseBytes, boolean kernelRtt) {
            this.remaining = responseBytes;
            this.kernelRtt = kernelRtt;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            boolean done = remaining > 0 && (remaining -= in.readableBytes()) <= 0;
            in.release();
            if (done) {
                ctx.channel().attr(DONE_AT).set(System.nanoTime());
                if (kernelRtt && ctx.channel() instanceof EpollSocketChannel) {
                    ctx.channel().attr(KERNEL_RTT).set(((EpollSocketChannel) ctx.channel()).tcpInfo().rtt());
                }
                ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
