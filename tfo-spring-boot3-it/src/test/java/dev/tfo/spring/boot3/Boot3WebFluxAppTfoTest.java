package dev.tfo.spring.boot3;

import dev.tfo.TfoCounters;
import dev.tfo.TfoOutcome;
import dev.tfo.TfoResult;
import dev.tfo.TfoResultListener;
import dev.tfo.micrometer.TfoMetrics;
import dev.tfo.testkit.Capture;
import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.Packet;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.Channel;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.SpringBootVersion;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.embedded.netty.NettyServerCustomizer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The starter on a real Spring Boot 3.5.7 WebFlux application (Spring Framework 6.2, Netty 4.1, Reactor Netty 1.2),
 * with no TFO code, in a fresh network namespace: the Boot 3.5 configuration is the one that loads, and the
 * application's WebClient, calling the application's own Reactor Netty server on new connections, sends its GET in
 * the SYN from the second connection on, which the server accepts; the meters count both sides. Witnesses: each
 * side's {@code TfoResult} (told by the starter to the application's listener bean), counters, captured SYN.
 */
@FreshNetns
class Boot3WebFluxAppTfoTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String IP = "127.0.0.41";

    @Test
    void theBoot35ConfigurationGivesTfoToWebClientAndServer() throws Exception {
        assertEquals("3.5.7", SpringBootVersion.getVersion(), "the Boot line under test");
        assertTrue(io.netty.util.Version.identify().get("netty-transport").artifactVersion().startsWith("4.1."),
                "Netty 4.1: " + io.netty.util.Version.identify().get("netty-transport"));
        try (ConfigurableApplicationContext app = new SpringApplicationBuilder(App.class)
                .web(WebApplicationType.REACTIVE)
                .properties(Map.of("server.address", IP, "server.port", "0", "spring.main.banner-mode", "off"))
                .run()) {
            String[] names = app.getBeanDefinitionNames();
            assertTrue(Arrays.asList(names).containsAll(java.util.List.of("tfoBoot3ClientHttpConnectorBuilderCustomizer",
                    "tfoBoot3ClientHttpRequestFactoryBuilderCustomizer", "tfoBoot3NettyServerCustomizer")),
                    "the Boot 3.5 hooks: " + Arrays.toString(names));
            assertTrue(Arrays.stream(names).noneMatch(n -> n.equals("tfoNettyServerCustomizer")),
                    "no Boot 4.0 hook: " + Arrays.toString(names));
            assertEquals(1, app.getBeansOfType(NettyServerCustomizer.class).values().stream()
                    .filter(c -> c.getClass().getName().startsWith("dev.tfo.")).count());
            assertEquals(1, app.getBeansOfType(TfoMetrics.class).size());

            Probe probe = app.getBean(Probe.class);
            MeterRegistry meters = app.getBean(MeterRegistry.class);
            int port = Integer.parseInt(app.getEnvironment().getProperty("local.server.port"));
            WebClient client = app.getBean(WebClient.Builder.class).build();
            try (Capture capture = Capture.here("lo", "tcp port " + port)) {
                for (int i = 0; i < 3; i++) {
                    String what = "WebClient GET #" + (i + 1);
                    probe.clients.clear();
                    probe.servers.clear();
                    CompletableFuture<TfoResult> verdict = new CompletableFuture<>();
                    probe.nextClient.set(verdict);
                    TfoCounters before = TfoCounters.snapshot();
                    assertEquals("hello", client.get().uri("http://" + IP + ":" + port + "/hello").retrieve()
                            .bodyToMono(String.class).block(WAIT), what);
                    Seen c = next(probe.clients, what + ": client");
                    Seen s = next(probe.servers, what + ": server");
                    TfoCounters delta = TfoCounters.snapshot().minus(before);
                    int clientPort = ((InetSocketAddress) c.channel.localAddress()).getPort();
                    assertEquals(clientPort, ((InetSocketAddress) s.channel.remoteAddress()).getPort(), what);
                    Packet syn = capture.await(p -> p.isSyn() && p.srcPort() == clientPort, WAIT);
                    assertTrue(syn.fastOpenCookie().isPresent(), what + ": TFO option in the SYN: " + syn);
                    if (i == 0) {
                        assertEquals(TfoOutcome.COOKIE_REQUESTED, c.result.outcome(), what + ": " + c.result);
                        assertEquals(TfoOutcome.NO_SYN_DATA, s.result.outcome(), what + ": " + s.result);
                        assertEquals(0, syn.payloadLength(), what + ": " + syn);
                        assertEquals(1, delta.cookieReqd(), what + ": " + delta);
                    } else {
                        assertEquals(TfoOutcome.SYN_DATA_ACKED, c.result.outcome(), what + ": " + c.result);
                        assertEquals(TfoOutcome.SYN_DATA_ACCEPTED, s.result.outcome(), what + ": " + s.result);
                        String payload = new String(syn.payload(), StandardCharsets.ISO_8859_1);
                        assertTrue(payload.startsWith("GET /hello HTTP/1.1\r\n"), what + ": the GET in the SYN: " + payload);
                        assertEquals(1, delta.active(), what + ": " + delta);
                        assertEquals(1, delta.passive(), what + ": " + delta);
                        assertEquals(0, delta.activeFail() + delta.passiveFail() + delta.cookieReqd(), what + ": " + delta);
                    }
                }
            }
            assertEquals(2, count(meters, "client", TfoOutcome.SYN_DATA_ACKED));
            assertEquals(2, count(meters, "server", TfoOutcome.SYN_DATA_ACCEPTED));
            assertEquals(1, count(meters, "client", TfoOutcome.COOKIE_REQUESTED));
        }
    }

    private static double count(MeterRegistry meters, String side, TfoOutcome outcome) {
        Counter c = meters.find("tfo.connections").tags("side", side, "outcome", outcome.name()).counter();
        return c == null ? 0 : c.count();
    }

    private static Seen next(BlockingQueue<Seen> queue, String what) throws InterruptedException {
        Seen seen = queue.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(seen, what + ": a result was told");
        return seen;
    }

    record Seen(Channel channel, TfoResult result) {
    }

    /** The starter tells every TfoResultListener bean each result; this one records them. */
    static final class Probe implements TfoResultListener {
        final BlockingQueue<Seen> clients = new LinkedBlockingQueue<>();
        final BlockingQueue<Seen> servers = new LinkedBlockingQueue<>();
        final AtomicReference<CompletableFuture<TfoResult>> nextClient = new AtomicReference<>();

        @Override
        public void onResult(Channel channel, TfoResult result) {
            if (channel.parent() != null) {
                servers.add(new Seen(channel, result));
            } else {
                clients.add(new Seen(channel, result));
                CompletableFuture<TfoResult> next = nextClient.getAndSet(null);
                if (next != null) {
                    next.complete(result);
                }
            }
        }
    }

    /**
     * WebFlux, WebClient, actuator and the starter; no TFO code. {@code /hello} closes its connection (so that each
     * request of the pooled WebClient opens a new one) once the client's result is decided (Reactor Netty closes the
     * client channel as soon as the response is read, which on loopback could beat that decision).
     */
    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {
        @Bean
        Probe probe() {
            return new Probe();
        }

        @Bean
        RouterFunction<ServerResponse> routes(Probe probe) {
            return RouterFunctions.route().GET("/hello", request -> {
                CompletableFuture<TfoResult> verdict = probe.nextClient.get();
                Mono<TfoResult> decided = verdict == null ? Mono.empty() : Mono.fromFuture(verdict).timeout(WAIT);
                return decided.then(ServerResponse.ok().header("Connection", "close").bodyValue("hello"));
            }).build();
        }
    }
}
