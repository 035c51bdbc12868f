package dev.tfo;

import dev.tfo.internal.Procfs;
import dev.tfo.internal.TcpOptions;
import dev.tfo.internal.Transport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.net.SocketAddress;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Configures a server channel for TFO, as {@link TfoChannels#serverFactory} makes it: before it is registered,
 * before any bootstrap has seen it.
 *
 * <p>On a native transport: the TFO queue ({@code TCP_FASTOPEN}, as a raw socket option, so that it follows the
 * live {@code net.ipv4.tcp_fastopen} and not what Netty read at its start), cookie-less mode, and a
 * {@link KeyGuard} when there are keys. On every transport: an {@link AcceptedResults} when there is a result
 * listener. The handlers go into the channel's pipeline now; a {@code ServerBootstrap} adds its own (the
 * user's parent handler, then its acceptor) after them when it initialises the channel, so that they see every
 * accepted child first, whatever the order of the bootstrap's setters.
 *
 * <p>Warns, once per process and each under the {@link TfoChannels} logger, when the option will be ignored:
 * a transport without TFO (NIO), a sysctl without the server bit, a queue longer than {@code somaxconn}.
 */
final class ServerChannels {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(TfoChannels.class);
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    /** The name of the {@link KeyGuard} in a listener's pipeline. */
    static final String KEYS_NAME = "tfo-keys";
    /** The name of the {@link AcceptedResults} in a listener's pipeline. */
    static final String RESULTS_NAME = "tfo-results";

    private ServerChannels() {
    }

    /**
     * Configures a server channel that is not registered yet. The caller closes it if this throws.
     *
     * @throws IllegalArgumentException when the channel is not a TCP {@link ServerSocketChannel}
     */
    static void configure(Channel channel, TfoServerOptions options) {
        if (!(channel instanceof ServerSocketChannel)) {
            throw new IllegalArgumentException("factory: made " + channel.getClass().getName()
                    + ", not a TCP ServerSocketChannel");
        }
        Transport transport = Transport.of(channel);
        warnIfIgnored(transport, channel.getClass(), options.queueLength());
        if (transport.isNative()) {
            setOption(channel, TcpOptions.FASTOPEN_QUEUE, options.queueLength());
            if (options.noCookie()) {
                setOption(channel, TcpOptions.NO_COOKIE, 1);
            }
            // Keys need a native listener; the result listener is told on every transport.
            options.keys().ifPresent(keys -> channel.pipeline().addLast(KEYS_NAME, new KeyGuard(keys)));
        }
        options.resultListener().ifPresent(listener ->
                channel.pipeline().addLast(RESULTS_NAME, new AcceptedResults(listener)));
    }

    /** As a bootstrap sets its options: a socket option the kernel refuses is logged, not thrown. */
    private static <T> void setOption(Channel channel, ChannelOption<T> option, T value) {
        try {
            if (!channel.config().setOption(option, value)) {
                logger.warn("Unknown channel option '{}' for channel '{}'", option, channel);
            }
        } catch (RuntimeException e) {
            logger.warn("Failed to set channel option '{}' with value '{}' for channel '{}'", option, value,
                    channel, e);
        }
    }

    private static void warnIfIgnored(Transport transport, Class<?> type, int queueLength) {
        if (!transport.isNative()) {
            warnOnce("transport:" + type.getName(), "TCP_FASTOPEN is ignored: " + type.getSimpleName()
                    + " cannot accept data in a SYN; use EpollServerSocketChannel or IoUringServerSocketChannel");
        } else {
            OptionalInt live = Procfs.readInt(Procfs.TCP_FASTOPEN);
            if (live.isPresent() && (live.getAsInt() & TfoSupport.SERVER) == 0) {
                warnOnce("sysctl:" + live.getAsInt(), "TFO listeners accept no data in a SYN while "
                        + "net.ipv4.tcp_fastopen=" + live.getAsInt() + " lacks the server bit 0x2 (takes effect "
                        + "as soon as it is set, no restart needed). Fix: " + TfoSupport.FIX);
            }
        }
        OptionalInt somaxconn = Procfs.readInt(Procfs.SOMAXCONN);
        if (somaxconn.isPresent() && queueLength > somaxconn.getAsInt()) {
            warnOnce("somaxconn:" + queueLength, "TFO queueLength " + queueLength + " exceeds net.core.somaxconn="
                    + somaxconn.getAsInt() + ": the kernel caps the queue at " + somaxconn.getAsInt());
        }
    }

    private static void warnOnce(String key, String message) {
        if (WARNED.add(key)) {
            logger.warn(message);
        }
    }

    /**
     * Applies the keys when the listener registers (a fresh option buffer per listener); fails the bind when
     * the kernel refused them, with the ring's message (which names the listener, never a key).
     */
    static final class KeyGuard extends ChannelDuplexHandler {
        private final TfoKeyRing keys;
        private RuntimeException failure;

        KeyGuard(TfoKeyRing keys) {
            this.keys = keys;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            try {
                keys.attach(ctx.channel());
            } catch (RuntimeException e) {
                failure = e;
            }
        }

        @Override
        public void bind(ChannelHandlerContext ctx, SocketAddress localAddress, ChannelPromise promise) {
            if (failure != null) {
                promise.setFailure(failure);
                ctx.close();
                return;
            }
            ctx.bind(localAddress, promise);
        }
    }

    /**
     * Sees each accepted child channel on its way to the {@code ServerBootstrap}'s acceptor (which the
     * bootstrap puts after it) and tells the listener its result, decided from {@code tcp_info} at once.
     */
    static final class AcceptedResults extends ChannelInboundHandlerAdapter {
        private final TfoResultListener listener;

        AcceptedResults(TfoResultListener listener) {
            this.listener = listener;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Channel) {
                Channel child = (Channel) msg;
                try {
                    listener.onResult(child, TfoResult.server(child));
                } catch (RuntimeException e) {
                    logger.warn("TfoResultListener {} threw", listener, e);
                }
            }
            ctx.fireChannelRead(msg);
        }
    }
}
