package dev.tfo;

import dev.tfo.internal.NettyVersion;
import dev.tfo.internal.SocketOps;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;

import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * TCP Fast Open for Netty channels, on both sides: where servers and clients get it. A server takes a channel
 * factory ({@link #serverFactory}) whose listeners accept data in the SYN; a client takes a channel factory
 * ({@link #clientFactory}) for a Netty {@code Bootstrap} or a framework that takes one, or a call
 * ({@link #client}) on a channel that a framework lets you see when it is initialised. Nothing else of the
 * bootstrap changes, and the order of its setters does not matter: the factory configures each channel as it
 * makes it.
 *
 * <p>Netty, server and client (clients connect first and write later; from the second connection to a server
 * on, once the kernel holds a cookie, their first write rides in the SYN):
 * <pre>{@code
 * TfoKeyRing keys = TfoKeyRing.watch(Path.of("/run/secrets/tfo/key"));
 * ServerBootstrap sb = new ServerBootstrap().group(boss, workers)
 *         .channelFactory(TfoChannels.serverFactory(EpollServerSocketChannel::new,
 *                 TfoServerOptions.builder().queueLength(256).keys(keys).build()))
 *         .childHandler(new MyServerHandler());
 * sb.bind(443).sync();
 *
 * Bootstrap b = new Bootstrap().group(group)
 *         .channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new))
 *         .handler(new MyHandler());
 * }</pre>
 *
 * <p>Reactor Netty ({@code HttpClient}, Spring {@code WebClient}):
 * <pre>{@code
 * HttpClient client = HttpClient.create()
 *         .doOnChannelInit((observer, channel, address) -> TfoChannels.client(channel));
 * }</pre>
 *
 * <p>gRPC-java ({@code grpc-netty}), whose channel factory is the hook:
 * <pre>{@code
 * ManagedChannel grpc = NettyChannelBuilder.forAddress(host, port)
 *         .eventLoopGroup(epollGroup)
 *         .channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new))
 *         .usePlaintext()
 *         .build();
 * }</pre>
 *
 * <p>Lettuce ({@code NettyCustomizer}):
 * <pre>{@code
 * ClientResources resources = ClientResources.builder().nettyCustomizer(new NettyCustomizer() {
 *     public void afterChannelInitialized(Channel channel) {
 *         TfoChannels.client(channel, TfoClientOptions.builder().synDataPolicy(helloOnly).build());
 *     }
 * }).build();
 * }</pre>
 *
 * <p>What a listener from {@link #serverFactory} gets, on epoll and io_uring: its TFO queue, following the live
 * {@code net.ipv4.tcp_fastopen}; its own keys from a {@link TfoKeyRing}, rotated live; cookie-less mode if asked;
 * a {@link TfoResultListener} told every accepted connection's result. On NIO it accepts no data in a SYN (a
 * warning says so) and its result listener is still told every connection ({@link TfoOutcome#NO_SYN_DATA}).
 *
 * <p>What the handler installed in a client guarantees, on epoll and io_uring: the connection's {@link TfoResult};
 * a handshake bounded by {@code CONNECT_TIMEOUT_MILLIS} from its SYN; a refused, reset or silent server
 * failing the connection with an exception that names it; the {@link TfoBackoff} consulted and taught; only
 * bytes the {@link TfoSynDataPolicy} admits in the SYN (by default nothing that is not known to be safe to
 * replay); a handshake without data when nothing is written within {@link TfoClientOptions.Builder#firstWriteWait},
 * so that clients that read first never hang. On other transports, on kernels without
 * {@code TCP_FASTOPEN_CONNECT} (before Linux 4.11) or with the client bit of {@code net.ipv4.tcp_fastopen}
 * off, the connection is a plain one and its result says why ({@link TfoOutcome#NOT_ATTEMPTED}). A client that
 * sends a first flight as it connects uses {@link TfoBootstraps#connect TfoBootstraps.connect}.
 *
 * <p>Needs Netty 4.1.76.Final or later (every 4.2 release): on an older Netty every method here throws an
 * {@link IllegalStateException} naming the version found and the version needed.
 */
public final class TfoChannels {
    /**
     * The name of the TFO handler in a client pipeline. It is first (nearest the transport) so that it sees
     * the bytes exactly as they leave; a handler that must see what the application wrote before the TFO
     * handler holds it goes after it.
     *
     * <pre>{@code
     * channel.pipeline().addAfter(TfoChannels.HANDLER_NAME, "my-logger", new LoggingHandler());
     * }</pre>
     */
    public static final String HANDLER_NAME = SynGate.NAME;

    private TfoChannels() {
    }

    /**
     * A channel factory whose listeners accept data in the SYN, set up with {@code options}: for a
     * {@code ServerBootstrap}, in place of {@code channel(...)}. Each channel it makes is configured at once,
     * before any bootstrap sees it: on epoll and io_uring its TFO queue ({@code TCP_FASTOPEN}, set as the raw
     * socket option so that it follows the live {@code net.ipv4.tcp_fastopen}) and cookie-less mode; its keys,
     * set when it registers (with a fresh option buffer per listener) and rotated live through the
     * {@link TfoKeyRing}; and on every transport the {@link TfoResultListener}, told the result of every
     * accepted connection. The bootstrap's own parent {@code handler(...)} and options are kept, set before or
     * after; its handler sees each accepted connection after the result listener was told.
     *
     * <p>If the kernel refuses the keys, the bind fails with a {@code ChannelException} naming the listener
     * (never the key). On a transport without TFO (NIO) it logs a warning and leaves the queue, keys and
     * cookie-less mode unset; the result listener is still told every accepted connection
     * ({@link TfoOutcome#NO_SYN_DATA}). Warnings (no TFO on the transport, the server bit of
     * {@code net.ipv4.tcp_fastopen} off, a queue longer than {@code net.core.somaxconn}) are logged once per
     * process.
     *
     * <pre>{@code
     * TfoKeyRing keys = TfoKeyRing.watch(Path.of("/run/secrets/tfo/key"));
     * new ServerBootstrap().group(boss, workers)
     *         .channelFactory(TfoChannels.serverFactory(EpollServerSocketChannel::new,
     *                 TfoServerOptions.builder().queueLength(256).keys(keys).build()))
     *         .childHandler(new MyServerHandler())
     *         .bind(443).sync();
     * }</pre>
     *
     * @param factory makes the TCP server channels, e.g. {@code EpollServerSocketChannel::new}
     * @param options the options
     * @param <C>     the channel type
     * @return a factory that sets up each listener it makes for TFO; it throws {@link IllegalArgumentException}
     *         (closing the channel) when {@code factory} makes a channel that is not a TCP
     *         {@link ServerSocketChannel}, which a {@code ServerBootstrap} turns into a failed bind
     * @throws NullPointerException when an argument is {@code null}
     */
    public static <C extends ServerChannel> ChannelFactory<C> serverFactory(ChannelFactory<C> factory,
                                                                           TfoServerOptions options) {
        requireNonNull(factory, "factory");
        requireNonNull(options, "options");
        NettyVersion.requireSupported();
        return configuring(factory, channel -> ServerChannels.configure(channel, options),
                "TfoChannels.serverFactory(" + factory + ", " + options + ')');
    }

    /**
     * Enables TFO on a client channel that has not connected yet, with {@link TfoClientOptions#defaults()}.
     *
     * <pre>{@code
     * HttpClient.create().doOnChannelInit((observer, channel, address) -> TfoChannels.client(channel));
     * }</pre>
     *
     * @param channel a TCP client channel, before its connect (e.g. in {@code initChannel})
     * @return {@code channel}
     * @throws IllegalArgumentException when the channel is not a TCP {@link SocketChannel}
     * @throws IllegalStateException    when the channel is already connected
     */
    public static Channel client(Channel channel) {
        return client(channel, TfoClientOptions.defaults());
    }

    /**
     * Enables TFO on a client channel that has not connected yet: puts the TFO handler first in its pipeline.
     * Calling it again on the same channel changes nothing.
     *
     * <pre>{@code
     * TfoChannels.client(channel, TfoClientOptions.builder().backoff(myBackoff).build());
     * }</pre>
     *
     * @param channel a TCP client channel, before its connect (e.g. in {@code initChannel})
     * @param options the options
     * @return {@code channel}
     * @throws IllegalArgumentException when the channel is not a TCP {@link SocketChannel}
     * @throws IllegalStateException    when the channel is already connected
     */
    public static Channel client(Channel channel, TfoClientOptions options) {
        requireNonNull(channel, "channel");
        requireNonNull(options, "options");
        NettyVersion.requireSupported();
        Gates.install(channel, options, SocketOps.NATIVE);
        return channel;
    }

    /**
     * A channel factory whose channels have TFO enabled, with {@link TfoClientOptions#defaults()}: for
     * frameworks that take a factory, such as gRPC's {@code NettyChannelBuilder.channelFactory}.
     *
     * <pre>{@code
     * builder.channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new));
     * }</pre>
     *
     * @param factory makes the TCP client channels
     * @param <C>     the channel type
     * @return a factory that enables TFO on each channel it makes
     */
    public static <C extends Channel> ChannelFactory<C> clientFactory(ChannelFactory<C> factory) {
        return clientFactory(factory, TfoClientOptions.defaults());
    }

    /**
     * A channel factory whose channels have TFO enabled with {@code options}.
     *
     * <pre>{@code
     * builder.channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new, options));
     * }</pre>
     *
     * @param factory makes the TCP client channels
     * @param options the options
     * @param <C>     the channel type
     * @return a factory that enables TFO on each channel it makes; it throws
     *         {@link IllegalArgumentException} when {@code factory} makes a channel that is not TCP
     */
    public static <C extends Channel> ChannelFactory<C> clientFactory(ChannelFactory<C> factory,
                                                                     TfoClientOptions options) {
        requireNonNull(factory, "factory");
        requireNonNull(options, "options");
        NettyVersion.requireSupported();
        return configuring(factory, channel -> {
            if (FirstFlightConnector.makingFirstFlightChannel()) {
                // TfoBootstraps.connect makes this channel: its gate carries the first flight from the start.
                Gates.installForFirstFlight(channel, options, SocketOps.NATIVE);
            } else {
                Gates.install(channel, options, SocketOps.NATIVE);
            }
        }, "TfoChannels.clientFactory(" + factory + ", " + options + ')');
    }

    /** A factory whose every channel {@code setUp} configures as it is made; one it refuses is closed, never leaked. */
    private static <C extends Channel> ChannelFactory<C> configuring(ChannelFactory<C> factory,
                                                                   Consumer<? super C> setUp, String name) {
        return new ChannelFactory<C>() {
            @Override
            public C newChannel() {
                C channel = factory.newChannel();
                try {
                    setUp.accept(channel);
                } catch (RuntimeException e) {
                    channel.unsafe().closeForcibly();
                    throw e;
                }
                return channel;
            }

            @Override
            public String toString() {
                return name;
            }
        };
    }
}
