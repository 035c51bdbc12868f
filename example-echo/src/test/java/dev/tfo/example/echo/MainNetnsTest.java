package dev.tfo.example.echo;

import dev.tfo.testkit.PrometheusText;
import dev.tfo.TfoCounters;
import dev.tfo.TfoOutcome;
import dev.tfo.TfoSupport;
import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.Host;
import dev.tfo.testkit.HostProcess;
import dev.tfo.testkit.TestTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.NetworkInterface;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.function.ToLongFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real TCP Fast Open on loopback: this JVM runs in a fresh network namespace with tcp_fastopen=3 (surefire's
 * netns-test execution), where {@code -l --count 3} must put the data of connections 2..3 in the SYN. The
 * namespace has only {@code lo}, like {@code unshare -rn}: the example must run there without Netty's
 * hardware-address warning.
 */
@FreshNetns
class MainNetnsTest {
    private static final String NO_HARDWARE_ADDRESS = "Failed to find a usable hardware address";
    /** Cookies are cached per server IP: the metrics tests serve on addresses of their own (127.0.4.x). */
    private static final AtomicInteger NEXT_IP = new AtomicInteger(10);
    private static final Map<String, ToLongFunction<TfoCounters>> KERNEL = Map.of(
            "tfo_kernel_active_connections_total", TfoCounters::active,
            "tfo_kernel_active_fail_connections_total", TfoCounters::activeFail,
            "tfo_kernel_passive_connections_total", TfoCounters::passive,
            "tfo_kernel_passive_fail_connections_total", TfoCounters::passiveFail,
            "tfo_kernel_cookie_requested_connections_total", TfoCounters::cookieReqd,
            "tfo_kernel_listen_overflow_connections_total", TfoCounters::listenOverflow,
            "tfo_kernel_blackhole_events_total", TfoCounters::blackhole,
            "tfo_kernel_passive_alt_key_connections_total", TfoCounters::passiveAltKey);

    private static String freshIp() {
        return "127.0.4." + NEXT_IP.getAndIncrement();
    }

    private static double connections(Map<String, Double> samples, String side, TfoOutcome outcome, String transport) {
        return PrometheusText.sum(samples, "tfo_connections_total",
                Map.of("side", side, "outcome", outcome.name(), "transport", transport));
    }

    /** The kernel meters equal the namespace's counters (this JVM and the example share the namespace). */
    private static void assertKernelMetersAre(TfoCounters counters, Map<String, Double> samples, String context) {
        KERNEL.forEach((series, counter) ->
                assertEquals((double) counter.applyAsLong(counters), samples.get(series), series + " " + context));
    }

    @ParameterizedTest
    @MethodSource("dev.tfo.testkit.TestTransport#tfoCapable")
    void selfConnectCarriesDataInTheSynFromTheSecondConnection(TestTransport transport) {
        assertDataInSynFromTheSecondConnection(Cli.run("-l", "-p", "0", "--count", "3", "--json",
                "--transport", transport.displayName()));
    }

    /** The same, the way every Netty user writes a client: connect, then write once active. */
    @ParameterizedTest
    @MethodSource("dev.tfo.testkit.TestTransport#tfoCapable")
    void connectThenWriteCarriesDataInTheSynFromTheSecondConnection(TestTransport transport) {
        assertDataInSynFromTheSecondConnection(Cli.run("-l", "-p", "0", "--count", "3", "--json",
                "--transport", transport.displayName(), "--connect-then-write"));
    }

    private static void assertDataInSynFromTheSecondConnection(Cli cli) {
        assertTrue(TfoSupport.current().isClientAvailable() && TfoSupport.current().isServerAvailable(),
                TfoSupport.current()::describe);
        assertEquals(0, cli.exitCode(), cli::toString);
        List<String> lines = cli.outLines();
        assertEquals(4, lines.size(), cli::toString);
        // The first connection requests a cookie, unless an earlier test in this namespace already got one.
        String first = Json.fields(lines.get(0)).get("outcome");
        assertTrue(first.equals(TfoOutcome.COOKIE_REQUESTED.name()) || first.equals(TfoOutcome.SYN_DATA_ACKED.name()),
                cli::toString);
        for (int i = 1; i < 3; i++) {
            Map<String, String> c = Json.fields(lines.get(i));
            assertEquals(TfoOutcome.SYN_DATA_ACKED.name(), c.get("outcome"), cli::toString);
            assertEquals("true", c.get("intact"), cli::toString);
            assertEquals("true", c.get("dataInSyn"), cli::toString);
            // Client and server share this namespace: both counters moved.
            assertEquals("1", c.get("TCPFastOpenActive"), cli::toString);
            assertEquals("1", c.get("TCPFastOpenPassive"), cli::toString);
        }
        Map<String, String> summary = Json.fields(lines.get(3));
        assertTrue(summary.get("summary").matches("[23]/3 connections carried data in the SYN.*"), cli::toString);
        assertTrue(cli.err().contains("server: connection 3 from 127.0.0.1:") && cli.err().contains("SYN_DATA_ACCEPTED"),
                cli::toString);
        assertFalse(cli.err().contains("TCP Fast Open works"), "fully available, no diagnosis line: " + cli);
    }

    @Test
    void runWithOnlyLoopbackPrintsNoHardwareAddressWarning() throws Exception {
        List<String> interfaces = Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
                .map(NetworkInterface::getName).toList();
        assertEquals(List.of("lo"), interfaces, "a namespace with only lo");
        // Control: a plain Netty program here does print the warning.
        try (HostProcess probe = Host.current().startJava(ChannelIdProbe.class)) {
            assertEquals(0, probe.awaitExit(Duration.ofSeconds(60)), probe::transcript);
            assertTrue(probe.stderr().contains(NO_HARDWARE_ADDRESS), probe::transcript);
        }
        // The example, with no -Dio.netty.machineId of the user's.
        try (HostProcess example = Host.current().startJava(Main.class, "-l", "-p", "0", "--count", "2")) {
            assertEquals(0, example.awaitExit(Duration.ofSeconds(60)), example::transcript);
            assertTrue(example.lines().stream().anyMatch(l -> l.startsWith("connection 2: sent 21 bytes, echoed 21 bytes intact")),
                    example::transcript);
            assertFalse(example.stderr().contains(NO_HARDWARE_ADDRESS), example::transcript);
            // Nor any other warning: the run is what a new user sees (somaxconn once read as 4 here, and warned).
            assertFalse(example.stderr().lines().anyMatch(l -> l.contains("WARNING")), example::transcript);
        }
    }

    /**
     * {@code -l --metrics}: the meters printed at exit count the outcomes the run reported, on both sides, and
     * the kernel meters are the namespace's counters; the client's hit rate is 2/3.
     */
    static Stream<Arguments> transportsAndModes() {
        return Stream.of("first flight", "connect then write")
                .flatMap(mode -> TestTransport.tfoCapable().stream().map(t -> Arguments.of(t, mode)));
    }

    @ParameterizedTest
    @MethodSource("transportsAndModes")
    void selfConnectMetricsCountTheOutcomesAndTheKernelCounters(TestTransport under, String mode) {
        String transport = under.displayName();
        List<String> args = new ArrayList<>(List.of("-s", freshIp(), "-l", "-p", "0", "--count", "3", "--json",
                "--metrics", "--transport", transport));
        if (mode.equals("connect then write")) {
            args.add("--connect-then-write");
        }
        Cli cli = Cli.run(args.toArray(String[]::new));
        TfoCounters kernel = TfoCounters.snapshot();
        assertEquals(0, cli.exitCode(), cli::toString);
        List<String> outcomes = cli.outLines().subList(0, 3).stream().map(l -> Json.fields(l).get("outcome")).toList();
        assertEquals(List.of("COOKIE_REQUESTED", "SYN_DATA_ACKED", "SYN_DATA_ACKED"), outcomes, cli::toString);
        Map<String, Double> samples = PrometheusText.samplesIn(cli.err());
        for (TfoOutcome o : TfoOutcome.values()) {
            double expected = o == TfoOutcome.COOKIE_REQUESTED || o == TfoOutcome.NO_SYN_DATA ? 1
                    : o == TfoOutcome.SYN_DATA_ACKED || o == TfoOutcome.SYN_DATA_ACCEPTED ? 2 : 0;
            String side = o == TfoOutcome.SYN_DATA_ACCEPTED || o == TfoOutcome.NO_SYN_DATA ? "server" : "client";
            assertEquals(expected, connections(samples, side, o, transport), o + " " + cli);
        }
        double hitRate = connections(samples, "client", TfoOutcome.SYN_DATA_ACKED, transport)
                / PrometheusText.sum(samples, "tfo_connections_total", Map.of("side", "client"));
        assertEquals(2.0 / 3, hitRate, 1e-9, cli::toString);
        assertKernelMetersAre(kernel, samples, cli.toString());
    }

    /**
     * {@code --listen-only --metrics-port 0 --metrics}, in a process of its own: the endpoint serves the
     * server's meters while it runs, and the same are printed when SIGTERM stops it.
     */
    @Test
    void listenOnlyServesTheMetersWhileRunningAndPrintsThemAtExit() throws Exception {
        String ip = freshIp();
        try (HostProcess server = Host.current().startJava(Main.class, "--listen-only", "-s", ip, "-p", "0",
                "--metrics", "--metrics-port", "0")) {
            Matcher serving = Pattern
                    .compile("metrics: serving the Prometheus text format on (http://127\\.0\\.0\\.1:\\d+/metrics)")
                    .matcher(server.awaitLine(l -> l.startsWith("metrics: serving"), Duration.ofSeconds(30)));
            assertTrue(serving.matches(), server::transcript);
            Matcher listening = Pattern.compile("server: listening on [0-9.]+:(\\d+) .*")
                    .matcher(server.awaitLine(l -> l.startsWith("server: listening on"), Duration.ofSeconds(30)));
            assertTrue(listening.matches(), server::transcript);

            Cli client = Cli.run("-s", ip, "-p", listening.group(1), "--count", "3", "--json");
            assertEquals(0, client.exitCode(), client::toString);
            server.awaitLine(l -> l.startsWith("server: connection 3 "), Duration.ofSeconds(10));

            HttpResponse<String> response = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(serving.group(1))).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            TfoCounters kernel = TfoCounters.snapshot();
            assertEquals(200, response.statusCode(), response::body);
            Map<String, Double> served = PrometheusText.samplesIn(response.body());
            assertEquals(1.0, connections(served, "server", TfoOutcome.NO_SYN_DATA, "epoll"), response.body());
            assertEquals(2.0, connections(served, "server", TfoOutcome.SYN_DATA_ACCEPTED, "epoll"), response.body());
            assertEquals(0.0, PrometheusText.sum(served, "tfo_connections_total", Map.of("side", "client")),
                    "a server only: " + response.body());
            assertKernelMetersAre(kernel, served, response.body());

            server.close(); // SIGTERM: the shutdown hook stops the server and prints the meters
            List<String> lines = server.lines();
            int header = lines.indexOf("metrics (Prometheus text format):");
            assertTrue(header > lines.indexOf("server: shutting down"), server::transcript);
            Map<String, Double> printed = PrometheusText.samplesIn(String.join("\n", lines.subList(header, lines.size())));
            assertEquals(served, printed, server::transcript);
        }
    }
}
