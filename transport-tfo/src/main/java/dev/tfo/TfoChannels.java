package dev.tfo;

import dev.tfo.internal.NettyVersion;
import dev.tfo.internal.SocketOps;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.socket.SocketChannel;

import static java.util.Objects.requireNonNull;

/**
 * TCP Fast Open for client channels: a channel factory for a Netty {@code Bootstrap} or a framework that takes
 * one, or a call on a channel that a framework lets you see when it is initialised. Such clients connect first
 * and write later; from the second connection to a server on (once the kernel holds a cookie) their first
 * write rides in the SYN. Nothing else of the bootstrap changes, and the order of its setters does not matter.
 *
 * <p>Netty:
 * <pre>{@code
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
 * <p>What the handler installed here guarantees, on epoll and io_uring: the connection's {@link TfoResult};
 * a handshake bounded by {@code CONNECT_TIMEOUT_MILLIS} from its SYN; a refused, reset or silent server
 * failing the connection with an exception that names it; the {@link TfoBackoff} consulted and taught; only
 * bytes the {@link TfoSynDataPolicy} admits in the SYN (by default nothing that is not known to be safe to
 * replay); a handshake without data when nothing is written within {@link TfoClientOptions.Builder#firstWriteWait},
 * so that clients that read first never hang. On other transports, on kernels without
 * {@code TCP_FASTOPEN_CONNECT} (before Linux 4.11) or with the client bit of {@code net.ipv4.tcp_fastopen}
 * off, the connection is a plain one and its result says why ({@link TfoOutcome#NOT_ATTEMPTED}).
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
        return new ChannelFactory<C>() {
            @Override
            public C newChannel() {
                C channel = factory.newChannel();
                try {
                    if (FirstFlightConnector.makingFirstFlightChannel()) {
                        // TfoBootstraps.connect makes this channel: its gate carries the first flight from the start.
                        Gates.installForFirstFlight(channel, options, SocketOps.NATIVE);
                    } else {
                        Gates.install(channel, options, SocketOps.NATIVE);
                    }
                } catch (RuntimeException e) {
                    channel.unsafe().closeForcibly();
                    throw e;
                }
                return channel;
            }

            @Override
            public String toString() {
                return "TfoChannels.clientFactory(" + factory + ", " + options + ')';
            }
        };
    }
}
