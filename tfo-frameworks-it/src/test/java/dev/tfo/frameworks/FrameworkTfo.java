package dev.tfo.frameworks;

import io.grpc.netty.NettyChannelBuilder;
import io.lettuce.core.resource.NettyCustomizer;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.unix.IntegerUnixChannelOption;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * The ONE place where the tests of this module configure a framework's client for TCP Fast Open. Every
 * method body is a recipe of the README section "Recipes per framework", copied verbatim (checked by
 * {@link ReadmeRecipesTest}); the tests add only their probes and witnesses on top.
 *
 * <p>For now every recipe sets the kernel's raw {@code TCP_FASTOPEN_CONNECT} (level 6, option 30, Linux >= 4.11)
 * through the framework's own option hook. TODO(library-api): replace each body (and its README recipe) with
 * the library's connect-then-write handler once it lands; the tests then flip their TODO(replay-policy) and
 * TODO(read-first) assertions.
 */
final class FrameworkTfo {
    private FrameworkTfo() {
    }

    /** README "Reactor Netty HttpClient": a client that opens a new connection per request. */
    static HttpClient reactorNettyClient() {
        ChannelOption<Integer> tcpFastopenConnect = new IntegerUnixChannelOption("TCP_FASTOPEN_CONNECT", 6, 30);
        HttpClient client = HttpClient.create(ConnectionProvider.newConnection())
                .option(tcpFastopenConnect, 1);
        return client;
    }

    /** README "gRPC-java (grpc-netty)": the channel builder, before {@code build()}. */
    static NettyChannelBuilder grpc(NettyChannelBuilder builder) {
        ChannelOption<Integer> tcpFastopenConnect = new IntegerUnixChannelOption("TCP_FASTOPEN_CONNECT", 6, 30);
        builder.withOption(tcpFastopenConnect, 1);
        return builder;
    }

    /** README "Lettuce": the customizer handed to {@code ClientResources.builder().nettyCustomizer(..)}. */
    static NettyCustomizer lettuce() {
        ChannelOption<Integer> tcpFastopenConnect = new IntegerUnixChannelOption("TCP_FASTOPEN_CONNECT", 6, 30);
        NettyCustomizer tfo = new NettyCustomizer() {
            @Override
            public void afterBootstrapInitialized(Bootstrap bootstrap) {
                bootstrap.option(tcpFastopenConnect, 1);
            }
        };
        return tfo;
    }

    /** README "Plain Netty": a {@code Bootstrap} for an epoll (or io_uring) channel. */
    static Bootstrap plainNetty(Bootstrap bootstrap) {
        ChannelOption<Integer> tcpFastopenConnect = new IntegerUnixChannelOption("TCP_FASTOPEN_CONNECT", 6, 30);
        bootstrap.option(tcpFastopenConnect, 1);
        return bootstrap;
    }
}
