package dev.tfo;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPromise;

import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.net.SocketAddress;

/**
 * Replaces a {@code ServerBootstrap}'s (parent) handler: puts a {@link KeyGuard} (when there are keys) and an
 * {@link AcceptedResults} (when there is a result listener) first in every listener's pipeline, then the
 * user's own handler (if any). The guard sets the ring's keys when the listener registers (a fresh option
 * buffer per listener) and fails the bind if the kernel refused them; the other tells the listener the
 * {@link TfoResult} of every accepted connection.
 */
@ChannelHandler.Sharable
final class TfoServerInitializer extends ChannelInitializer<Channel> {
    private final ChannelHandler userHandler;
    private final TfoKeyRing keys;
    private final TfoResultListener resultListener;

    TfoServerInitializer(ChannelHandler userHandler, TfoKeyRing keys, TfoResultListener resultListener) {
        this.userHandler = userHandler;
        this.keys = keys;
        this.resultListener = resultListener;
    }

    ChannelHandler userHandler() {
        return userHandler;
    }

    @Override
    protected void initChannel(Channel ch) {
        if (keys != null) {
            ch.pipeline().addLast(new KeyGuard(keys));
        }
        if (resultListener != null) {
            ch.pipeline().addLast(new AcceptedResults(resultListener));
        }
        if (userHandler != null) {
            ch.pipeline().addLast(userHandler);
        }
    }

    /** Applies the keys at registration; fails the bind when that failed. */
    static final class KeyGuard extends ChannelDuplexHandler {
        private final TfoKeyRing keys;
        private RuntimeException failure;

        KeyGuard(TfoKeyRing keys) {
            this.keys = keys;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            try {
                keys.attach(ctx.channel());
            } catch (RuntimeException e) {
                failure = e;
            }
        }

        @Override
        public void bind(ChannelHandlerContext ctx, SocketAddress localAddress, ChannelPromise promise) {
            if (failure != null) {
                promise.setFailure(failure);
                ctx.close();
                return;
            }
            ctx.bind(localAddress, promise);
        }
    }

    /**
     * Sees each accepted child channel on its way to the {@code ServerBootstrap}'s acceptor (which the
     * bootstrap puts after the parent handler) and tells the listener its result, decided from
     * {@code tcp_info} at once.
     */
    static final class AcceptedResults extends ChannelInboundHandlerAdapter {
        private static final InternalLogger logger = InternalLoggerFactory.getInstance(AcceptedResults.class);
        private final TfoResultListener listener;

        AcceptedResults(TfoResultListener listener) {
            this.listener = listener;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Channel) {
                Channel child = (Channel) msg;
                try {
                    listener.onResult(child, TfoResult.server(child));
                } catch (RuntimeException e) {
                    logger.warn("TfoResultListener {} threw", listener, e);
                }
            }
            ctx.fireChannelRead(msg);
        }
    }
}
