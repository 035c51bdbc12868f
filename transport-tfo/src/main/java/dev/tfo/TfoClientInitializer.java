package dev.tfo;

import dev.tfo.internal.SocketOps;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;

/**
 * The handler {@link TfoBootstraps#client} gives a client {@code Bootstrap}: when added to a channel's pipeline
 * it puts a {@link SynGate} first and replaces itself with the user's own handler. Carries the bootstrap's
 * {@link TfoClientOptions}. (Not a {@code ChannelInitializer}: that one keeps a map entry per channel it
 * initialises, which a client opening many connections need not pay.)
 */
@ChannelHandler.Sharable
final class TfoClientInitializer extends ChannelHandlerAdapter {
    private final ChannelHandler userHandler;
    private final TfoClientOptions options;

    TfoClientInitializer(ChannelHandler userHandler, TfoClientOptions options) {
        this.userHandler = userHandler;
        this.options = options;
    }

    ChannelHandler userHandler() {
        return userHandler;
    }

    TfoClientOptions options() {
        return options;
    }

    /** Called once the channel is registered (Netty defers it until then): install, then step aside. */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        try {
            SynGate.install(ctx.channel(), options, SocketOps.NATIVE);
            ctx.pipeline().replace(this, null, userHandler);
        } catch (RuntimeException e) {
            // A channel that is not TCP, or a non-@Sharable handler used for a second connection: without TFO
            // Netty fails the channel's registration; here it is registered already, so its connect fails.
            ctx.pipeline().replace(this, null, new SetupFailure(e));
        }
    }

    /** Fails the connect of a channel that could not be set up, with the cause, and closes it. */
    private static final class SetupFailure extends io.netty.channel.ChannelOutboundHandlerAdapter {
        private final RuntimeException cause;

        SetupFailure(RuntimeException cause) {
            this.cause = cause;
        }

        @Override
        public void connect(ChannelHandlerContext ctx, java.net.SocketAddress remote, java.net.SocketAddress local,
                            io.netty.channel.ChannelPromise promise) {
            promise.setFailure(cause);
            ctx.close();
        }
    }
}
