package dev.tfo.grpc;

import dev.tfo.TfoChannels;
import dev.tfo.TfoClientOptions;
import io.grpc.MethodDescriptor;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;

import java.util.Arrays;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * gRPC-java over TCP Fast Open in one round trip: a call on a new channel rides in the SYN with the HTTP/2 preface,
 * and its answer comes one round trip after the SYN, when its method is safe to replay.
 *
 * <p>Data in a SYN may be delivered twice, and before the handshake proves the client's address (RFC 7413): only a
 * call whose method is safe to replay may ride, that is a unary or server-streaming method that is
 * {@link MethodDescriptor#isSafe() safe} or {@link MethodDescriptor#isIdempotent() idempotent} (protobuf's
 * {@code option idempotency_level}), or whose full name the application lists. Every other call, and every call
 * while one of those is in flight, goes exactly as with {@link TfoChannels#clientFactory}: after the server's
 * SETTINGS. Before the server's SETTINGS arrive at most one call rides, with a header list of at most 1024 bytes
 * (RFC 9113 section 6.5.2); a larger one waits for them.
 *
 * <p>Supported: unshaded {@code grpc-netty} 1.85 on Netty 4.2, plaintext ({@code usePlaintext()}; with TLS the
 * ClientHello rides, as with the plain recipe). With another grpc-netty version this configures the plain recipe
 * only (the call waits for the server's SETTINGS, two round trips with TFO).
 *
 * <pre>{@code
 * ManagedChannel channel = TfoGrpc.configure(NettyChannelBuilder.forAddress(host, port).usePlaintext()
 *         .eventLoopGroup(epollGroup), EpollSocketChannel::new).build();
 * }</pre>
 */
public final class TfoGrpc {
    /** The grpc-netty releases whose first-SETTINGS behaviour the tests pin (its major.minor). */
    static final String SUPPORTED = "1.85";

    private TfoGrpc() {
    }

    /**
     * Configures {@code builder} with {@link TfoClientOptions#defaults()}: see {@link #configure(NettyChannelBuilder,
     * ChannelFactory, TfoClientOptions, String...)}.
     *
     * @param builder           the channel builder, its epoll (or io_uring) event loop group set
     * @param channels          makes its channels, e.g. {@code EpollSocketChannel::new}
     * @param replaySafeMethods full method names ({@code "package.Service/Method"}) that may ride although their
     *                          descriptor does not say they are safe or idempotent
     * @return {@code builder}
     */
    public static NettyChannelBuilder configure(NettyChannelBuilder builder,
            ChannelFactory<? extends Channel> channels, String... replaySafeMethods) {
        return configure(builder, channels, TfoClientOptions.defaults(), replaySafeMethods);
    }

    /**
     * Gives {@code builder} TCP Fast Open channels ({@link TfoChannels#clientFactory(ChannelFactory,
     * TfoClientOptions)}) that send a replay-safe call with the HTTP/2 preface, and an interceptor that tells which
     * calls are; call it before adding interceptors of your own that add headers. The options' SYN data policy
     * still decides the connection-level bytes; the one riding call is admitted on top of it.
     *
     * <pre>{@code
     * TfoGrpc.configure(builder, EpollSocketChannel::new, options, "tfo.Echo/Echo");
     * }</pre>
     *
     * @param builder           the channel builder, its epoll (or io_uring) event loop group set
     * @param channels          makes its channels, e.g. {@code EpollSocketChannel::new}
     * @param options           the TFO options (backoff, result listener, base SYN data policy)
     * @param replaySafeMethods full method names ({@code "package.Service/Method"}) that may ride although their
     *                          descriptor does not say they are safe or idempotent
     * @return {@code builder}
     */
    public static NettyChannelBuilder configure(NettyChannelBuilder builder,
            ChannelFactory<? extends Channel> channels, TfoClientOptions options, String... replaySafeMethods) {
        requireNonNull(builder, "builder");
        requireNonNull(channels, "channels");
        requireNonNull(options, "options");
        requireNonNull(replaySafeMethods, "replaySafeMethods");
        if (!supported(NettyChannelBuilder.class.getPackage().getImplementationVersion())) {
            builder.channelFactory(TfoChannels.clientFactory(channels, options)); // the plain recipe
            return builder;
        }
        EarlyCalls calls = new EarlyCalls(Set.copyOf(Arrays.asList(replaySafeMethods)));
        TfoClientOptions withCall = options.toBuilder()
                .synDataPolicy(new EarlyFlightPolicy(options.synDataPolicy(), calls)).build();
        ChannelFactory<Channel> early = () -> {
            Channel channel = channels.newChannel();
            channel.pipeline().addFirst(EarlyCallHandler.NAME, new EarlyCallHandler(calls));
            return channel;
        };
        builder.channelFactory(TfoChannels.clientFactory(early, withCall));
        builder.intercept(calls);
        return builder;
    }

    /** Whether {@code grpcVersion} (grpc-netty's manifest) is a release whose behaviour the tests pin. */
    static boolean supported(String grpcVersion) {
        return grpcVersion != null && (grpcVersion.equals(SUPPORTED) || grpcVersion.startsWith(SUPPORTED + "."));
    }
}
