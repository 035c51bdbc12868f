package dev.tfo;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;

/**
 * Replaces a client {@code Bootstrap}'s handler: puts a {@link FirstFlightGate} nearest the head of every
 * channel's pipeline, then the user's own handler. Marks a bootstrap as configured by
 * {@link TfoBootstraps#client}, and carries its {@link TfoClientOptions}.
 */
@ChannelHandler.Sharable
final class TfoClientInitializer extends ChannelInitializer<Channel> {
    private final ChannelHandler userHandler;
    private final TfoClientOptions options;

    TfoClientInitializer(ChannelHandler userHandler) {
        this(userHandler, TfoClientOptions.defaults());
    }

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
        ch.pipeline().addLast(new FirstFlightGate());
        ch.pipeline().addLast(userHandler);
    }
}
