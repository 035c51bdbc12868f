package dev.tfo.frameworks;

import dev.tfo.TfoCounters;
import dev.tfo.TfoResult;
import dev.tfo.testkit.Capture;
import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.Packet;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import dev.tfo.testkit.TestCertificate;
import dev.tfo.testkit.TestTransport;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufMono;
import reactor.netty.DisposableServer;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.HttpResources;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

import static dev.tfo.frameworks.Witness.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reactor Netty {@code HttpClient} (1.3 on Netty 4.2; 1.2 on Netty 4.1 under {@code -P netty-4.1}; a new
 * connection per request) against a Reactor Netty {@code HttpServer}
 * whose listener has {@code TCP_FASTOPEN}: the client is configured by the README recipe "Reactor Netty
 * HttpClient" ({@link FrameworkTfo#reactorNettyClient()}); everything else here is probes and witnesses.
 *
 * <p>Outcome witness: {@code TfoResult.of(channel)} from {@code doOnConnected}. Reactor Netty closes a
 * new-connection channel as soon as the response is read, which on loopback can beat the tcp_info poll; so the
 * test server holds each response until the client's verdict is known (the SYN-ACK, not the application, ends
 * the handshake, so this changes nothing on the wire before the response).
 */
@FreshNetns
class ReactorNettyTfoTest {
    private static final int CONNECTIONS = 3;

    /** Event loop groups of ours, one per transport, that clients {@code runOn}. */
    private static final Map<TestTransport, EventLoopGroup> GROUPS = new EnumMap<>(TestTransport.class);

    @AfterAll
    static void disposeReactorResources() {
        HttpResources.disposeLoopsAndConnectionsLater().block(WAIT);
        GROUPS.values().forEach(g -> g.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly());
    }

    /**
     * The transport Reactor Netty picks by itself: io_uring when its native library is on the class path (Reactor
     * Netty 1.3 on Netty 4.2, as here), epoll on Netty 4.1 (which has no built-in io_uring).
     */
    private static TestTransport reactorDefault() {
        return TestTransport.IO_URING.declaredAbsence().isPresent() ? TestTransport.EPOLL : TestTransport.IO_URING;
    }

    /** Our event loop group of {@code transport} (io_uring on Netty 4.1: the declared skip). */
    private static synchronized EventLoopGroup group(TestTransport transport) {
        return GROUPS.computeIfAbsent(transport, t -> t.newGroup(1));
    }

    /** The recipe on Reactor Netty's own event loops: its default transport, {@link #reactorDefault()}. */
    @Test
    void getRidesInTheSynFromTheSecondConnectionOn() throws Exception {
        getRidesInTheSyn("default loops", "127.0.0.11", FrameworkTfo::reactorNettyClient, reactorDefault());
    }

    /** The recipe {@code runOn} an event loop group of ours, of each transport that does TFO. */
    @ParameterizedTest
    @MethodSource("dev.tfo.testkit.TestTransport#tfoCapable")
    void getOnOurEventLoopsRidesInTheSynFromTheSecondConnectionOn(TestTransport transport) throws Exception {
        EventLoopGroup group = group(transport);
        // A server address per transport: cookies are cached per destination IP.
        getRidesInTheSyn("runOn " + transport, transport.loopbackAddress(21),
                () -> FrameworkTfo.reactorNettyClient().runOn(group), transport);
    }

    private static void getRidesInTheSyn(String loops, String serverIp, Supplier<HttpClient> client,
            TestTransport transport) throws Exception {
        try (Scene scene = new Scene(serverIp, null);
             Capture capture = Capture.here("lo", "tcp port " + scene.port())) {
            for (int i = 0; i < CONNECTIONS; i++) {
                Exchange x = scene.exchange(client.get(), transport.channel(),
                        c -> c.get().uri(scene.url("/hello")).responseContent().aggregate().asString(), capture);
                String what = "GET #" + (i + 1) + " (" + loops + ", " + transport + ")";
                assertEquals("hello", x.body, what);
                if (i == 0) {
                    Witness.assertCookieRequest(what, x.syn, x.client, x.server, x.delta);
                } else {
                    assertTrue(Witness.startsWith(x.probe.firstFlight(), "GET /hello HTTP/1.1\r\n"),
                            what + ": first flight " + FirstWriteProbe.printable(x.probe.firstFlight(), 80));
                    Witness.assertDataInSyn(what, x.syn, x.probe.firstFlight(), x.client, x.server, x.delta);
                }
                report("reactor-netty GET", i, x);
            }
        }
    }

    @Test
    void httpsGetCarriesTheClientHelloInTheSyn() throws Exception {
        TestCertificate cert = TestCertificate.selfSigned("127.0.0.12");
        Http11SslContextSpec serverTls = Http11SslContextSpec.forServer(cert.keyManagerFactory())
                .configure(b -> b.sslProvider(SslProvider.JDK).protocols("TLSv1.3"));
        Http11SslContextSpec clientTls = Http11SslContextSpec.forClient()
                .configure(b -> b.sslProvider(SslProvider.JDK).protocols("TLSv1.3")
                        .trustManager(cert.trustManagerFactory()));
        try (Scene scene = new Scene("127.0.0.12", serverTls);
             Capture capture = Capture.here("lo", "tcp port " + scene.port())) {
            for (int i = 0; i < CONNECTIONS; i++) {
                Exchange x = scene.exchange(FrameworkTfo.reactorNettyClient().secure(s -> s.sslContext(clientTls)),
                        reactorDefault().channel(),
                        c -> c.get().uri(scene.url("/hello")).responseContent().aggregate().asString(), capture);
                String what = "HTTPS GET #" + (i + 1);
                assertEquals("hello", x.body, what);
                assertEquals("TLSv1.3", x.tlsProtocol, what + ": negotiated protocol");
                if (i == 0) {
                    Witness.assertCookieRequest(what, x.syn, x.client, x.server, x.delta);
                } else {
                    byte[] hello = x.syn.payload();
                    assertEquals(0x16, hello[0] & 0xff, what + ": a TLS handshake record in the SYN: " + x.syn);
                    assertEquals(0x01, hello[5] & 0xff, what + ": a ClientHello in the SYN: " + x.syn);
                    Witness.assertDataInSyn(what, x.syn, x.probe.firstFlight(), x.client, x.server, x.delta);
                }
                report("reactor-netty HTTPS GET", i, x);
            }
        }
    }

    /**
     * A non-idempotent request on a new connection travels after the handshake: the library's default
     * {@code TfoSynDataPolicy.replaySafe()} keeps it out of the SYN (a duplicated SYN could deliver it twice,
     * RFC 7413 section 6), while the SYN still carries the cookie, so the server accepts at once.
     */
    @Test
    void postOnANewConnectionTravelsAfterTheHandshake() throws Exception {
        String order = "{\"order\":42,\"amount\":\"100.00\"}";
        try (Scene scene = new Scene("127.0.0.13", null);
             Capture capture = Capture.here("lo", "tcp port " + scene.port())) {
            Exchange warmUp = scene.exchange(FrameworkTfo.reactorNettyClient(), reactorDefault().channel(),
                    c -> c.get().uri(scene.url("/hello")).responseContent().aggregate().asString(), capture);
            Witness.assertCookieRequest("GET before the POST", warmUp.syn, warmUp.client, warmUp.server, warmUp.delta);

            Exchange post = scene.exchange(FrameworkTfo.reactorNettyClient(), reactorDefault().channel(),
                    c -> c.post().uri(scene.url("/orders")).send(ByteBufMono.fromString(Mono.just(order)))
                            .responseContent().aggregate().asString(), capture);
            assertEquals("accepted " + order, post.body, "the POST was processed");
            assertEquals(List.of(order), scene.postsProcessed, "processed once");
            assertTrue(Witness.startsWith(post.probe.firstFlight(), "POST /orders HTTP/1.1\r\n"),
                    "first flight " + FirstWriteProbe.printable(post.probe.firstFlight(), 80));
            report("reactor-netty POST", 1, post);
            Witness.assertSynWithoutData("POST on a new connection", post.syn, "the first write (",
                    post.client, post.server, post.delta);
        }
    }

    private static void report(String label, int index, Exchange x) {
        System.out.printf("TIMING %s #%d (%s, %s): %s%n", label, index + 1, x.client.outcome(),
                x.channel.getClass().getSimpleName(), x.probe.summary());
    }

    /** What one request on a new connection left behind. */
    private record Exchange(String body, Channel channel, FirstWriteProbe probe, TfoResult client, TfoResult server,
            TfoCounters delta, Packet syn, String tlsProtocol) {
    }

    /** A Reactor Netty server on its own loopback address, with TFO on its listener. */
    private static final class Scene implements AutoCloseable {
        private final String ip;
        private final boolean secure;
        private final DisposableServer server;
        private final BlockingQueue<TfoResult> serverResults = new LinkedBlockingQueue<>();
        /** The verdict of the client connection in flight; the server answers once it is known. */
        private final AtomicReference<CompletableFuture<TfoResult>> clientVerdict = new AtomicReference<>();
        private final List<String> postsProcessed = new CopyOnWriteArrayList<>();

        Scene(String ip, Http11SslContextSpec tls) {
            this.ip = ip;
            this.secure = tls != null;
            HttpServer s = HttpServer.create().host(ip).port(0)
                    .option(ChannelOption.TCP_FASTOPEN, 64)
                    .doOnConnection(c -> serverResults.add(TfoResult.of(c.channel()).getNow()))
                    .route(r -> r
                            .get("/hello", (req, res) -> res.sendString(verdictKnown().thenReturn("hello")))
                            .post("/orders", (req, res) -> res.sendString(req.receive().aggregate().asString()
                                    .doOnNext(postsProcessed::add)
                                    .flatMap(body -> verdictKnown().thenReturn("accepted " + body)))));
            if (tls != null) {
                s = s.secure(spec -> spec.sslContext(tls));
            }
            this.server = s.bindNow(WAIT);
        }

        private Mono<TfoResult> verdictKnown() {
            return Mono.defer(() -> Mono.fromFuture(clientVerdict.get())).timeout(WAIT);
        }

        int port() {
            return server.port();
        }

        String url(String path) {
            return (secure ? "https" : "http") + "://" + ip + ":" + port() + path;
        }

        Exchange exchange(HttpClient configured, Class<? extends Channel> channelType,
                Function<HttpClient, Mono<String>> request, Capture capture)
                throws Exception {
            TfoCounters before = TfoCounters.snapshot();
            FirstWriteProbe probe = new FirstWriteProbe();
            AtomicReference<Channel> channel = new AtomicReference<>();
            AtomicReference<String> tls = new AtomicReference<>();
            CompletableFuture<TfoResult> verdict = new CompletableFuture<>();
            clientVerdict.set(verdict);
            HttpClient client = configured
                    .doOnChannelInit((observer, ch, remote) -> FirstWriteProbe.install(ch.pipeline(), probe))
                    .doOnConnected(c -> {
                        channel.set(c.channel());
                        Witness.stage(TfoResult.of(c.channel())).whenComplete((r, e) -> {
                            if (e != null) {
                                verdict.completeExceptionally(e);
                            } else {
                                verdict.complete(r);
                            }
                        });
                    })
                    .doOnResponse((res, c) -> {
                        SslHandler ssl = c.channel().pipeline().get(SslHandler.class);
                        tls.set(ssl == null ? null : ssl.engine().getSession().getProtocol());
                    });
            String body = request.apply(client).block(WAIT);
            TfoResult clientResult = verdict.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            TfoResult serverResult = serverResults.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertNotNull(serverResult, "the server saw the connection");
            TfoCounters delta = TfoCounters.snapshot().minus(before);
            Channel ch = channel.get();
            assertInstanceOf(channelType, ch, "the client's transport");
            Packet syn = Witness.syn(capture, Witness.localPort(ch));
            assertEquals(1, Witness.syns(capture.packets(), Witness.localPort(ch)).size(), "one SYN, no retransmission");
            return new Exchange(body, ch, probe, clientResult, serverResult, delta, syn, tls.get());
        }

        @Override
        public void close() {
            server.disposeNow(WAIT);
        }
    }
}
