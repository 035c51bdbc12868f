package dev.tfo.spring.boot;

import dev.tfo.TfoCounters;
import dev.tfo.testkit.Capture;
import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.Host;
import dev.tfo.testkit.HostProcess;
import dev.tfo.testkit.Packet;
import dev.tfo.testkit.TestEnvironment;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.client.ReactorClientHttpRequestFactory;
import org.springframework.web.client.RestClient;
import reactor.netty.resources.LoopResources;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.tfo.TfoResult;

import static dev.tfo.spring.boot.Witness.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A real Spring Boot 4.0 application that is not a web server (a worker, say) with Spring Data Redis on Lettuce and
 * RestClient, the starter on its class path and no TFO code, in a fresh network namespace:
 * <ul>
 *   <li>Redis: Debian's {@code redis-server}, started by this JVM in the namespace; Redis never sets
 *       {@code TCP_FASTOPEN} on its listener, so the namespace's {@code net.ipv4.tcp_fastopen} is 1027 (0x400: every
 *       listener does TFO) for the test, as in tfo-frameworks-it's LettuceTfoTest, and 3 again afterwards. Lettuce's
 *       HELLO rides in the SYN from the second connection on.</li>
 *   <li>RestClient: Boot picks Reactor Netty's request factory (no Apache HttpClient or Jetty on the class path); its
 *       GET rides in the SYN from the second connection on.</li>
 * </ul>
 */
@FreshNetns
class RedisAndRestClientTfoTest {
    private static final String REDIS_IP = "127.0.0.51";
    private static final int REDIS_PORT = 6379;
    private static final String TCP_FASTOPEN = "net.ipv4.tcp_fastopen";

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class Worker {
        @Bean
        TfoProbe tfoProbe() {
            return new TfoProbe();
        }
    }

    private static ConfigurableApplicationContext startWorker() {
        return new SpringApplicationBuilder(Worker.class).web(WebApplicationType.NONE)
                .properties(Map.of("spring.main.banner-mode", "off", "spring.data.redis.host", REDIS_IP,
                        "spring.data.redis.port", String.valueOf(REDIS_PORT)))
                .run();
    }

    @Test
    void lettuceHelloRidesInTheSynFromTheSecondConnectionOn() throws Exception {
        Path redisServer = redisServer();
        Host here = Host.current();
        assertEquals("3", here.sysctl(TCP_FASTOPEN), "the fresh namespace's own value");
        here.sysctl(TCP_FASTOPEN, "1027");
        Path dir = Files.createTempDirectory("tfo-redis-");
        try (HostProcess redis = here.start(redisServer.toString(), "--bind", REDIS_IP, "--port",
                String.valueOf(REDIS_PORT), "--save", "", "--appendonly", "no", "--protected-mode", "no",
                "--dir", dir.toString());
             ConfigurableApplicationContext worker = startWorker();
             Capture capture = Capture.here("lo", "tcp port " + REDIS_PORT)) {
            redis.awaitLine(l -> l.contains("Ready to accept connections"), WAIT);
            TfoProbe probe = worker.getBean(TfoProbe.class);
            LettuceConnectionFactory factory = worker.getBean(LettuceConnectionFactory.class);
            factory.setShareNativeConnection(false); // a connection of its own for each getConnection()
            List<String> outcomes = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                String what = "Spring Data Redis connection #" + (i + 1);
                probe.clients.clear();
                TfoCounters before = TfoCounters.snapshot();
                TfoProbe.Seen seen;
                TfoCounters delta;
                try (RedisConnection connection = factory.getConnection()) {
                    assertEquals("PONG", connection.ping(), what);
                    // Open until closed: the result cannot race a close.
                    seen = TfoProbe.next(probe.clients, what);
                    delta = TfoCounters.snapshot().minus(before);
                }
                Packet syn = Witness.syn(capture, Witness.localPort(seen.channel()));
                outcomes.add(seen.result().outcome() + " " + new String(syn.payload(), StandardCharsets.US_ASCII)
                        .replace("\r\n", "\\r\\n"));
                if (i == 0) {
                    Witness.assertCookieRequest(what, syn, seen.result(), null, delta);
                } else {
                    Witness.assertDataInSyn(what, syn, "*2\r\n$5\r\nHELLO\r\n", seen.result(), null, delta);
                }
            }
            System.out.println("SPRING DATA REDIS outcomes: " + outcomes);
        } finally {
            // Not through Host: it refuses to change a namespace whose tcp_fastopen is not 3. After redis stopped.
            Files.writeString(TestEnvironment.TCP_FASTOPEN, "3\n");
            Files.deleteIfExists(dir);
        }
        assertEquals("3", here.sysctl(TCP_FASTOPEN), "restored");
    }

    @Test
    void restClientGetRidesInTheSynFromTheSecondConnectionOn() throws Exception {
        LoopResources loops = LoopResources.create("tfo-test-rest", 1, true);
        try (ConfigurableApplicationContext worker = startWorker();
             TfoTestServer server = new TfoTestServer("127.0.0.52", loops);
             Capture capture = Capture.here("lo", "tcp port " + server.port())) {
            ClientHttpRequestFactory requestFactory = worker.getBean(ClientHttpRequestFactory.class);
            assertInstanceOf(ReactorClientHttpRequestFactory.class, requestFactory, "Boot chose Reactor Netty");
            RestClient client = worker.getBean(RestClient.Builder.class).build();
            TfoProbe probe = worker.getBean(TfoProbe.class);
            for (int i = 0; i < 3; i++) {
                String what = "RestClient GET #" + (i + 1);
                probe.clients.clear();
                server.results.clear();
                CompletableFuture<TfoResult> verdict = new CompletableFuture<>();
                probe.nextClient.set(verdict);
                server.hold.set(verdict);
                TfoCounters before = TfoCounters.snapshot();
                assertEquals("hello", client.get().uri(server.url("/hello")).retrieve().body(String.class), what);
                TfoProbe.Seen seen = TfoProbe.next(probe.clients, what);
                TfoResult serverResult = server.results.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                TfoCounters delta = TfoCounters.snapshot().minus(before);
                Packet syn = Witness.syn(capture, Witness.localPort(seen.channel()));
                if (i == 0) {
                    Witness.assertCookieRequest(what, syn, seen.result(), serverResult, delta);
                } else {
                    Witness.assertDataInSyn(what, syn, "GET /hello HTTP/1.1\r\n", seen.result(), serverResult, delta);
                }
            }
        } finally {
            loops.disposeLater().block(WAIT);
        }
    }

    /** The redis-server binary; missing: FAIL under CI (test.sh installs it), skip elsewhere, with the reason. */
    private static Path redisServer() {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.addAll(List.of("/usr/bin", "/usr/sbin", "/usr/local/bin"));
        Optional<Path> found = dirs.stream().filter(d -> !d.isBlank()).map(d -> Path.of(d, "redis-server"))
                .filter(Files::isExecutable).findFirst();
        if (found.isPresent()) {
            return found.get();
        }
        String reason = "redis-server is not installed (Debian package redis-server: apt-get install -y redis-server;"
                + " test.sh installs it)";
        if (TestEnvironment.isCi()) {
            fail(reason);
        }
        Assumptions.abort(reason);
        throw new AssertionError(reason);
    }
}
