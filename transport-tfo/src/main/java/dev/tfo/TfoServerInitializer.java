package dev.tfo;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPromise;

import java.net.SocketAddress;

/**
 * Replaces a {@code ServerBootstrap}'s (parent) handler: puts a {@link KeyGuard} first in every listener's
 * pipeline, then the user's own handler (if any). The guard sets the ring's keys when the listener
 * registers (a fresh option buffer per listener) and fails the bind if the kernel refused them.
 */
@ChannelHandler.Sharable
final class TfoServerInitializer extends ChannelInitializer<Channel> {
    private final ChannelHandler userHandler;
    private final TfoKeyRing keys;

    TfoServerInitializer(ChannelHandler userHandler, TfoKeyRing keys) {
        this.userHandler = userHandler;
        this.keys = keys;
    }

    ChannelHandler userHandler() {
        return userHandler;
    }

    @Override
    protected void initChannel(Channel ch) {
        ch.pipeline().addLast(new KeyGuard(keys));
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
}
