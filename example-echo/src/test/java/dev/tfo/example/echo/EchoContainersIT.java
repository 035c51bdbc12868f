package dev.tfo.example.echo;

import com.github.dockerjava.api.model.Network.Ipam;
import dev.tfo.TfoCounters;
import dev.tfo.TfoOutcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.output.OutputFrame.OutputType;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The shaded jar in containers built from {@code docker/Dockerfile}, each container with its own
 * {@code net.ipv4.tcp_fastopen} (the host's is never touched), on a private network in 198.18.0.0/15.
 *
 * <p>Nothing is pulled: the base image ({@code -Dtfo.baseImage}, env {@code tfo.baseImage} or
 * {@code TFO_BASE_IMAGE}; default {@code tfo-base:17}) must exist locally. Without Docker the tests FAIL when
 * {@code CI=true} and are skipped (with the reason) otherwise. Container logs are printed when a test fails.
 */
class EchoContainersIT {
    private static final String BASE_IMAGE = setting("tfo.baseImage", "TFO_BASE_IMAGE", "tfo-base:17");
    private static final String SUBNET = setting("tfo.it.subnet", "TFO_IT_SUBNET", "198.18.77.0/24");
    private static final int COUNT = 5;

    private static ImageFromDockerfile image;
    private static Network network;
    private final List<GenericContainer<?>> containers = new ArrayList<>();

    /** Prints every container's logs when the test failed, before {@link #stopContainers()} removes them. */
    @RegisterExtension
    final AfterTestExecutionCallback logsOnFailure = context -> context.getExecutionException().ifPresent(e -> {
        for (GenericContainer<?> c : containers) {
            System.err.println("===== logs of container " + c.getNetworkAliases() + " " + c.getCommandParts().length
                    + " args " + String.join(" ", c.getCommandParts()) + " =====\n" + safeLogs(c));
        }
    });

    @BeforeAll
    static void buildImageAndNetwork() throws Exception {
        String problem = dockerProblem();
        if (problem != null) {
            if ("true".equals(System.getenv("CI"))) {
                fail("Docker is required when CI=true: " + problem);
            }
            Assumptions.abort("Docker unavailable, container tests skipped (they fail under CI=true): " + problem);
        }
        Path jar = Path.of(System.getProperty("tfo.echoJar", "target/example-echo.jar"));
        Path dockerfile = Path.of(System.getProperty("tfo.dockerfile", "../docker/Dockerfile"));
        assertTrue(Files.isRegularFile(jar), jar + " missing: run `mvn verify` (the jar is built in package)");
        assertTrue(Files.isRegularFile(dockerfile), dockerfile + " missing");
        // The build context holds only the jar (as docker/Dockerfile expects); BASE_IMAGE is local, never pulled.
        image = new ImageFromDockerfile("tfo-echo-it", true)
                .withFileFromPath("example-echo.jar", jar)
                .withFileFromPath("Dockerfile", dockerfile)
                .withBuildArg("BASE_IMAGE", BASE_IMAGE);
        image.get();
        network = Network.builder()
                .createNetworkCmdModifier(cmd -> cmd.withIpam(new Ipam().withConfig(new Ipam.Config().withSubnet(SUBNET))))
                .build();
    }

    @AfterAll
    static void removeNetworkAndImage() throws Exception {
        if (network != null) {
            network.close();
        }
        if (image != null) {
            // Without Ryuk nothing else removes it.
            DockerClientFactory.instance().client().removeImageCmd(image.get()).withForce(true).exec();
        }
    }

    @AfterEach
    void stopContainers() {
        containers.forEach(GenericContainer::stop);
    }

    @Test
    void bothSidesWithTfoCarryDataInTheSynFromTheSecondConnection() throws Exception {
        GenericContainer<?> server = startServer(3);
        TfoCounters before = serverCounters(server);
        List<Map<String, String>> objects = runClient(3, "-s", "server", "-p", "2222", "--count", String.valueOf(COUNT),
                "--json", "--size", "3000");
        assertEquals(TfoOutcome.COOKIE_REQUESTED.name(), objects.get(0).get("outcome"), objects::toString);
        for (int i = 1; i < COUNT; i++) {
            assertEquals(TfoOutcome.SYN_DATA_ACKED.name(), objects.get(i).get("outcome"), objects::toString);
            assertEquals("1", objects.get(i).get("TCPFastOpenActive"), objects::toString);
        }
        assertIntact(objects, 3000);
        assertEquals((COUNT - 1) + "/" + COUNT + " connections carried data in the SYN; 1 requested a cookie",
                objects.get(COUNT).get("summary"));
        // The server's own kernel, as a second witness.
        TfoCounters delta = serverCounters(server).minus(before);
        assertEquals(COUNT - 1, delta.passive(), delta::toString);
        assertEquals(1, delta.cookieReqd(), delta::toString);
        assertEquals(COUNT - 1, count(server.getLogs(), ": SYN_DATA_ACCEPTED ("), server::getLogs);
        assertEquals(1, count(server.getLogs(), ": NO_SYN_DATA ("), server::getLogs);
    }

    @Test
    void serverWithoutTfoStillEchoesEveryByteAndSaysWhy() throws Exception {
        GenericContainer<?> server = startServer(1);
        TfoCounters before = serverCounters(server);
        List<Map<String, String>> objects = runClient(3, "-s", "server", "-p", "2222", "--count", String.valueOf(COUNT),
                "--json");
        assertIntact(objects, Main.DEFAULT_MESSAGE.length());
        for (int i = 0; i < COUNT; i++) {
            // The listener ignores TCP_FASTOPEN, so its SYN-ACK never carries a cookie.
            assertEquals(TfoOutcome.COOKIE_REQUESTED.name(), objects.get(i).get("outcome"), objects::toString);
            assertTrue(objects.get(i).get("reason").contains("no cookie"), objects::toString);
        }
        assertEquals("0/" + COUNT + " connections carried data in the SYN; " + COUNT + " requested a cookie",
                objects.get(COUNT).get("summary"));
        assertEquals(0, serverCounters(server).minus(before).passive());
        assertTrue(server.getLogs(OutputType.STDERR).contains("lacks the server bit 0x2"), server::getLogs);
    }

    @Test
    void clientWithoutTfoStillEchoesEveryByteAndSaysWhy() throws Exception {
        GenericContainer<?> server = startServer(3);
        List<Map<String, String>> objects = runClient(0, "-s", "server", "-p", "2222", "--count", String.valueOf(COUNT),
                "--json");
        assertIntact(objects, Main.DEFAULT_MESSAGE.length());
        for (int i = 0; i < COUNT; i++) {
            assertEquals(TfoOutcome.NOT_ATTEMPTED.name(), objects.get(i).get("outcome"), objects::toString);
            assertTrue(objects.get(i).get("reason").contains("net.ipv4.tcp_fastopen"), objects::toString);
        }
        assertEquals("0/" + COUNT + " connections carried data in the SYN; " + COUNT + " did not attempt TFO",
                objects.get(COUNT).get("summary"));
        assertEquals(COUNT, count(server.getLogs(), ": NO_SYN_DATA ("), server::getLogs);
    }

    @Test
    void selfConnectInOneContainer() throws Exception {
        List<Map<String, String>> objects = runClient(3, "-l", "--count", "3", "--json");
        assertIntact(objects, Main.DEFAULT_MESSAGE.length());
        assertEquals(TfoOutcome.COOKIE_REQUESTED.name(), objects.get(0).get("outcome"), objects::toString);
        assertEquals(TfoOutcome.SYN_DATA_ACKED.name(), objects.get(1).get("outcome"), objects::toString);
        assertEquals(TfoOutcome.SYN_DATA_ACKED.name(), objects.get(2).get("outcome"), objects::toString);
        assertEquals("2/3 connections carried data in the SYN; 1 requested a cookie", objects.get(3).get("summary"));
    }

    private GenericContainer<?> echoContainer(String alias, int tcpFastopen, String... command) {
        GenericContainer<?> c = new GenericContainer<>(image)
                .withImagePullPolicy(name -> false)
                .withNetwork(network)
                .withNetworkAliases(alias)
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig()
                        .withSysctls(Map.of("net.ipv4.tcp_fastopen", String.valueOf(tcpFastopen))))
                .withCommand(command);
        containers.add(c);
        return c;
    }

    private GenericContainer<?> startServer(int tcpFastopen) {
        GenericContainer<?> server = echoContainer("server", tcpFastopen, "--listen-only", "-p", "2222")
                .waitingFor(Wait.forLogMessage("server: listening on .*\\n", 1)
                        .withStartupTimeout(Duration.ofSeconds(60)));
        server.start();
        return server;
    }

    /** Runs a client container to its end (exit 0 required) and returns its JSON Lines, summary last. */
    private List<Map<String, String>> runClient(int tcpFastopen, String... args) {
        GenericContainer<?> client = echoContainer("client", tcpFastopen, args)
                .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofSeconds(90)));
        client.start();
        List<Map<String, String>> objects = client.getLogs(OutputType.STDOUT).lines()
                .filter(l -> !l.isBlank()).map(Json::fields).toList();
        int expected = Integer.parseInt(args[List.of(args).indexOf("--count") + 1]);
        assertEquals(expected + 1, objects.size(), client::getLogs);
        for (int i = 0; i < expected; i++) {
            assertEquals(String.valueOf(i + 1), objects.get(i).get("index"), objects::toString);
            assertTrue(Double.parseDouble(objects.get(i).get("elapsedMs")) > 0, objects::toString);
            assertFalse(objects.get(i).get("reason").isBlank(), objects::toString);
        }
        assertTrue(objects.get(expected).containsKey("summary"), objects::toString);
        return objects;
    }

    private static void assertIntact(List<Map<String, String>> objects, int bytes) {
        for (Map<String, String> o : objects.subList(0, objects.size() - 1)) {
            assertEquals(String.valueOf(bytes), o.get("bytesSent"), objects::toString);
            assertEquals(String.valueOf(bytes), o.get("bytesEchoed"), objects::toString);
            assertEquals("true", o.get("intact"), objects::toString);
        }
        assertEquals(String.valueOf(objects.size() - 1), objects.get(objects.size() - 1).get("intact"));
    }

    private static TfoCounters serverCounters(GenericContainer<?> server) throws Exception {
        GenericContainer.ExecResult r = server.execInContainer("cat", "/proc/net/netstat");
        assertEquals(0, r.getExitCode(), r::getStderr);
        return TfoCounters.parse(r.getStdout());
    }

    private static long count(String text, String needle) {
        return text.lines().filter(l -> l.contains(needle)).count();
    }

    private static String safeLogs(GenericContainer<?> c) {
        try {
            return c.getContainerId() == null ? "(never created)" : c.getLogs();
        } catch (RuntimeException e) {
            return "(logs unavailable: " + e + ")";
        }
    }

    private static String dockerProblem() {
        try {
            return DockerClientFactory.instance().isDockerAvailable() ? null
                    : "no Docker environment found (DOCKER_HOST, /var/run/docker.sock)";
        } catch (RuntimeException | Error e) {
            return String.valueOf(e);
        }
    }

    private static String setting(String property, String env, String fallback) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            value = System.getenv(property);
        }
        if (value == null || value.isBlank()) {
            value = System.getenv(env);
        }
        return value == null || value.isBlank() ? fallback : value;
    }
}
