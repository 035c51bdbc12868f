package dev.tfo;

import dev.tfo.internal.NettyVersion;
import dev.tfo.internal.Procfs;
import dev.tfo.internal.TcpOptions;
import dev.tfo.internal.Transport;
import io.netty.bootstrap.AbstractBootstrap;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.bootstrap.ChannelFactory;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.net.SocketAddress;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static java.util.Objects.requireNonNull;

/**
 * The entry points for Netty bootstraps: a server that accepts data in the SYN, and a connect whose first flight
 * of data rides in the SYN. A client that connects, then writes (Netty's usual pattern) gets its channels from
 * {@link TfoChannels#clientFactory TfoChannels.clientFactory} instead.
 *
 * <pre>{@code
 * // server: a TFO queue of 256 pending SYN-data connections
 * ServerBootstrap sb = new ServerBootstrap()
 *         .group(group).channel(EpollServerSocketChannel.class).childHandler(new EchoHandler());
 * TfoBootstraps.server(sb, TfoServerOptions.defaults()).bind(2222).sync();
 *
 * // client, connect then write: from the 2nd connection on the request rides in the SYN
 * Bootstrap b = new Bootstrap().group(group)
 *         .channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new))
 *         .handler(new ReplyHandler());
 * Channel ch = b.connect(server).sync().channel();
 * ch.writeAndFlush(Unpooled.wrappedBuffer(getRequest));
 * TfoResult.of(ch).addListener(r -> log.info("{}", r.getNow()));   // SYN_DATA_ACKED (the SYN carried ...)
 *
 * // client, first flight: the future completes once the handshake is over and the bytes are written
 * TfoBootstraps.connect(b, server, Unpooled.wrappedBuffer(request))
 *         .addListener(f -> TfoResult.of((Channel) f.getNow()).addListener(r -> log.info("{}", r.getNow())));
 * }</pre>
 *
 * <p>Works on Netty's epoll and io_uring transports (whichever the bootstrap's channel class uses), on Netty
 * 4.1 and 4.2. On NIO, kqueue, a kernel without client TFO, or with no cookie cached yet, the same bytes are
 * delivered by a plain connect and write; {@link TfoResult} says which happened and why.
 *
 * <p>Needs Netty 4.1.76.Final or later (every 4.2 release): on an older Netty every method here throws an
 * {@link IllegalStateException} naming the version found and the version needed.
 *
 * <p>Data in a SYN may be delivered twice and is processed before the handshake completes (RFC 7413, section
 * 6). A first flight given to {@link #connect} always rides in the SYN: it must be idempotent. A client from
 * {@link TfoChannels} lets only what its {@link TfoSynDataPolicy} admits ride (by default bytes known to be safe
 * to replay: a TLS ClientHello, an HTTP {@code GET}).
 */
public final class TfoBootstraps {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(TfoBootstraps.class);
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    private TfoBootstraps() {
    }

    /** Sets the TFO queue where the transport knows the option (elsewhere Netty would log it per bind). */
    private static ServerBootstrap enableServer(ServerBootstrap serverBootstrap, int queueLength, Class<?> type) {
        Transport transport = Transport.ofClass(type);
        warnIfIgnored(transport, type, queueLength);
        return transport.isNative() ? serverBootstrap.option(TcpOptions.FASTOPEN_QUEUE, queueLength) : serverBootstrap;
    }

    private static Class<?> serverChannelClass(ServerBootstrap serverBootstrap) {
        Class<?> type = probeChannelClass(serverBootstrap, "serverBootstrap");
        if (!ServerSocketChannel.class.isAssignableFrom(type)) {
            throw new IllegalArgumentException("serverBootstrap: channel " + type.getName()
                    + " is not a TCP ServerSocketChannel");
        }
        return type;
    }

    /**
     * Enables TFO on a server with options: the queue length, the listener's own keys (set on each listener
     * with a fresh option buffer when it registers, rotated live through the {@link TfoKeyRing}), cookie-less
     * mode, and a {@link TfoResultListener} told the result of every accepted connection. The bootstrap's own parent {@code handler(...)} is kept (call this after setting it).
     * If the kernel refuses the keys, the bind fails with a {@code ChannelException} naming the listener
     * (never the key). On a transport without TFO (NIO) logs a warning and leaves keys and cookie-less mode
     * unset; the result listener is still told every accepted connection ({@link TfoOutcome#NO_SYN_DATA}).
     *
     * <pre>{@code
     * TfoKeyRing keys = TfoKeyRing.watch(Path.of("/run/secrets/tfo/key"));
     * TfoBootstraps.server(sb, TfoServerOptions.builder().queueLength(256).keys(keys).build()).bind(443).sync();
     * }</pre>
     *
     * @param serverBootstrap a bootstrap whose channel (or channel factory) is set to a TCP server channel
     * @param options         the options
     * @return {@code serverBootstrap}
     * @throws IllegalArgumentException when the channel is not a TCP server socket
     * @throws IllegalStateException    when no channel or channel factory is set
     */
    public static ServerBootstrap server(ServerBootstrap serverBootstrap, TfoServerOptions options) {
        requireNonNull(serverBootstrap, "serverBootstrap");
        requireNonNull(options, "options");
        NettyVersion.requireSupported();
        Class<?> type = serverChannelClass(serverBootstrap);
        enableServer(serverBootstrap, options.queueLength(), type);
        boolean nativeTfo = Transport.ofClass(type).isNative();
        if (nativeTfo) {
            serverBootstrap.option(TcpOptions.NO_COOKIE, options.noCookie() ? 1 : null);
        }
        ChannelHandler current = serverBootstrap.config().handler();
        ChannelHandler user = current instanceof TfoServerInitializer
                ? ((TfoServerInitializer) current).userHandler() : current;
        // Keys and cookie-less mode need a native listener; the result listener is told on every transport.
        TfoKeyRing keys = nativeTfo ? options.keys().orElse(null) : null;
        TfoResultListener listener = options.resultListener().orElse(null);
        if (keys != null || listener != null) {
            serverBootstrap.handler(new TfoServerInitializer(user, keys, listener));
        } else if (current instanceof TfoServerInitializer) {
            serverBootstrap.handler(user);
        }
        return serverBootstrap;
    }

    /**
     * Connects and sends {@code firstFlight}, in the SYN whenever the kernel has a cookie for the server.
     *
     * <p>The returned future succeeds with the channel once the handshake is over and the first flight has
     * been written to the socket; {@link TfoResult#of(Channel)} is then already decided. It fails when the
     * connect fails, when the connection is refused or reset even after the data left in the SYN, or when the
     * handshake does not end within {@code CONNECT_TIMEOUT_MILLIS} of its SYN; the channel is then closed.
     * Cancelling it closes the channel, at any moment.
     *
     * <p>Any client bootstrap works, with no per-call cost: the options are those of its channel factory when
     * it is a {@link TfoChannels#clientFactory TfoChannels.clientFactory}, else {@link TfoClientOptions#defaults()}. Their {@link TfoBackoff} is consulted first: while it backs off
     * from the destination, the connection is a plain connect with the same bytes and its {@link TfoResult}
     * is {@link TfoOutcome#NOT_ATTEMPTED} with the backoff as reason. Every outcome is then recorded into it.
     * The {@link TfoSynDataPolicy} does not apply: the caller vouches that the first flight is safe to replay.
     *
     * <p>Ownership of {@code firstFlight} passes to this method: it is released exactly once, on success
     * and on every failure (including invalid arguments), except when it is {@code null} or already released.
     *
     * <pre>{@code
     * TfoBootstraps.connect(bootstrap, server, Unpooled.wrappedBuffer(request)).sync();
     * }</pre>
     *
     * @param bootstrap     a client bootstrap with group, channel (or channel factory) and handler set
     * @param remoteAddress the server
     * @param firstFlight   the first bytes to send, not empty; e.g. a request, or with TLS any application data
     * @return a future of the connected channel
     * @throws NullPointerException     when an argument is {@code null}
     * @throws IllegalArgumentException when {@code firstFlight} is empty or released, or the channel is not TCP
     * @throws IllegalStateException    when the bootstrap lacks its group, channel or handler
     */
    public static Future<Channel> connect(Bootstrap bootstrap, SocketAddress remoteAddress, ByteBuf firstFlight) {
        requireNonNull(firstFlight, "firstFlight");
        if (firstFlight.refCnt() == 0) {
            throw new IllegalArgumentException("firstFlight: already released");
        }
        try {
            requireNonNull(bootstrap, "bootstrap");
            requireNonNull(remoteAddress, "remoteAddress");
            NettyVersion.requireSupported();
            if (!firstFlight.isReadable()) {
                throw new IllegalArgumentException("firstFlight: empty (nothing to send in the SYN)");
            }
        } catch (RuntimeException e) {
            ReferenceCountUtil.safeRelease(firstFlight);
            throw e;
        }
        return FirstFlightConnector.connect(bootstrap, remoteAddress, firstFlight, TfoClientOptions.defaults());
    }

    /** The class of the bootstrap's channels, from a throwaway channel (closed before returning). */
    private static Class<?> probeChannelClass(AbstractBootstrap<?, ?> bootstrap, String name) {
        @SuppressWarnings("deprecation")
        ChannelFactory<?> factory = bootstrap.config().channelFactory();
        if (factory == null) {
            throw new IllegalStateException(name + ": channel or channelFactory not set");
        }
        Channel probe = factory.newChannel();
        try {
            return probe.getClass();
        } finally {
            probe.unsafe().closeForcibly();
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
}
