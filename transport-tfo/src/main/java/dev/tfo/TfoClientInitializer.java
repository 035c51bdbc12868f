package dev.tfo;

import dev.tfo.internal.SocketOps;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;

/**
 * The handler {@link TfoBootstraps#client} gives a client {@code Bootstrap}: puts a {@link SynGate} first in
 * every channel's pipeline, then the user's own handler. Carries the bootstrap's {@link TfoClientOptions}.
 */
@ChannelHandler.Sharable
final class TfoClientInitializer extends ChannelInitializer<Channel> {
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

    @Override
    protected void initChannel(Channel ch) {
        TfoChannels.install(ch, options, SocketOps.NATIVE);
        ch.pipeline().addLast(userHandler);
    }
}
