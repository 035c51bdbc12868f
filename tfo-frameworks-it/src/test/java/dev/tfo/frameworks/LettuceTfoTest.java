package dev.tfo.frameworks;

import dev.tfo.TfoCounters;
import dev.tfo.TfoResult;
import dev.tfo.testkit.Capture;
import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.Host;
import dev.tfo.testkit.HostProcess;
import dev.tfo.testkit.Packet;
import dev.tfo.testkit.TestEnvironment;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.NettyCustomizer;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static dev.tfo.frameworks.Witness.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Lettuce 7 against a real {@code redis-server} (Debian's package), started by this JVM so that it lives in the
 * test's fresh network namespace. Redis never sets {@code TCP_FASTOPEN} on its listener, so for this test the
 * namespace's {@code net.ipv4.tcp_fastopen} is {@code 1027} (0x403: bit 0x400 gives TFO to every listener),
 * and back to 3 afterwards. The client is configured by the README recipe "Lettuce" ({@link FrameworkTfo#lettuce()});
 * the test's customizer only delegates to it and adds the probe.
 *
 * <p>Witnesses: the client's {@code TfoResult} (the channel from {@code afterChannelInitialized}), counters, the
 * captured SYN. Redis's own view is out of reach (not a Java server); the counters' {@code Passive} stands for it.
 */
@FreshNetns
class LettuceTfoTest {
    /** Each test reports the declared skip on Netty 4.1 (a class-level abort would leave no trace in the report). */
    @org.junit.jupiter.api.BeforeEach
    void lettuce7NeedsNetty42() {
        FrameworkLine.requireNetty42("Lettuce 7", "Lettuce 6 is the Netty 4.1 line");
    }

    private static final String IP = "127.0.0.15";
    private static final int PORT = 6379; // the namespace is fresh and ours: nothing else listens there
    private static final String TCP_FASTOPEN = "net.ipv4.tcp_fastopen";
    private static final String HELLO_3 = "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n";

    @Test
    void lettucesFirstWriteRidesInTheSyn() throws Exception {
        Path redisServer = redisServer();
        Host here = Host.current();
        assertEquals("3", here.sysctl(TCP_FASTOPEN), "the fresh namespace's own value");
        here.sysctl(TCP_FASTOPEN, "1027");
        assertEquals("1027", here.sysctl(TCP_FASTOPEN));
        Path dir = Files.createTempDirectory("tfo-redis-");
        try (HostProcess redis = here.start(redisServer.toString(), "--bind", IP, "--port", String.valueOf(PORT),
                "--save", "", "--appendonly", "no", "--protected-mode", "no", "--dir", dir.toString())) {
            redis.awaitLine(l -> l.contains("Ready to accept connections"), WAIT);
            exercise();
        } finally {
            // Not through Host: it refuses to change a namespace whose tcp_fastopen is not 3 (its test of "a fresh
            // netns-java namespace"), which is the state this test put it in. Written only after redis stopped.
            Files.writeString(TestEnvironment.TCP_FASTOPEN, "3\n");
            Files.deleteIfExists(dir);
        }
        assertEquals("3", here.sysctl(TCP_FASTOPEN), "restored");
        assertTrue(TestEnvironment.inFreshNetns(), "the namespace is as the next test expects");
    }

    private void exercise() throws Exception {
        BlockingQueue<Probed> channels = new LinkedBlockingQueue<>();
        // README "Lettuce": the recipe's customizer, wrapped only to add the test's probe.
        NettyCustomizer tfo = FrameworkTfo.lettuce();
        NettyCustomizer probing = new NettyCustomizer() {
            @Override
            public void afterBootstrapInitialized(Bootstrap bootstrap) {
                tfo.afterBootstrapInitialized(bootstrap);
            }

            @Override
            public void afterChannelInitialized(Channel channel) {
                tfo.afterChannelInitialized(channel);
                FirstWriteProbe probe = new FirstWriteProbe();
                FirstWriteProbe.install(channel.pipeline(), probe);
                channels.add(new Probed(channel, probe));
            }
        };
        ClientResources resources = ClientResources.builder().nettyCustomizer(probing).build();
        RedisClient client = RedisClient.create(resources, RedisURI.builder().withHost(IP).withPort(PORT)
                .withTimeout(WAIT).build());
        List<String> firstFlights = new ArrayList<>();
        try (Capture capture = Capture.here("lo", "tcp port " + PORT)) {
            for (int i = 0; i < 3; i++) {
                String what = "Lettuce connection #" + (i + 1);
                TfoCounters before = TfoCounters.snapshot();
                Probed probed;
                TfoResult result;
                TfoCounters delta;
                try (StatefulRedisConnection<String, String> connection = client.connect()) {
                    assertEquals("PONG", connection.sync().ping(), what);
                    probed = channels.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    assertNotNull(probed, what + ": a channel was initialised");
                    // The connection stays open until closed: the verdict cannot race a close.
                    result = TfoResult.of(probed.channel).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    delta = TfoCounters.snapshot().minus(before);
                }
                int port = Witness.localPort(probed.channel);
                Packet syn = Witness.syn(capture, port);
                assertEquals(1, Witness.syns(capture.packets(), port).size(), what + ": one SYN, no retransmission");
                byte[] first = probed.probe.firstFlight();
                firstFlights.add(FirstWriteProbe.printable(first, 200));
                // Lettuce's connection handshake goes first, before any command of ours: HELLO 3 (RESP3).
                assertEquals(HELLO_3, new String(first, StandardCharsets.US_ASCII), what + ": Lettuce's first write");
                if (i == 0) {
                    Witness.assertCookieRequest(what, syn, result, null, delta);
                } else {
                    Witness.assertDataInSyn(what, syn, first, result, null, delta);
                }
                System.out.printf("TIMING %s (%s, %s): %s%n", what, result.outcome(),
                        probed.channel.getClass().getSimpleName(), probed.probe.summary());
            }
        } finally {
            client.shutdown(0, 10, TimeUnit.SECONDS);
            resources.shutdown(0, 10, TimeUnit.SECONDS).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }
        System.out.println("LETTUCE first flights: " + firstFlights);
    }

    private record Probed(Channel channel, FirstWriteProbe probe) {
    }

    /** The redis-server binary; missing: FAIL under CI (.ci/run installs it), skip elsewhere, with the reason. */
    private static Path redisServer() {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.addAll(List.of("/usr/bin", "/usr/sbin", "/usr/local/bin"));
        Optional<Path> found = dirs.stream().filter(d -> !d.isBlank()).map(d -> Path.of(d, "redis-server"))
                .filter(Files::isExecutable).findFirst();
        if (found.isPresent()) {
            return found.get();
        }
        String reason = "redis-server is not installed (Debian package redis-server: apt-get install -y redis-server;"
                + " .ci/run installs it)";
        if (TestEnvironment.isCi()) {
            fail(reason);
        }
        Assumptions.abort(reason);
        throw new AssertionError(reason);
    }
}
