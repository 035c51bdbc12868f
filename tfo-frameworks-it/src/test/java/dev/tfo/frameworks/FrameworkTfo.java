package dev.tfo.frameworks;

import io.grpc.netty.NettyChannelBuilder;
import io.lettuce.core.resource.NettyCustomizer;
import io.netty.bootstrap.Bootstrap;
import dev.tfo.TfoBootstraps;
import dev.tfo.TfoChannels;
import dev.tfo.TfoClientOptions;
import dev.tfo.TfoSynDataPolicy;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

import java.nio.charset.StandardCharsets;

/**
 * The ONE place where the tests of this module configure a framework's client for TCP Fast Open. Every
 * method body is a recipe of the README section "Recipes per framework", copied verbatim (checked by
 * {@link ReadmeRecipesTest}); the tests add only their probes and witnesses on top.
 */
final class FrameworkTfo {
    private FrameworkTfo() {
    }

    /** README "Reactor Netty HttpClient": a client that opens a new connection per request. */
    static HttpClient reactorNettyClient() {
        HttpClient client = HttpClient.create(ConnectionProvider.newConnection())
                .doOnChannelInit((observer, channel, address) -> TfoChannels.client(channel));
        return client;
    }

    /** README "gRPC-java (grpc-netty)": the channel builder, before {@code build()}. */
    static NettyChannelBuilder grpc(NettyChannelBuilder builder, ChannelFactory<? extends Channel> channels) {
        builder.channelFactory(TfoChannels.clientFactory(channels));
        return builder;
    }

    /** README "Lettuce": the customizer handed to {@code ClientResources.builder().nettyCustomizer(..)}. */
    static NettyCustomizer lettuce() {
        TfoSynDataPolicy helloOnly = first -> first.toString(StandardCharsets.US_ASCII)
                .startsWith("*2\r\n$5\r\nHELLO\r\n") ? first.readableBytes() : 0;
        TfoClientOptions options = TfoClientOptions.builder().synDataPolicy(helloOnly).build();
        NettyCustomizer tfo = new NettyCustomizer() {
            @Override
            public void afterChannelInitialized(Channel channel) {
                TfoChannels.client(channel, options);
            }
        };
        return tfo;
    }

    /** README "Plain Netty": a {@code Bootstrap} for an epoll (or io_uring) channel, its handler set. */
    static Bootstrap plainNetty(Bootstrap bootstrap) {
        TfoBootstraps.client(bootstrap);
        return bootstrap;
    }
}
