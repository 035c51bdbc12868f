package dev.tfo.bench;

import dev.tfo.TfoChannels;
import dev.tfo.TfoCounters;
import dev.tfo.grpc.TfoGrpc;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.ssl.SslProvider;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.transport.Transport;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

import java.io.File;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The client side of the framework benchmark, run in the CLIENT namespace ({@code tcp_fastopen=3}): each
 * {@link FrameworkCase} on a NEW connection, without TFO and with the README recipe of its framework, all rows
 * interleaved round-robin (the order rotating every round) on one epoll event loop (Vert.x: one of its own):
 *
 * <ul>
 *   <li>Reactor Netty: {@code HttpClient.create(ConnectionProvider.newConnection())}, TFO by
 *       {@code doOnChannelInit((observer, channel, address) -> TfoChannels.client(channel))}; a GET, and the same
 *       over HTTPS (TLS 1.3, JDK provider, trusting the benchmark's self-signed certificate). Each client is built
 *       once, as an application would (so its TLS context, and its session cache, live across requests).</li>
 *   <li>gRPC-java: a new {@code ManagedChannel} per call ({@code NettyChannelBuilder}, plaintext, direct
 *       executor), TFO by {@code channelFactory(TfoChannels.clientFactory(channels))}; one unary call, then
 *       {@code shutdownNow()}.</li>
 *   <li>gRPC-java with transport-tfo-grpc ({@link FrameworkCase#GRPC_1RTT}, {@link FrameworkCase#GRPC_1RTT_UNSAFE}):
 *       the same, TFO by {@code TfoGrpc.configure(builder, channels)}; an idempotent method (the call rides in the
 *       SYN), and the non-idempotent one (it must go as with the plain recipe). Plain: the plain channel.</li>
 *   <li>Vert.x 5: {@code HttpClient} with keep-alive off (a new connection per request) on a {@code Vertx} with one
 *       event loop, plain on Vert.x's own epoll transport, TFO on the same transport wrapped by the recipe
 *       {@code FrameworkTfo.vertx} of tfo-frameworks-it ({@link #vertxTfo}); a GET to the Reactor Netty server.</li>
 *   <li>Spring Boot: the {@code WebClient} of a Boot 4.0 application with transport-tfo-spring-boot-starter,
 *       {@code tfo.enabled=false} (plain) or {@code true} (TFO), on Reactor Netty's default event loops
 *       ({@link BootClients}); a GET with {@code Connection: close} to the Reactor Netty server.</li>
 * </ul>
 *
 * <p>Latency: from the start of the request (for gRPC: building the channel) to the response in the caller's
 * hands. The namespace's TFO counters are read around every request.
 *
 * <p>Args: {@code ITERATIONS WARMUP LOOPBACK_WARMUP REQUEST_BYTES RESPONSE_BYTES SERVER_IP BASE_PORT CERT_PEM
 * KEY_PEM}. Prints {@code FPRIME case outcome}, then per measured request {@code FSAMPLE case plain|tfo iteration
 * latencyNanos activeDelta activeFailDelta outcome}, then {@code DONE}.
 */
public final class FrameworkClient implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(15);

    /** One request. */
    record Sample(long latencyNanos, long activeDelta, long activeFailDelta, String outcome) {
    }

    private final EventLoopGroup group;
    private final byte[] request;
    private final HttpClient plainHttp;
    private final HttpClient tfoHttp;
    private final HttpClient plainHttps;
    private final HttpClient tfoHttps;
    private final ChannelFactory<EpollSocketChannel> grpcChannels;
    private final ChannelFactory<EpollSocketChannel> tfoGrpcChannels;
    private final Vertx plainVertx;
    private final Vertx tfoVertx;
    private final io.vertx.core.http.HttpClient plainVertxHttp;
    private final io.vertx.core.http.HttpClient tfoVertxHttp;
    private final BootClients boot;
    /** The channel of the request in flight (one at a time). */
    private volatile Channel last;

    FrameworkClient(File cert, int requestBytes) {
        this.group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        this.request = Payloads.pattern(requestBytes, 'Q');
        // README "Reactor Netty HttpClient", verbatim:
        HttpClient client = HttpClient.create(ConnectionProvider.newConnection())
                .doOnChannelInit((observer, channel, address) -> TfoChannels.client(channel));
        this.tfoHttp = client.runOn(group).doOnChannelInit((observer, channel, address) -> last = channel);
        this.plainHttp = HttpClient.create(ConnectionProvider.newConnection()).runOn(group)
                .doOnChannelInit((observer, channel, address) -> last = channel);
        Http11SslContextSpec tls = Http11SslContextSpec.forClient()
                .configure(b -> b.sslProvider(SslProvider.JDK).protocols("TLSv1.3").trustManager(cert));
        Http11SslContextSpec tls2 = Http11SslContextSpec.forClient()
                .configure(b -> b.sslProvider(SslProvider.JDK).protocols("TLSv1.3").trustManager(cert));
        this.tfoHttps = tfoHttp.secure(spec -> spec.sslContext(tls));
        this.plainHttps = plainHttp.secure(spec -> spec.sslContext(tls2));
        this.grpcChannels = () -> {
            EpollSocketChannel ch = new EpollSocketChannel();
            last = ch;
            return ch;
        };
        // README "gRPC-java (grpc-netty)": builder.channelFactory(TfoChannels.clientFactory(channels)).
        this.tfoGrpcChannels = TfoChannels.clientFactory(grpcChannels);
        VertxOptions oneEventLoop = new VertxOptions().setEventLoopPoolSize(1);
        this.plainVertx = Vertx.builder().with(oneEventLoop).withTransport(Transport.EPOLL).build();
        this.tfoVertx = Vertx.builder().with(oneEventLoop).withTransport(vertxTfo(Transport.EPOLL)).build();
        HttpClientOptions newConnectionPerRequest = new HttpClientOptions().setKeepAlive(false);
        this.plainVertxHttp = plainVertx.createHttpClient(newConnectionPerRequest);
        this.tfoVertxHttp = tfoVertx.createHttpClient(newConnectionPerRequest);
        this.boot = new BootClients(channel -> last = channel);
    }

    /**
     * The recipe {@code FrameworkTfo.vertx} of tfo-frameworks-it (Vert.x's native transport, its TCP client channels
     * from {@code TfoChannels.clientFactory}), plus one line of the benchmark's: it remembers each channel, for its
     * {@code TfoResult}.
     */
    private Transport vertxTfo(Transport nativeTransport) {
        io.vertx.core.spi.transport.Transport theirs = nativeTransport.implementation();
        ChannelFactory<? extends Channel> tfoChannels = TfoChannels.clientFactory(theirs.channelFactory(false));
        ChannelFactory<Channel> tcpClients = () -> last = tfoChannels.newChannel(); // the benchmark's line
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

    /**
     * One request of a case on a new connection; waits until it is over.
     *
     * @param c      the case
     * @param tfo    with the framework's TFO recipe
     * @param server the server of the case
     */
    Sample call(FrameworkCase c, boolean tfo, InetSocketAddress server) {
        last = null;
        TfoCounters before = TfoCounters.snapshot();
        long t0 = System.nanoTime();
        String failure = null;
        try {
            switch (c) {
                case GET:
                case HTTPS: {
                    HttpClient client = c == FrameworkCase.GET ? (tfo ? tfoHttp : plainHttp)
                            : (tfo ? tfoHttps : plainHttps);
                    String url = (c == FrameworkCase.GET ? "http://" : "https://")
                            + server.getAddress().getHostAddress() + ":" + server.getPort() + FrameworkServers.PATH;
                    Integer length = client.get().uri(url)
                            .responseSingle((res, body) -> body.asByteArray()
                                    .map(b -> res.status().code() == 200 ? b.length : -res.status().code()))
                            .block(TIMEOUT);
                    if (length == null || length <= 0) {
                        failure = "BAD_RESPONSE:" + length;
                    }
                    break;
                }
                case VERTX_GET: {
                    io.vertx.core.http.HttpClient client = tfo ? tfoVertxHttp : plainVertxHttp;
                    int length = client.request(HttpMethod.GET, server.getPort(), server.getAddress().getHostAddress(),
                                    FrameworkServers.PATH)
                            .compose(req -> req.send())
                            .compose(res -> res.body().map((Buffer b) -> res.statusCode() == 200 ? b.length()
                                    : -res.statusCode()))
                            .toCompletionStage().toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    if (length <= 0) {
                        failure = "BAD_RESPONSE:" + length;
                    }
                    break;
                }
                case BOOT_WEBCLIENT: {
                    String url = "http://" + server.getAddress().getHostAddress() + ":" + server.getPort()
                            + FrameworkServers.PATH;
                    int length = boot.get(tfo, url, TIMEOUT);
                    if (length <= 0) {
                        failure = "BAD_RESPONSE:" + length;
                    }
                    break;
                }
                default: {
                    NettyChannelBuilder builder = NettyChannelBuilder.forAddress(server).usePlaintext()
                            .eventLoopGroup(group).directExecutor();
                    if (tfo && c != FrameworkCase.GRPC) {
                        // transport-tfo-grpc's docs/frameworks.md recipe: TfoGrpc.configure(builder, channels).
                        TfoGrpc.configure(builder, grpcChannels);
                    } else {
                        builder.channelFactory(tfo ? tfoGrpcChannels : grpcChannels);
                    }
                    MethodDescriptor<byte[], byte[]> method = c == FrameworkCase.GRPC_1RTT
                            ? FrameworkServers.IDEMPOTENT : FrameworkServers.ECHO;
                    ManagedChannel managed = builder.build();
                    long t1;
                    try {
                        byte[] reply = ClientCalls.blockingUnaryCall(managed, method,
                                CallOptions.DEFAULT.withDeadlineAfter(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS),
                                request);
                        t1 = System.nanoTime();
                        if (reply == null || reply.length == 0) {
                            failure = "BAD_RESPONSE";
                        }
                    } finally {
                        managed.shutdownNow();
                        managed.awaitTermination(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    }
                    return sample(t1 - t0, before, tfo, failure);
                }
            }
        } catch (RuntimeException | TimeoutException e) {
            failure = "FAILED:" + e.getClass().getSimpleName();
        } catch (ExecutionException e) {
            failure = "FAILED:" + e.getCause().getClass().getSimpleName();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = "INTERRUPTED";
        }
        return sample(System.nanoTime() - t0, before, tfo, failure);
    }

    private Sample sample(long nanos, TfoCounters before, boolean tfo, String failure) {
        TfoCounters delta = TfoCounters.snapshot().minus(before);
        if (failure != null) {
            return new Sample(-1, delta.active(), delta.activeFail(), failure);
        }
        Channel ch = last;
        String outcome = !tfo ? "-" : ch == null ? "NO_CHANNEL" : LatencyClient.outcome(ch);
        return new Sample(nanos, delta.active(), delta.activeFail(), outcome);
    }

    @Override
    public void close() {
        boot.close();
        for (Vertx v : List.of(plainVertx, tfoVertx)) {
            try {
                v.close().toCompletionStage().toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                System.out.println("Vert.x did not close: " + e);
            }
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Every (case, TFO or not) pair, in the order of a round before rotation. */
    static List<Object[]> pairs() {
        List<Object[]> l = new ArrayList<>();
        for (FrameworkCase c : FrameworkCase.values()) {
            l.add(new Object[] {c, false});
            l.add(new Object[] {c, true});
        }
        return l;
    }

    /**
     * JIT warm-up of this JVM on its namespace's loopback: the servers in-process, and {@code rounds}
     * rounds of every request, with and without TFO.
     */
    static void loopbackWarmup(int rounds, File cert, File key, int requestBytes, int responseBytes)
            throws Exception {
        if (rounds <= 0) {
            return;
        }
        try (FrameworkServers servers = FrameworkServers.start(InetAddress.getLoopbackAddress(), 0, cert, key,
                responseBytes);
             FrameworkClient client = new FrameworkClient(cert, requestBytes)) {
            for (int i = 0; i < rounds; i++) {
                for (Object[] p : pairs()) {
                    FrameworkCase c = (FrameworkCase) p[0];
                    client.call(c, (Boolean) p[1], servers.address(c));
                }
            }
        }
    }

    /**
     * @param args iterations, warm-up rounds, loopback warm-up rounds, request bytes, response bytes, server IP,
     *             base port, certificate, key
     */
    public static void main(String[] args) throws Exception {
        System.out.println("PRIORITY " + Priority.raise(true));
        int iterations = Integer.parseInt(args[0]);
        int warmup = Integer.parseInt(args[1]);
        int loopbackWarmup = Integer.parseInt(args[2]);
        int req = Integer.parseInt(args[3]);
        int resp = Integer.parseInt(args[4]);
        InetAddress ip = InetAddress.getByName(args[5]);
        int basePort = Integer.parseInt(args[6]);
        File cert = new File(args[7]);
        File key = new File(args[8]);
        loopbackWarmup(loopbackWarmup, cert, key, req, resp);
        try (FrameworkClient client = new FrameworkClient(cert, req)) {
            // The first TFO connection to the server's IP requests its cookie (no data in that SYN).
            for (FrameworkCase c : FrameworkCase.values()) {
                Sample prime = client.call(c, true, new InetSocketAddress(ip, c.port(basePort)));
                System.out.println("FPRIME " + c.key() + " " + prime.outcome());
                Channel ch = client.last;
                System.out.println("FTRANSPORT " + c.key() + " " + (ch == null ? "?" : ch.getClass().getSimpleName()));
            }
            List<Object[]> pairs = pairs();
            for (int i = -warmup; i < iterations; i++) {
                for (int j = 0; j < pairs.size(); j++) {
                    Object[] p = pairs.get(Math.floorMod(i + j, pairs.size()));
                    FrameworkCase c = (FrameworkCase) p[0];
                    boolean tfo = (Boolean) p[1];
                    Sample s = client.call(c, tfo, new InetSocketAddress(ip, c.port(basePort)));
                    if (i >= 0) {
                        System.out.println(String.format(Locale.ROOT, "FSAMPLE %s %s %d %d %d %d %s", c.key(),
                                tfo ? "tfo" : "plain", i, s.latencyNanos(), s.activeDelta(), s.activeFailDelta(),
                                s.outcome()));
                    }
                }
            }
            System.out.println("DONE");
            System.out.flush();
        }
        System.exit(0);
    }
}
