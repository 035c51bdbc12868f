package dev.tfo;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.BootstrapConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelOption;
import io.netty.util.AttributeKey;

/** The tests' one-liner for a TFO client bootstrap: its channel factory wrapped by {@link TfoChannels}. */
public final class TfoTestClients {
    private TfoTestClients() {
    }

    /** {@code bootstrap}, its channels from {@link TfoChannels#clientFactory} with the default options. */
    public static Bootstrap tfo(Bootstrap bootstrap) {
        return tfo(bootstrap, TfoClientOptions.defaults());
    }

    /**
     * A copy of {@code bootstrap} (group, handler, options, attributes) whose channels come from
     * {@link TfoChannels#clientFactory} over the bootstrap's own channel factory, with {@code options}: Netty sets
     * a bootstrap's channel factory once.
     */
    @SuppressWarnings({"unchecked", "rawtypes", "deprecation"})
    public static Bootstrap tfo(Bootstrap bootstrap, TfoClientOptions options) {
        BootstrapConfig config = bootstrap.config();
        io.netty.bootstrap.ChannelFactory<? extends Channel> channels = config.channelFactory();
        ChannelFactory<Channel> plain = channels::newChannel;
        Bootstrap copy = new Bootstrap().group(config.group()).handler(config.handler())
                .channelFactory(TfoChannels.clientFactory(plain, options));
        config.options().forEach((option, value) -> copy.option((ChannelOption) option, value));
        config.attrs().forEach((key, value) -> copy.attr((AttributeKey) key, value));
        return copy;
    }
}
