package dev.tfo.frameworks;

import io.grpc.netty.NettyChannelBuilder;
import io.lettuce.core.resource.NettyCustomizer;
import io.netty.bootstrap.Bootstrap;
import dev.tfo.TfoChannels;
import dev.tfo.TfoClientOptions;
import dev.tfo.TfoSynDataPolicy;
import dev.tfo.grpc.TfoGrpc;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.epoll.EpollSocketChannel;
import io.vertx.core.transport.Transport;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;

/**
 * The ONE place where the tests of this module configure a framework's client for TCP Fast Open. Every
 * method marked {@code Recipe "..."} holds, verbatim, the recipe of that heading in docs/frameworks.md (checked by
 * {@link ReadmeRecipesTest}). The tests add only their probes and witnesses on top.
 */
final class FrameworkTfo {
    private FrameworkTfo() {
    }

    /** Recipe "Reactor Netty HttpClient": a client that opens a new connection per request. */
    static HttpClient reactorNettyClient() {
        HttpClient client = HttpClient.create(ConnectionProvider.newConnection())
                .doOnChannelInit((observer, channel, address) -> TfoChannels.client(channel));
        return client;
    }

    /** Recipe "gRPC-java (grpc-netty)": the channel builder, before {@code build()}. */
    static NettyChannelBuilder grpc(NettyChannelBuilder builder, ChannelFactory<? extends Channel> channels) {
        builder.channelFactory(TfoChannels.clientFactory(channels));
        return builder;
    }

    /**
     * Recipe "gRPC-java in one round trip (transport-tfo-grpc)": the channel builder, before {@code build()}; a
     * replay-safe call rides in the SYN.
     */
    static NettyChannelBuilder grpcOneRoundTrip(NettyChannelBuilder builder,
            ChannelFactory<? extends Channel> channels) {
        TfoGrpc.configure(builder, channels);
        return builder;
    }

    /** Recipe "Lettuce": the customizer handed to {@code ClientResources.builder().nettyCustomizer(..)}. */
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

    /** Recipe "Plain Netty": a {@code Bootstrap}, its channels from an epoll (or io_uring) channel's constructor. */
    static Bootstrap plainNetty(Bootstrap bootstrap) {
        bootstrap.channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new));
        return bootstrap;
    }

    /**
     * Recipe "Vert.x 5": the transport handed to {@code Vertx.builder().withTransport(..)}. It is
     * Vert.x's own native transport ({@code Transport.EPOLL} or {@code Transport.IO_URING}) with one change: its
     * TCP client channels come from {@code TfoChannels.clientFactory}. Every other method of the transport SPI
     * (servers, UDP, domain sockets, event loops, socket options), present or added by a later Vert.x, is the
     * wrapped transport's own: a proxy forwards it. Public API and SPI only. Vert.x's DNS resolver makes its TCP
     * channels (the fallback for truncated answers) with the same {@code channelFactory(false)}: they get the TFO
     * handler too, and its default policy keeps a DNS query out of the SYN.
     */
    static Transport vertx(Transport nativeTransport) {
        io.vertx.core.spi.transport.Transport theirs = nativeTransport.implementation();
        ChannelFactory<? extends Channel> tcpClients = TfoChannels.clientFactory(theirs.channelFactory(false));
        InvocationHandler tfo = (proxy, method, args) -> {
            if (method.getName().equals("channelFactory") && Boolean.FALSE.equals(args[0])) {
                return tcpClients; // channelFactory(domainSocket = false)
            }
            try {
                return method.invoke(theirs, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        io.vertx.core.spi.transport.Transport spi = (io.vertx.core.spi.transport.Transport) Proxy.newProxyInstance(
                Transport.class.getClassLoader(), new Class<?>[] {io.vertx.core.spi.transport.Transport.class}, tfo);
        return new Transport() {
            @Override public String name() { return nativeTransport.name(); }
            @Override public boolean available() { return nativeTransport.available(); }
            @Override public Throwable unavailabilityCause() { return nativeTransport.unavailabilityCause(); }
            @Override public io.vertx.core.spi.transport.Transport implementation() { return spi; }
        };
    }
}
