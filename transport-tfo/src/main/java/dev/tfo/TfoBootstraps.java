package dev.tfo;

import dev.tfo.internal.Procfs;
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
import io.netty.channel.unix.IntegerUnixChannelOption;
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
 * The entry point: configures Netty bootstraps for TCP Fast Open and connects with a first flight of data
 * that rides in the SYN.
 *
 * <p>{@code
 * // server: a TFO queue of 256 pending SYN-data connections
 * ServerBootstrap sb = new ServerBootstrap()
 *         .group(group).channel(EpollServerSocketChannel.class).childHandler(new EchoHandler());
 * TfoBootstraps.server(sb, 256).bind(2222).sync();
 *
 * // client: the request is the first flight; with a cached cookie it travels in the SYN
 * Bootstrap b = new Bootstrap().group(group).channel(EpollSocketChannel.class).handler(new ReplyHandler());
 * TfoBootstraps.client(b);
 * TfoBootstraps.connect(b, new InetSocketAddress("198.18.0.1", 2222), Unpooled.wrappedBuffer(request))
 *         .addListener(f -> TfoResult.of((Channel) f.getNow()).addListener(r -> log.info("{}", r.getNow())));
 * }
 *
 * <p>Works on Netty's epoll and io_uring transports (whichever the bootstrap's channel class uses). On NIO,
 * kqueue, a kernel without client TFO, or with no cookie cached yet, the same bytes are delivered by a
 * plain connect and write; {@link TfoResult} says which happened and why.
 *
 * <p><b>The rule for writing a first flight yourself</b> (on a bootstrap passed to {@link #client}):
 * {@code write()} it before the connect (in {@code initChannel}, or right after {@code register()}), never
 * {@code writeAndFlush()}; flush in {@code channelActive} or once the connect future succeeds. The handler
 * installed by {@link #client} holds back any earlier flush, which would otherwise fail the write (and on
 * io_uring send freed memory). With an {@code SslHandler} in the pipeline the ClientHello becomes the first
 * flight.
 *
 * <p>Data in a SYN may be delivered twice and is processed before the handshake completes: first flights
 * must be idempotent (RFC 7413, section 6).
 */
public final class TfoBootstraps {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(TfoBootstraps.class);
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();
    /** {@code setsockopt(IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE=34)}. */
    static final IntegerUnixChannelOption NO_COOKIE = new IntegerUnixChannelOption("TCP_FASTOPEN_NO_COOKIE", 6, 34);

    private TfoBootstraps() {
    }

    /**
     * Enables TFO on a server: sets {@link ChannelOption#TCP_FASTOPEN} (the listener's queue of pending
     * SYN-data connections) as a parent option. When the kernel or the transport would silently ignore it,
     * logs one warning naming the fix (once per JVM per cause).
     *
     * @param serverBootstrap a bootstrap whose channel (or channel factory) is set to a TCP server channel
     * @param queueLength     the TFO queue length, &gt; 0; the kernel caps it at {@code net.core.somaxconn}
     * @return {@code serverBootstrap}
     * @throws IllegalArgumentException when {@code queueLength <= 0} or the channel is not a TCP server socket
     * @throws IllegalStateException    when no channel or channel factory is set
     */
    public static ServerBootstrap server(ServerBootstrap serverBootstrap, int queueLength) {
        requireNonNull(serverBootstrap, "serverBootstrap");
        if (queueLength <= 0) {
            throw new IllegalArgumentException("queueLength must be > 0, was " + queueLength);
        }
        return enableServer(serverBootstrap, queueLength, serverChannelClass(serverBootstrap));
    }

    /** Sets TCP_FASTOPEN where the transport knows it (elsewhere Netty would log an unknown option per bind). */
    private static ServerBootstrap enableServer(ServerBootstrap serverBootstrap, int queueLength, Class<?> type) {
        Transport transport = Transport.ofClass(type);
        warnIfIgnored(transport, type, queueLength);
        return transport.isNative() ? serverBootstrap.option(ChannelOption.TCP_FASTOPEN, queueLength) : serverBootstrap;
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
     * with a fresh option buffer when it registers, rotated live through the {@link TfoKeyRing}) and
     * cookie-less mode. The bootstrap's own parent {@code handler(...)} is kept (call this after setting it).
     * If the kernel refuses the keys, the bind fails with a {@code ChannelException} naming the listener
     * (never the key). On a transport without TFO (NIO) logs a warning and leaves keys and cookie-less mode
     * unset.
     *
     * <p>{@code
     * TfoKeyRing keys = TfoKeyRing.watch(Path.of("/run/secrets/tfo/key"));
     * TfoBootstraps.server(sb, TfoServerOptions.builder().queueLength(256).keys(keys).build()).bind(443).sync();
     * }
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
        Class<?> type = serverChannelClass(serverBootstrap);
        enableServer(serverBootstrap, options.queueLength(), type);
        if (!Transport.ofClass(type).isNative()) {
            return serverBootstrap;
        }
        serverBootstrap.option(NO_COOKIE, options.noCookie() ? 1 : null);
        ChannelHandler current = serverBootstrap.config().handler();
        ChannelHandler user = current instanceof TfoServerInitializer
                ? ((TfoServerInitializer) current).userHandler() : current;
        if (options.keys().isPresent()) {
            serverBootstrap.handler(new TfoServerInitializer(user, options.keys().get()));
        } else if (current instanceof TfoServerInitializer) {
            serverBootstrap.handler(user);
        }
        return serverBootstrap;
    }

    /**
     * Enables TFO on a client bootstrap: sets {@link ChannelOption#TCP_FASTOPEN_CONNECT} and puts the
     * first-flight handler nearest the head of each channel's pipeline, before the bootstrap's own handler
     * (so call it after {@code handler(...)}). Idempotent.
     *
     * @param bootstrap a bootstrap with group, channel and handler set; its channel must be a TCP socket
     * @return {@code bootstrap}
     * @throws IllegalArgumentException when the channel is not a TCP {@link SocketChannel}
     * @throws IllegalStateException    when the group, channel or handler is not set
     */
    public static Bootstrap client(Bootstrap bootstrap) {
        requireNonNull(bootstrap, "bootstrap");
        if (isConfigured(bootstrap)) {
            return bootstrap;
        }
        return client(bootstrap, TfoClientOptions.defaults());
    }

    /**
     * Enables TFO on a client bootstrap with options: the {@link TfoBackoff} that {@link #connect} consults
     * and teaches, and cookie-less mode ({@code TCP_FASTOPEN_NO_COOKIE}, see
     * {@link TfoClientOptions.Builder#noCookie}). Otherwise like {@link #client(Bootstrap)}; calling it again
     * replaces the options.
     *
     * <p>{@code
     * TfoBootstraps.client(bootstrap, TfoClientOptions.builder().backoff(TfoBackoff.disabled()).build());
     * }
     *
     * @param bootstrap a bootstrap with group, channel and handler set; its channel must be a TCP socket
     * @param options   the options
     * @return {@code bootstrap}
     * @throws IllegalArgumentException when the channel is not a TCP {@link SocketChannel}
     * @throws IllegalStateException    when the group, channel or handler is not set
     */
    public static Bootstrap client(Bootstrap bootstrap, TfoClientOptions options) {
        requireNonNull(bootstrap, "bootstrap");
        requireNonNull(options, "options");
        if (bootstrap.config().group() == null) {
            throw new IllegalStateException("bootstrap: group not set");
        }
        ChannelHandler handler = bootstrap.config().handler();
        if (handler instanceof TfoClientInitializer) {
            handler = ((TfoClientInitializer) handler).userHandler();
        }
        if (handler == null) {
            throw new IllegalStateException("bootstrap: handler not set (set it before TfoBootstraps.client)");
        }
        Class<?> type = probeChannelClass(bootstrap, "bootstrap");
        if (!SocketChannel.class.isAssignableFrom(type)) {
            throw new IllegalArgumentException("bootstrap: channel " + type.getName() + " is not a TCP SocketChannel");
        }
        if (Transport.ofClass(type).isNative()) {
            // Only where the transport knows the options: elsewhere Netty would log an unknown option per connect.
            bootstrap.option(NO_COOKIE, options.noCookie() ? 1 : null);
            bootstrap.option(ChannelOption.TCP_FASTOPEN_CONNECT, true);
        }
        return bootstrap.handler(new TfoClientInitializer(handler, options));
    }

    /**
     * Connects and sends {@code firstFlight}, in the SYN whenever the kernel has a cookie for the server.
     *
     * <p>The returned future succeeds with the channel once the handshake is over and the first flight has
     * been written to the socket; {@link TfoResult#of(Channel)} is then already decided. It fails when the
     * connect fails, when the connection is refused or reset even after the data left in the SYN (with a
     * cookie, Netty's own connect future succeeds before the SYN-ACK), or when the handshake does not end
     * within {@code CONNECT_TIMEOUT_MILLIS}; the channel is then closed. If the kernel refuses data in the
     * SYN because {@code net.ipv4.tcp_fastopen} was turned off after Netty initialised, the same bytes are
     * sent again by a plain connect.
     *
     * <p>The bootstrap's {@link TfoBackoff} (see {@link TfoClientOptions}) is consulted first: while it backs
     * off from the destination, the connection is a plain connect with the same bytes and its
     * {@link TfoResult} is {@link TfoOutcome#NOT_ATTEMPTED} with the backoff as reason. Every outcome is then
     * recorded into it.
     *
     * <p>Ownership of {@code firstFlight} passes to this method: it is released exactly once, on success
     * and on every failure (including invalid arguments), except when it is {@code null} or already released.
     *
     * @param bootstrap     a client bootstrap; configured with {@link #client} here (on a clone) if it was not,
     *                      which costs a probe socket per call: configure a bootstrap once to connect often
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
        Bootstrap configured;
        try {
            requireNonNull(bootstrap, "bootstrap");
            requireNonNull(remoteAddress, "remoteAddress");
            if (!firstFlight.isReadable()) {
                throw new IllegalArgumentException("firstFlight: empty (nothing to send in the SYN)");
            }
            configured = isConfigured(bootstrap) ? bootstrap : client(bootstrap.clone());
        } catch (RuntimeException e) {
            ReferenceCountUtil.safeRelease(firstFlight);
            throw e;
        }
        TfoBackoff backoff = ((TfoClientInitializer) configured.config().handler()).options().backoff();
        String skip = backoff.skipReason(remoteAddress);
        Bootstrap chosen = skip == null ? configured
                : configured.clone().option(ChannelOption.TCP_FASTOPEN_CONNECT, false);
        return FirstFlightConnector.connect(chosen, remoteAddress, firstFlight, skip, backoff);
    }

    private static boolean isConfigured(Bootstrap bootstrap) {
        return bootstrap.config().handler() instanceof TfoClientInitializer;
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
        } else if (!transport.nettyServerTfo()) {
            OptionalInt live = Procfs.readInt(Procfs.TCP_FASTOPEN);
            if (live.isPresent() && (live.getAsInt() & TfoSupport.SERVER) != 0) {
                warnOnce("stale:" + transport, "TCP_FASTOPEN is ignored: Netty's " + transport.displayName()
                        + " transport read net.ipv4.tcp_fastopen without the server bit 0x2 when it initialised "
                        + "(now " + live.getAsInt() + "); restart the JVM");
            } else {
                warnOnce("sysctl:" + transport, "TCP_FASTOPEN is ignored: net.ipv4.tcp_fastopen="
                        + (live.isPresent() ? live.getAsInt() : "unreadable")
                        + " lacks the server bit 0x2. Fix: " + TfoSupport.FIX);
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
