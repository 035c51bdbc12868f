package dev.tfo.spring.boot;

import dev.tfo.TfoChannels;
import dev.tfo.TfoCounters;
import dev.tfo.TfoOutcome;
import dev.tfo.TfoResult;
import dev.tfo.micrometer.TfoMetrics;
import dev.tfo.testkit.Capture;
import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.Packet;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.Channel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.tfo.spring.boot.Witness.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real Spring Boot 4.0 WebFlux application with the starter on its class path and no TFO code, in a fresh network
 * namespace ({@code net.ipv4.tcp_fastopen=3}): its WebClient's GET rides in the SYN from the second connection to a
 * server on, its POST does not, its Reactor Netty server accepts data in the SYN, the meters count all of it, and
 * {@code tfo.enabled=false} gives none of it. Witnesses as in tfo-frameworks-it: each connection's {@link TfoResult}
 * (told by the starter to the application's {@link TfoProbe} bean), the TcpExt counter deltas, the captured SYN.
 */
@FreshNetns
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WebFluxAppTfoTest {
    private static final String APP_IP = "127.0.0.21";
    private static LoopResources loops;
    private static ConfigurableApplicationContext app;
    private static TfoProbe probe;

    @BeforeAll
    static void startApplication() {
        loops = LoopResources.create("tfo-test", 2, true);
        app = WebFluxApp.start(APP_IP);
        probe = app.getBean(TfoProbe.class);
    }

    @AfterAll
    static void stopApplication() {
        if (app != null) {
            app.close();
        }
        if (loops != null) {
            loops.disposeLater().block(WAIT);
        }
    }

    @Test
    void webClientGetRidesInTheSynFromTheSecondConnectionOn() throws Exception {
        WebClient client = app.getBean(WebClient.Builder.class).build();
        MeterRegistry meters = app.getBean(MeterRegistry.class);
        double ackedBefore = count(meters, "client", TfoOutcome.SYN_DATA_ACKED);
        double cookieBefore = count(meters, "client", TfoOutcome.COOKIE_REQUESTED);
        try (TfoTestServer server = new TfoTestServer("127.0.0.31", loops);
             Capture capture = Capture.here("lo", "tcp port " + server.port())) {
            for (int i = 0; i < 3; i++) {
                String what = "WebClient GET #" + (i + 1);
                Exchange x = exchange(server, capture,
                        () -> client.get().uri(server.url("/hello")).retrieve().bodyToMono(String.class).block(WAIT));
                assertEquals("hello", x.body, what);
                if (i == 0) {
                    Witness.assertCookieRequest(what, x.syn, x.client, x.server, x.delta);
                } else {
                    Witness.assertDataInSyn(what, x.syn, "GET /hello HTTP/1.1\r\n", x.client, x.server, x.delta);
                }
            }
        }
        assertEquals(2, count(meters, "client", TfoOutcome.SYN_DATA_ACKED) - ackedBefore, "tfo.connections acked");
        assertEquals(1, count(meters, "client", TfoOutcome.COOKIE_REQUESTED) - cookieBefore, "tfo.connections cookie");
    }

    @Test
    void webClientPostTravelsAfterTheHandshake() throws Exception {
        WebClient client = app.getBean(WebClient.Builder.class).build();
        String order = "{\"order\":42}";
        try (TfoTestServer server = new TfoTestServer("127.0.0.32", loops);
             Capture capture = Capture.here("lo", "tcp port " + server.port())) {
            Exchange warmUp = exchange(server, capture,
                    () -> client.get().uri(server.url("/hello")).retrieve().bodyToMono(String.class).block(WAIT));
            Witness.assertCookieRequest("GET before the POST", warmUp.syn, warmUp.client, warmUp.server, warmUp.delta);
            Exchange post = exchange(server, capture, () -> client.post().uri(server.url("/orders"))
                    .bodyValue(order).retrieve().bodyToMono(String.class).block(WAIT));
            assertEquals("accepted " + order, post.body);
            assertEquals(List.of(order), server.posts, "processed once");
            Witness.assertSynWithoutData("POST on a new connection", post.syn, "the first write (", post.client,
                    post.server, post.delta);
        }
    }

    @Test
    void serverAcceptsDataInTheSyn() throws Exception {
        MeterRegistry meters = app.getBean(MeterRegistry.class);
        double acceptedBefore = count(meters, "server", TfoOutcome.SYN_DATA_ACCEPTED);
        probe.servers.clear();
        int port = WebFluxApp.port(app);
        try (Capture capture = Capture.here("lo", "tcp port " + port)) {
            for (int i = 0; i < 2; i++) {
                String what = "GET #" + (i + 1) + " to the application's server";
                TfoCounters before = TfoCounters.snapshot();
                ConnectionProvider provider = ConnectionProvider.create("tfo-test-client", 1);
                try {
                    CompletableFuture<Channel> channel = new CompletableFuture<>();
                    // The README's Reactor Netty recipe, on a pooled client: the connection stays open after the
                    // response, so its result is decided before anything closes it.
                    HttpClient client = HttpClient.create(provider).runOn(loops)
                            .doOnChannelInit((observer, ch, address) -> TfoChannels.client(ch))
                            .doOnConnected(c -> channel.complete(c.channel()));
                    String body = client.get().uri("http://" + APP_IP + ":" + port + "/hello")
                            .responseSingle((res, content) -> content.asString()).block(WAIT);
                    assertEquals("hello", body, what);
                    Channel ch = channel.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    TfoResult clientResult = TfoResult.of(ch).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    TfoProbe.Seen server = TfoProbe.next(probe.servers, what);
                    assertEquals(Witness.localPort(ch), Witness.remotePort(server.channel()), what + ": same connection");
                    TfoCounters delta = TfoCounters.snapshot().minus(before);
                    Packet syn = Witness.syn(capture, Witness.localPort(ch));
                    if (i == 0) {
                        Witness.assertCookieRequest(what, syn, clientResult, server.result(), delta);
                    } else {
                        Witness.assertDataInSyn(what, syn, "GET /hello HTTP/1.1\r\n", clientResult, server.result(),
                                delta);
                    }
                } finally {
                    provider.disposeLater().block(WAIT);
                }
            }
        }
        assertEquals(1, count(meters, "server", TfoOutcome.SYN_DATA_ACCEPTED) - acceptedBefore,
                "tfo.connections server accepted");
    }

    /** What an operator sees: {@code tfo.connections} in /actuator/metrics, and {@code tfo} in /actuator/info. */
    @Test
    void actuatorShowsTheMetersAndTheHost() throws Exception {
        assertEquals(1, app.getBeansOfType(TfoMetrics.class).size(), "the starter's TfoMetrics bean");
        String base = "http://" + APP_IP + ":" + WebFluxApp.port(app) + "/actuator/";
        String metric = get(base + "metrics/tfo.connections");
        assertTrue(metric.contains("\"name\":\"tfo.connections\""), metric);
        assertTrue(metric.contains("\"outcome\""), metric);
        String kernel = get(base + "metrics/tfo.kernel.active");
        assertTrue(kernel.contains("\"name\":\"tfo.kernel.active\""), kernel);
        String info = get(base + "info");
        assertTrue(info.contains("\"tfo\":{\"sysctl\":3,\"client\":true,\"server\":true,\"epoll\":true"), info);
        assertTrue(info.contains("\"summary\":\"TCP Fast Open is available for clients and servers"), info);
    }

    /**
     * {@code tfo.enabled=false}: no bean of the starter, no cookie, no data in any SYN, no TFO on the listener. Last:
     * closing a second application disposes Reactor Netty's global resources, which the first one's server uses.
     */
    @Test
    @Order(Integer.MAX_VALUE)
    void tfoEnabledFalseGivesNoTfo() throws Exception {
        try (ConfigurableApplicationContext off = WebFluxApp.start("127.0.0.22", "tfo.enabled=false");
             TfoTestServer server = new TfoTestServer("127.0.0.33", loops);
             Capture capture = Capture.here("lo", "tcp")) {
            for (Class<?> type : List.of(TfoMetrics.class, TfoHttpClientCustomizer.class, TfoHttpServerCustomizer.class,
                    TfoLettuceCustomizer.class, TfoInfoContributor.class, TfoStartupReport.class,
                    TfoGrpcChannelCustomizer.class, TfoGrpcServerCustomizer.class)) {
                assertTrue(off.getBeansOfType(type).isEmpty(), "no " + type.getSimpleName());
            }
            TfoProbe offProbe = off.getBean(TfoProbe.class);
            WebClient client = off.getBean(WebClient.Builder.class).build();
            TfoCounters before = TfoCounters.snapshot();
            for (int i = 0; i < 2; i++) {
                assertEquals("hello", client.get().uri(server.url("/hello")).retrieve().bodyToMono(String.class)
                        .block(WAIT));
            }
            // And a TFO client (the README recipe) to the application's own server, twice.
            int port = WebFluxApp.port(off);
            for (int i = 0; i < 2; i++) {
                ConnectionProvider provider = ConnectionProvider.create("tfo-test-client", 1);
                try {
                    CompletableFuture<Channel> channel = new CompletableFuture<>();
                    String body = HttpClient.create(provider).runOn(loops)
                            .doOnChannelInit((observer, ch, address) -> TfoChannels.client(ch))
                            .doOnConnected(c -> channel.complete(c.channel()))
                            .get().uri("http://127.0.0.22:" + port + "/hello")
                            .responseSingle((res, content) -> content.asString()).block(WAIT);
                    assertEquals("hello", body);
                    TfoResult result = TfoResult.of(channel.get(WAIT.toMillis(), TimeUnit.MILLISECONDS))
                            .get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    assertEquals(TfoOutcome.COOKIE_REQUESTED, result.outcome(),
                            "connection " + (i + 1) + ": the listener issues no cookie: " + result);
                } finally {
                    provider.disposeLater().block(WAIT);
                }
            }
            TfoCounters delta = TfoCounters.snapshot().minus(before);
            List<Packet> toServer = capture.packets().stream()
                    .filter(p -> p.isSyn() && p.dstPort() == server.port()).toList();
            assertEquals(2, toServer.size(), "two connections from the WebClient: " + toServer);
            for (Packet syn : toServer) {
                assertTrue(syn.fastOpenCookie().isEmpty(), "no cookie option: " + syn);
                assertEquals(0, syn.payloadLength(), "no data: " + syn);
            }
            assertEquals(0, delta.active(), "no SYN data acked: " + delta);
            assertEquals(0, delta.passive(), "no TFO accept: " + delta);
            assertTrue(offProbe.clients.isEmpty() && offProbe.servers.isEmpty(), "no result was told to anyone");
        }
    }

    private static double count(MeterRegistry meters, String side, TfoOutcome outcome) {
        Counter c = meters.find("tfo.connections").tags("side", side, "outcome", outcome.name()).counter();
        return c == null ? 0 : c.count();
    }

    private static String get(String url) throws Exception {
        java.net.http.HttpClient jdk = java.net.http.HttpClient.newHttpClient();
        HttpResponse<String> res = jdk.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, res.statusCode(), url + ": " + res.body());
        return res.body();
    }

    /** What one request of the application's WebClient on a new connection left behind. */
    private record Exchange(String body, TfoResult client, TfoResult server, TfoCounters delta, Packet syn) {
    }

    @FunctionalInterface
    private interface Request {
        String send() throws Exception;
    }

    private static Exchange exchange(TfoTestServer server, Capture capture, Request request) throws Exception {
        probe.clients.clear();
        server.results.clear();
        CompletableFuture<TfoResult> verdict = new CompletableFuture<>();
        probe.nextClient.set(verdict);
        server.hold.set(verdict);
        TfoCounters before = TfoCounters.snapshot();
        String body = request.send();
        TfoProbe.Seen client = TfoProbe.next(probe.clients, "the WebClient's connection");
        TfoResult serverResult = server.results.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        TfoCounters delta = TfoCounters.snapshot().minus(before);
        Packet syn = Witness.syn(capture, Witness.localPort(client.channel()));
        server.hold.set(null);
        return new Exchange(body, client.result(), serverResult, delta, syn);
    }
}
