package dev.tfo.frameworks;

import dev.tfo.TfoChannels;
import dev.tfo.TfoCounters;
import dev.tfo.TfoResult;
import dev.tfo.TfoServerOptions;
import dev.tfo.testkit.Capture;
import dev.tfo.testkit.EchoHandlers;
import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.Packet;
import dev.tfo.testkit.TestCertificate;
import dev.tfo.testkit.TestTransport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.Future;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.TrustOptions;
import io.vertx.core.transport.Transport;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import static dev.tfo.frameworks.Witness.WAIT;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Vert.x 5.0.7 clients ({@code NetClient}, {@code HttpClient} with a new connection per request, HTTPS, the
 * {@code WebClient}) on a Vert.x whose transport is the recipe {@link FrameworkTfo#vertx} (Vert.x's own epoll or
 * io_uring transport, TCP client channels from {@code TfoChannels.clientFactory}), against Netty servers with
 * {@code TCP_FASTOPEN} on their listener, and once against a Vert.x {@code HttpServer} with
 * {@code HttpServerOptions.setTcpFastOpen(true)}.
 *
 * <p>Witnesses: the client's {@code TfoResult} (asked for when the test's transport makes the channel: test
 * plumbing, see {@link #recording}), counters, the captured SYN, and what the Netty server read on the connection
 * before any decoding. Vert.x's {@code HttpClient} removes every handler but the {@code SslHandler} from the
 * pipeline once connected ({@code HttpChannelConnector.wrap}), the test's probe included: the first flight of an
 * HTTP request is therefore what the server read, not what a probe saw.
 *
 * <p>The servers answer an HTTP request only once the client's verdict is known (as in
 * {@link ReactorNettyTfoTest}: without keep-alive, Vert.x closes the connection as soon as the response is read,
 * which could beat the verdict).
 */
@FreshNetns
class VertxTfoTest {
    private static final int CONNECTIONS = 3;

    private static EventLoopGroup group;

    /** Each test reports the declared skip on Netty 4.1 (a class-level abort would leave no trace in the report). */
    @BeforeEach
    void vertx5NeedsNetty42() {
        FrameworkLine.requireNetty42("Vert.x 5", "Vert.x 4.5 is the Netty 4.1 line");
    }

    @BeforeAll
    static void startGroup() {
        group = TestTransport.EPOLL.newGroup(1);
    }

    @AfterAll
    static void stopGroup() {
        if (group != null) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /**
     * Vert.x's own native transport of the test's transport ({@code Transport.EPOLL}, {@code Transport.IO_URING}:
     * Vert.x names them as {@link TestTransport} does), which the recipe wraps.
     */
    static Transport vertxTransport(TestTransport transport) {
        Transport t;
        try {
            t = (Transport) Transport.class.getField(transport.name()).get(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(transport + ": Vert.x has no transport " + transport.name(), e);
        }
        assertNotNull(t, transport + ": Vert.x found no " + transport + " transport on the class path");
        assertTrue(t.available(), transport + ": " + t.unavailabilityCause());
        return t;
    }

    // ---- NetClient ---------------------------------------------------------------------------------------------

    /** Connect, then write (from the connect's completion, the Vert.x way): from the 2nd connection the write rides. */
    @ParameterizedTest
    @MethodSource("dev.tfo.testkit.TestTransport#tfoCapable")
    void netClientWriteRidesInTheSynFromTheSecondConnectionOn(TestTransport transport) throws Exception {
        String ip = transport.loopbackAddress(31); // a server address per transport: cookies are cached per IP
        BlockingQueue<TfoResult> serverResults = new LinkedBlockingQueue<>();
        Channel listener = listen(ip, serverResults, EchoHandlers::echo);
        int port = Witness.localPort(listener);
        try (Client client = new Client(transport);
             Capture capture = Capture.here("lo", "tcp port " + port)) {
            NetClient net = client.vertx.createNetClient();
            for (int i = 0; i < CONNECTIONS; i++) {
                String what = "Vert.x NetClient #" + (i + 1) + " (" + transport + ")";
                // A GET: the library's default TfoSynDataPolicy.replaySafe() admits it to the SYN (an arbitrary
                // payload would rightly travel after the handshake).
                byte[] request = ("GET /" + i + " HTTP/1.1\r\nHost: vertx\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
                TfoCounters before = TfoCounters.snapshot();
                CompletableFuture<byte[]> echoed = new CompletableFuture<>();
                ByteArrayOutputStream received = new ByteArrayOutputStream();
                NetSocket socket = await(net.connect(port, ip).compose(so -> {
                    so.handler(buf -> {
                        received.writeBytes(buf.getBytes());
                        if (received.size() >= request.length) {
                            echoed.complete(received.toByteArray());
                        }
                    });
                    return so.write(Buffer.buffer(request)).map(so);
                }));
                assertArrayEquals(request, echoed.get(WAIT.toMillis(), TimeUnit.MILLISECONDS), what + ": echoed");
                Conn conn = client.next(what, transport.channel());
                // The socket stays open until closed here: the verdict cannot race a close.
                TfoResult result = verdict(what, conn);
                TfoResult serverResult = serverResults.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                TfoCounters delta = TfoCounters.snapshot().minus(before);
                Packet syn = oneSyn(what, capture, conn);
                report(what, result, null, syn, delta, conn);
                if (i == 0) {
                    Witness.assertCookieRequest(what, syn, result, serverResult, delta);
                } else {
                    assertArrayEquals(request, conn.probe.firstFlight(), what + ": the write is the first flight");
                    Witness.assertDataInSyn(what, syn, request, result, serverResult, delta);
                }
                await(socket.close());
            }
        } finally {
            listener.close().sync();
        }
    }

    // ---- HttpClient --------------------------------------------------------------------------------------------

    /** {@code HttpClient} GET, a new connection per request: from the 2nd request on the GET rides in the SYN. */
    @ParameterizedTest
    @MethodSource("dev.tfo.testkit.TestTransport#tfoCapable")
    void httpClientGetRidesInTheSynFromTheSecondConnectionOn(TestTransport transport) throws Exception {
        String ip = transport.loopbackAddress(33); // a server address per transport: cookies are cached per IP
        try (Client client = new Client(transport);
             NettyHttp server = new NettyHttp(ip, null, client::verdictInFlight);
             Capture capture = Capture.here("lo", "tcp port " + server.port())) {
            HttpClient http = client.vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
            List<Exchange> gets = new ArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                gets.add(client.exchange("Vert.x HttpClient GET #" + (i + 1) + " (" + transport + ")",
                        transport.channel(), server, capture, () -> send(http, HttpMethod.GET, server, "/hello", null)));
            }
            await(http.close());
            for (int i = 0; i < CONNECTIONS; i++) {
                assertEquals("hello", gets.get(i).body, gets.get(i).what);
                assertGet(i, gets.get(i));
            }
        }
    }

    /**
     * A POST on a new connection must travel after the handshake (the library's default
     * {@code TfoSynDataPolicy.replaySafe()}): its SYN carries the cookie and no byte of the POST, and the
     * connection's verdict is decided (never a failed future: the connection works).
     */
    @Test
    void httpClientPostDoesNotRideInTheSyn() throws Exception {
        String order = "{\"order\":42,\"amount\":\"100.00\"}";
        try (Client client = new Client(TestTransport.EPOLL);
             NettyHttp server = new NettyHttp("127.0.0.35", null, client::verdictInFlight);
             Capture capture = Capture.here("lo", "tcp port " + server.port())) {
            HttpClient http = client.vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
            Exchange warmUp = client.exchange("GET before the POST", TestTransport.EPOLL.channel(), server, capture,
                    () -> send(http, HttpMethod.GET, server, "/hello", null));
            String what = "Vert.x HttpClient POST on a new connection";
            Exchange post = client.exchange(what, TestTransport.EPOLL.channel(), server, capture,
                    () -> send(http, HttpMethod.POST, server, "/orders", order));
            await(http.close());

            assertEquals("accepted " + order, post.body, what + ": the POST was processed");
            assertEquals(List.of(order), server.postsProcessed, what + ": processed once");
            assertTrue(Witness.startsWith(post.serverRead, "POST /orders HTTP/1.1\r\n"),
                    what + ": the server read " + FirstWriteProbe.printable(post.serverRead, 80));
            assertAll(what,
                    () -> assertEquals(0, post.syn.payloadLength(), what + ": the SYN carries no byte of the POST: "
                            + post.syn + "\n  SYN payload: " + FirstWriteProbe.printable(post.syn.payload(), 120)),
                    () -> assertVerdictSucceeded(what, post));
            Witness.assertSynWithoutData(what, post.syn, "the first write (", post.client, post.server, post.delta);
            assertGet(0, warmUp); // last: the POST is this test's subject, the warm-up only fetched the cookie
        }
    }

    /** HTTPS GET (TLS 1.3): Vert.x adds its {@code SslHandler} before the connect, so the ClientHello rides. */
    @Test
    void httpsGetCarriesTheClientHelloInTheSyn() throws Exception {
        String ip = "127.0.0.36";
        TestCertificate cert = TestCertificate.selfSigned(ip);
        SslContext serverTls = SslContextBuilder.forServer(cert.keyManagerFactory()).sslProvider(SslProvider.JDK)
                .protocols("TLSv1.3").build();
        try (Client client = new Client(TestTransport.EPOLL);
             NettyHttp server = new NettyHttp(ip, serverTls, client::verdictInFlight);
             Capture capture = Capture.here("lo", "tcp port " + server.port())) {
            HttpClient https = client.vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false).setSsl(true)
                    .setTrustOptions(TrustOptions.wrap(cert.trustManagerFactory()))
                    .setEnabledSecureTransportProtocols(Set.of("TLSv1.3")));
            List<Exchange> gets = new ArrayList<>();
            List<String> protocols = new CopyOnWriteArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                gets.add(client.exchange("Vert.x HTTPS GET #" + (i + 1), TestTransport.EPOLL.channel(), server, capture,
                        () -> https.request(HttpMethod.GET, server.port(), ip, "/hello")
                                .compose(req -> req.send().compose(res -> {
                                    protocols.add(req.connection().sslSession().getProtocol());
                                    return res.body();
                                }))
                                .map(Buffer::toString)));
            }
            await(https.close());
            for (int i = 0; i < CONNECTIONS; i++) {
                Exchange x = gets.get(i);
                String what = x.what;
                assertEquals("hello", x.body, what);
                assertEquals("TLSv1.3", protocols.get(i), what + ": negotiated protocol");
                assertVerdictSucceeded(what, x);
                if (i == 0) {
                    Witness.assertCookieRequest(what, x.syn, x.client, x.server, x.delta);
                } else {
                    byte[] hello = x.syn.payload();
                    assertTrue(hello.length > 5, what + ": data in the SYN: " + x.syn);
                    assertEquals(0x16, hello[0] & 0xff, what + ": a TLS handshake record in the SYN: " + x.syn);
                    assertEquals(0x01, hello[5] & 0xff, what + ": a ClientHello in the SYN: " + x.syn);
                    assertTrue(startsWithBytes(x.serverRead, hello),
                            what + ": the server read the SYN's bytes first");
                    // The probe (installed at the channel's creation) survives until the TLS handshake is over.
                    Witness.assertDataInSyn(what, x.syn, x.conn.probe.firstFlight(), x.client, x.server, x.delta);
                }
            }
        }
    }

    /** The Vert.x {@code WebClient} (over an {@code HttpClient}, keep-alive off): the same as a GET. */
    @Test
    void webClientGetRidesInTheSynFromTheSecondConnectionOn() throws Exception {
        try (Client client = new Client(TestTransport.EPOLL);
             NettyHttp server = new NettyHttp("127.0.0.37", null, client::verdictInFlight);
             Capture capture = Capture.here("lo", "tcp port " + server.port())) {
            WebClient web = WebClient.create(client.vertx, new WebClientOptions().setKeepAlive(false));
            List<Exchange> gets = new ArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                gets.add(client.exchange("Vert.x WebClient GET #" + (i + 1), TestTransport.EPOLL.channel(), server,
                        capture, () -> web.get(server.port(), "127.0.0.37", "/hello").send().map(r -> r.bodyAsString())));
            }
            web.close();
            for (int i = 0; i < CONNECTIONS; i++) {
                assertEquals("hello", gets.get(i).body, gets.get(i).what);
                assertGet(i, gets.get(i));
            }
        }
    }

    /**
     * Against a Vert.x {@code HttpServer} with {@code HttpServerOptions.setTcpFastOpen(true)} (a Vert.x of its own,
     * on Vert.x's plain epoll transport: that option alone gives its listener TFO). The server's own verdict is out
     * of reach through public API; the counters' {@code Passive} stands for it, and the SYN must carry a complete
     * request head.
     */
    @Test
    void httpClientGetToAVertxServerWithTcpFastOpen() throws Exception {
        String ip = "127.0.0.38";
        Vertx serverVertx = Vertx.builder().withTransport(vertxTransport(TestTransport.EPOLL)).build();
        try (Client client = new Client(TestTransport.EPOLL)) {
            HttpServer server = await(serverVertx.createHttpServer(new HttpServerOptions().setTcpFastOpen(true)
                    .setHost(ip).setPort(0)).requestHandler(req -> {
                        Context context = Vertx.currentContext();
                        req.body().onComplete(body -> client.verdictInFlight().orTimeout(WAIT.toMillis(),
                                TimeUnit.MILLISECONDS).whenComplete((r, e) -> context.runOnContext(v ->
                                req.response().end("hello from vert.x"))));
                    }).listen());
            int port = server.actualPort();
            try (Capture capture = Capture.here("lo", "tcp port " + port)) {
                HttpClient http = client.vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
                List<Exchange> gets = new ArrayList<>();
                for (int i = 0; i < CONNECTIONS; i++) {
                    gets.add(client.exchange("Vert.x HttpClient GET to a Vert.x server #" + (i + 1),
                            TestTransport.EPOLL.channel(), null, capture,
                            () -> send(http, HttpMethod.GET, ip, port, "/hello", null)));
                }
                await(http.close());
                for (int i = 0; i < CONNECTIONS; i++) {
                    Exchange x = gets.get(i);
                    String what = x.what;
                    assertEquals("hello from vert.x", x.body, what);
                    assertVerdictSucceeded(what, x);
                    if (i == 0) {
                        Witness.assertCookieRequest(what, x.syn, x.client, null, x.delta);
                    } else {
                        String head = new String(x.syn.payload(), StandardCharsets.US_ASCII);
                        assertTrue(head.startsWith("GET /hello HTTP/1.1\r\n") && head.endsWith("\r\n\r\n"),
                                what + ": the SYN carries the whole request head: " + x.syn + "\n  "
                                        + FirstWriteProbe.printable(x.syn.payload(), 200));
                        Witness.assertDataInSyn(what, x.syn, x.syn.payload(), x.client, null, x.delta);
                    }
                }
            } finally {
                await(server.close());
            }
        } finally {
            await(serverVertx.close());
        }
    }

    // ---- assertions --------------------------------------------------------------------------------------------

    /** A GET on a new connection: the 1st asks for a cookie; from the 2nd on, the whole request rides in the SYN. */
    private static void assertGet(int index, Exchange x) {
        String what = x.what;
        assertTrue(Witness.startsWith(x.serverRead, "GET /hello HTTP/1.1\r\n"),
                what + ": the server read " + FirstWriteProbe.printable(x.serverRead, 80));
        assertVerdictSucceeded(what, x);
        if (index == 0) {
            Witness.assertCookieRequest(what, x.syn, x.client, x.server, x.delta);
        } else {
            // A GET has no body: everything the server read on the connection is the request, and all of it fits
            // a loopback SYN.
            Witness.assertDataInSyn(what, x.syn, x.serverRead, x.client, x.server, x.delta);
        }
    }

    /** A working connection's {@code TfoResult} is a verdict, never a failed future. */
    private static void assertVerdictSucceeded(String what, Exchange x) {
        if (x.clientFailure != null) {
            fail(what + ": TfoResult.of(channel) failed (a working connection must have a verdict): "
                    + x.clientFailure, x.clientFailure);
        }
        assertNotNull(x.client, what + ": a verdict");
    }

    private static boolean startsWithBytes(byte[] bytes, byte[] prefix) {
        return bytes.length >= prefix.length && Arrays.equals(Arrays.copyOf(bytes, prefix.length), prefix);
    }

    // ---- plumbing ----------------------------------------------------------------------------------------------

    private static io.vertx.core.Future<String> send(HttpClient http, HttpMethod method, NettyHttp server,
            String path, String body) {
        return send(http, method, server.ip, server.port(), path, body);
    }

    private static io.vertx.core.Future<String> send(HttpClient http, HttpMethod method, String ip, int port,
            String path, String body) {
        return http.request(method, port, ip, path)
                .compose(req -> body == null ? req.send() : req.send(body))
                .compose(res -> res.body())
                .map(Buffer::toString);
    }

    private static <T> T await(io.vertx.core.Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The verdict of a connection that stays open while it is read. */
    private static TfoResult verdict(String what, Conn conn) throws InterruptedException {
        assertTrue(conn.result.await(WAIT.toMillis()), what + ": a verdict within " + WAIT);
        if (!conn.result.isSuccess()) {
            fail(what + ": TfoResult.of(channel) failed (a working connection must have a verdict): "
                    + conn.result.cause(), conn.result.cause());
        }
        return conn.result.getNow();
    }

    private static Packet oneSyn(String what, Capture capture, Conn conn) {
        int port = Witness.localPort(conn.channel);
        Packet syn = Witness.syn(capture, port);
        assertEquals(1, Witness.syns(capture.packets(), port).size(), what + ": one SYN, no retransmission");
        return syn;
    }

    /** What a connection did, printed before any assertion (so a failing run still shows its wire). */
    private static void report(String what, TfoResult result, Throwable failure, Packet syn, TfoCounters delta,
            Conn conn) {
        FirstWriteProbe p = conn.probe;
        System.out.printf("VERTX %s (%s): %s; SYN %d bytes%s: %s; counters %s%n", what,
                conn.channel.getClass().getSimpleName(), result != null ? result : "FAILED: " + failure,
                syn.payloadLength(), syn.fastOpenCookie().map(c -> ", cookie of " + c.length).orElse(", no cookie"),
                FirstWriteProbe.printable(syn.payload(), 60), delta);
        System.out.printf("TIMING %s (%s): %s%n", what, conn.channel.getClass().getSimpleName(),
                p.firstWrite != null && p.firstFlush != null ? p.summary()
                        : "the probe was removed before the first write (HttpChannelConnector.wrap)");
    }

    /** A TFO listener on {@code ip} (port 0) on the test's epoll group; every accepted channel's outcome is kept. */
    private static Channel listen(String ip, BlockingQueue<TfoResult> serverResults, Supplier<ChannelHandler> handler)
            throws InterruptedException {
        ServerBootstrap sb = new ServerBootstrap().group(group)
                .channelFactory(TfoChannels.serverFactory(
                        new ReflectiveChannelFactory<>(TestTransport.EPOLL.serverChannel()),
                        TfoServerOptions.builder().queueLength(64).build()))
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        serverResults.add(TfoResult.of(ch).getNow());
                        ch.pipeline().addLast(handler.get());
                    }
                });
        return sb.bind(ip, 0).sync().channel();
    }

    /** One client connection as the test saw it: the channel, its verdict (asked for at creation), its probe. */
    private record Conn(Channel channel, Future<TfoResult> result, FirstWriteProbe probe) {
    }

    /** What one HTTP request on a new connection left behind. */
    private record Exchange(String what, String body, Conn conn, TfoResult client, Throwable clientFailure, TfoResult server,
            TfoCounters delta, Packet syn, byte[] serverRead) {
    }

    /**
     * Test plumbing, not recipe: the recipe's transport, wrapped once more so that the test sees every TCP client
     * channel it makes (for its {@code TfoResult}, its port, a probe right after the TFO handler).
     */
    private static Transport recording(Transport recipe, BlockingQueue<Conn> made,
            AtomicReference<CompletableFuture<TfoResult>> inFlight) {
        io.vertx.core.spi.transport.Transport tfo = recipe.implementation();
        ChannelFactory<? extends Channel> tcp = tfo.channelFactory(false);
        ChannelFactory<Channel> recorded = () -> {
            Channel ch = tcp.newChannel();
            FirstWriteProbe probe = new FirstWriteProbe();
            FirstWriteProbe.install(ch.pipeline(), probe);
            Future<TfoResult> result = TfoResult.of(ch);
            CompletableFuture<TfoResult> verdict = Witness.stage(result);
            inFlight.set(verdict);
            made.add(new Conn(ch, result, probe));
            return ch;
        };
        io.vertx.core.spi.transport.Transport spi = (io.vertx.core.spi.transport.Transport) Proxy.newProxyInstance(
                Transport.class.getClassLoader(), new Class<?>[] {io.vertx.core.spi.transport.Transport.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("channelFactory") && Boolean.FALSE.equals(args[0])) {
                        return recorded;
                    }
                    try {
                        return method.invoke(tfo, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        return new Transport() {
            @Override
            public String name() {
                return recipe.name();
            }

            @Override
            public boolean available() {
                return recipe.available();
            }

            @Override
            public Throwable unavailabilityCause() {
                return recipe.unavailabilityCause();
            }

            @Override
            public io.vertx.core.spi.transport.Transport implementation() {
                return spi;
            }
        };
    }

    /** A Vert.x configured by the recipe (plus the test's recording), and the channels it made. */
    private static final class Client implements AutoCloseable {
        final Vertx vertx;
        private final BlockingQueue<Conn> made = new LinkedBlockingQueue<>();
        private final AtomicReference<CompletableFuture<TfoResult>> inFlight = new AtomicReference<>();

        Client(TestTransport transport) {
            Transport tfo = FrameworkTfo.vertx(vertxTransport(transport));
            this.vertx = Vertx.builder().withTransport(recording(tfo, made, inFlight)).build();
            assertTrue(vertx.isNativeTransportEnabled(), "Vert.x runs on its native transport");
        }

        /** The verdict of the client connection made last (the servers answer once it is known). */
        CompletableFuture<TfoResult> verdictInFlight() {
            CompletableFuture<TfoResult> v = inFlight.get();
            return v == null ? CompletableFuture.completedFuture(null) : v;
        }

        /** The one channel made since the last call. */
        Conn next(String what, Class<? extends Channel> channelType) throws InterruptedException {
            Conn conn = made.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertNotNull(conn, what + ": the transport made a client channel");
            assertNull(made.poll(), what + ": one client channel per connection");
            assertInstanceOf(channelType, conn.channel, what + ": the client's transport");
            return conn;
        }

        /** One request on a new connection, and its witnesses. */
        Exchange exchange(String what, Class<? extends Channel> channelType, NettyHttp server, Capture capture,
                Supplier<io.vertx.core.Future<String>> request) throws Exception {
            TfoCounters before = TfoCounters.snapshot();
            String body = await(request.get());
            Conn conn = next(what, channelType);
            TfoResult client = null;
            Throwable failure = null;
            if (!conn.result.await(WAIT.toMillis())) {
                failure = new AssertionError("no verdict within " + WAIT);
            } else if (conn.result.isSuccess()) {
                client = conn.result.getNow();
            } else {
                failure = conn.result.cause();
            }
            ServerConn served = null;
            if (server != null) {
                served = server.accepted.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                assertNotNull(served, what + ": the server saw the connection");
            }
            TfoCounters delta = TfoCounters.snapshot().minus(before);
            Packet syn = oneSyn(what, capture, conn);
            report(what, client, failure, syn, delta, conn);
            return new Exchange(what, body, conn, client, failure, served == null ? null : served.result, delta, syn,
                    served == null ? null : served.read());
        }

        @Override
        public void close() throws Exception {
            await(vertx.close());
        }
    }

    /** An accepted connection of {@link NettyHttp}: its verdict and every byte it read, before any decoding. */
    private record ServerConn(TfoResult result, ByteArrayOutputStream bytes) {
        byte[] read() {
            synchronized (bytes) {
                return bytes.toByteArray();
            }
        }
    }

    /** Keeps every byte a connection reads (up to 64 KiB), as it arrives from the socket. */
    private static final class RawReader extends ChannelInboundHandlerAdapter {
        private final ByteArrayOutputStream bytes;

        RawReader(ByteArrayOutputStream bytes) {
            this.bytes = bytes;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf buf) {
                synchronized (bytes) {
                    if (bytes.size() < 64 * 1024) {
                        byte[] b = new byte[buf.readableBytes()];
                        buf.getBytes(buf.readerIndex(), b);
                        bytes.writeBytes(b);
                    }
                }
            }
            ctx.fireChannelRead(msg);
        }
    }

    /**
     * A Netty HTTP/1.1 server (epoll, {@code TCP_FASTOPEN} on the listener; TLS when given a context): GET /hello
     * answers "hello", POST /orders answers "accepted BODY"; each answer waits for the client's verdict.
     */
    private static final class NettyHttp implements AutoCloseable {
        final String ip;
        final BlockingQueue<ServerConn> accepted = new LinkedBlockingQueue<>();
        final List<String> postsProcessed = new CopyOnWriteArrayList<>();
        private final Channel listener;

        NettyHttp(String ip, SslContext tls, Supplier<CompletableFuture<TfoResult>> clientVerdict)
                throws InterruptedException {
            this.ip = ip;
            ServerBootstrap sb = new ServerBootstrap().group(group)
                    .channelFactory(TfoChannels.serverFactory(
                            new ReflectiveChannelFactory<>(TestTransport.EPOLL.serverChannel()),
                            TfoServerOptions.builder().queueLength(64).build()))
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                            accepted.add(new ServerConn(TfoResult.of(ch).getNow(), bytes));
                            ch.pipeline().addLast(new RawReader(bytes));
                            if (tls != null) {
                                ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                            }
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024),
                                    new Answer(clientVerdict));
                        }
                    });
            this.listener = sb.bind(ip, 0).sync().channel();
        }

        int port() {
            return Witness.localPort(listener);
        }

        @Override
        public void close() throws InterruptedException {
            listener.close().sync();
        }

        private final class Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
            private final Supplier<CompletableFuture<TfoResult>> clientVerdict;

            Answer(Supplier<CompletableFuture<TfoResult>> clientVerdict) {
                this.clientVerdict = clientVerdict;
            }

            @Override
            protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                String text;
                HttpResponseStatus status = HttpResponseStatus.OK;
                if (req.method().name().equals("GET") && req.uri().equals("/hello")) {
                    text = "hello";
                } else if (req.method().name().equals("POST") && req.uri().equals("/orders")) {
                    String order = req.content().toString(StandardCharsets.UTF_8);
                    postsProcessed.add(order);
                    text = "accepted " + order;
                } else {
                    text = "no " + req.method() + " " + req.uri();
                    status = HttpResponseStatus.NOT_FOUND;
                }
                boolean keepAlive = HttpUtil.isKeepAlive(req);
                FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                        Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
                res.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                        .setInt(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes());
                if (!keepAlive) {
                    res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                }
                // Answer once the client's verdict is in (or failed, or WAIT passed): a failed verdict is the
                // test's finding, reported by the test, not a hang here.
                clientVerdict.get().orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS).whenComplete((r, e) ->
                        ctx.executor().execute(() -> {
                            var written = ctx.writeAndFlush(res);
                            if (!keepAlive) {
                                written.addListener(ChannelFutureListener.CLOSE);
                            }
                        }));
            }
        }
    }
}
