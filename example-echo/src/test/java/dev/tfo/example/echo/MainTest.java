package dev.tfo.example.echo;

import dev.tfo.testkit.PrometheusText;
import dev.tfo.TfoOutcome;
import dev.tfo.TfoSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line: parsing, validation, exit codes, one-line errors, and whole runs in this JVM. */
class MainTest {
    /** Client-side outcomes this host can give without server TFO (its tcp_fastopen is 1 or 0). */
    private static final Set<String> CLIENT_OUTCOMES = Set.of(TfoOutcome.COOKIE_REQUESTED.name(),
            TfoOutcome.NOT_ATTEMPTED.name(), TfoOutcome.SYN_DATA_ACKED.name(), TfoOutcome.DATA_NOT_ACKED.name());

    @Test
    void helpListsTheFlagsAndExitsZero() {
        Cli cli = Cli.run("--help");
        assertEquals(0, cli.exitCode(), cli::toString);
        for (String flag : List.of("-s, --server", "-p, --port", "-l, --listen", "--listen-only", "--count",
                "--message", "--size", "--transport", "--json", "--metrics", "--metrics-port", "--metrics-host", "--diagnose",
                "-h, --help")) {
            assertTrue(cli.out().contains(flag), () -> flag + " missing from\n" + cli.out());
        }
        assertTrue(cli.out().contains("default: 2222"), cli::toString);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "--bogus|Unknown option: '--bogus'",
            "-p 70000|port out of range: 70000 (1..65535)",
            "-p -1|port out of range: -1",
            "-p 0|port out of range: 0 (1..65535)",
            "-l -p 65536|port out of range: 65536 (0..65535)",
            "-p abc|'abc' is not an int",
            "--count 0|--count must be at least 1, was 0",
            "--size 0|--size must be 1..",
            "--message|Missing required parameter for option '--message'",
            "--message hi --size 3|--message and --size exclude each other",
            "-l --listen-only|-l/--listen and --listen-only exclude each other",
            "--transport kqueue|Invalid value for option '--transport'",
            "--timeout 0|--timeout must be at least 1 second",
            "surplus|Unmatched argument at index 0: 'surplus'",
            "--metrics-port 65536|--metrics-port out of range: 65536 (0..65535)",
            "--metrics-port -1|--metrics-port out of range: -1",
            "--metrics-host 127.0.0.1|--metrics-host needs --metrics-port",
    })
    void badUsageIsOneLineOnStderrAndExitTwo(String spec) {
        String[] parts = spec.split("\\|");
        Cli cli = Cli.run(parts[0].split(" "));
        assertEquals(Main.USAGE, cli.exitCode(), cli::toString);
        assertEquals("", cli.out(), cli::toString);
        assertEquals(1, cli.errLines().size(), cli::toString);
        assertTrue(cli.err().startsWith("example-echo: "), cli::toString);
        assertTrue(cli.err().contains(parts[1]), cli::toString);
        assertTrue(cli.err().strip().endsWith("(see --help)"), cli::toString);
    }

    @Test
    void transportNamesAreCaseInsensitive() {
        Cli cli = Cli.run("-l", "-p", "0", "--count", "1", "--transport", "NIO");
        assertEquals(0, cli.exitCode(), cli::toString);
        assertTrue(cli.out().contains("over nio"), cli::toString);
    }

    @Test
    void diagnosePrintsTheWholeDiagnosisAndCountersThenExits() {
        Cli cli = Cli.run("--diagnose");
        assertEquals(0, cli.exitCode(), cli::toString);
        assertTrue(cli.out().startsWith("net.ipv4.tcp_fastopen = "), cli::toString);
        assertTrue(cli.out().contains("epoll: "), cli::toString);
        assertTrue(cli.out().contains(TfoSupport.current().summary()), cli::toString);
        assertTrue(cli.out().contains("TCPFastOpen counters: Active="), cli::toString);
        assertFalse(cli.out().contains("connection 1"), "no connection made: " + cli);
    }

    @Test
    void selfConnectWarnsAboutTheBitsAClientAndAServerNeed() {
        Cli cli = Cli.run("-l", "-p", "0", "--count", "1");
        assertEquals(0, cli.exitCode(), cli::toString);
        Optional<String> expected = StartupWarning.of(TfoSupport.current(), true, true);
        assertEquals(expected.map(w -> List.of("example-echo: " + w)).orElse(List.of()), tfoWarnings(cli), cli::toString);
    }

    @Test
    void clientOnlyRunNeverWarnsAboutTheServerBit() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                try (Socket s = server.accept()) {
                    s.getOutputStream().write(s.getInputStream().readNBytes(Main.DEFAULT_MESSAGE.length()));
                    s.getInputStream().readAllBytes();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            Cli cli = Cli.run("-p", String.valueOf(server.getLocalPort()), "--count", "1");
            assertEquals(0, cli.exitCode(), cli::toString);
            served.join();
            assertFalse(cli.err().contains("server bit"), cli::toString);
            assertFalse(cli.err().contains("0x2"), cli::toString);
            // On a usual host (tcp_fastopen=1) nothing at all; without the client bit, that bit only.
            Optional<String> expected = StartupWarning.of(TfoSupport.current(), true, false);
            assertEquals(expected.map(w -> List.of("example-echo: " + w)).orElse(List.of()), tfoWarnings(cli),
                    cli::toString);
        }
    }

    @Test
    void machineIdIsRandomUnicastLocallyAdministeredWhenUnset() {
        Properties a = new Properties();
        Properties b = new Properties();
        Main.randomMachineIdUnlessSet(a, new Random(1));
        Main.randomMachineIdUnlessSet(b, new Random(2));
        String id = a.getProperty(Main.MACHINE_ID);
        assertTrue(id.matches("([0-9a-f]{2}:){7}[0-9a-f]{2}"), id);
        int first = Integer.parseInt(id.substring(0, 2), 16);
        assertEquals(0x02, first & 0x03, "unicast (bit 0 clear), locally administered (bit 1 set): " + id);
        assertNotEquals(id, b.getProperty(Main.MACHINE_ID));
    }

    @Test
    void machineIdSetByTheUserIsKept() {
        Properties p = new Properties();
        p.setProperty(Main.MACHINE_ID, "00:11:22:33:44:55");
        Main.randomMachineIdUnlessSet(p, new Random(1));
        assertEquals("00:11:22:33:44:55", p.getProperty(Main.MACHINE_ID));
    }

    /** The start-up lines about TCP Fast Open, among stderr's lines. */
    private static List<String> tfoWarnings(Cli cli) {
        return cli.errLines().stream().filter(l -> l.startsWith("example-echo: ") && l.contains("tcp_fastopen")
                || l.startsWith("example-echo: TCP Fast Open")).toList();
    }

    @Test
    void selfConnectHumanReportsEveryConnectionAndASummary() {
        Cli cli = Cli.run("-l", "-p", "0", "--count", "3", "--message", "héllo \"tfo\"");
        assertEquals(0, cli.exitCode(), cli::toString);
        List<String> lines = cli.outLines();
        assertTrue(lines.get(0).startsWith("server: listening on 127.0.0.1:"), cli::toString);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("client: 3 connections to 127.0.0.1:")), cli::toString);
        for (int i = 1; i <= 3; i++) {
            String prefix = "connection " + i + ": sent 12 bytes, echoed 12 bytes intact in ";
            assertTrue(lines.stream().anyMatch(l -> l.startsWith(prefix) && l.contains(" ms; ")), cli::toString);
            String server = "server: connection " + i + " from 127.0.0.1:";
            assertTrue(lines.stream().anyMatch(l -> l.startsWith(server)
                    && (l.contains(": NO_SYN_DATA (") || l.contains(": SYN_DATA_ACCEPTED ("))), cli::toString);
        }
        assertTrue(lines.stream().anyMatch(l -> l.matches("[0-3]/3 connections carried data in the SYN.*")), cli::toString);
        assertEquals("server: stopped after 3 connection(s)", lines.get(lines.size() - 1), cli::toString);
    }

    @Test
    void selfConnectJsonLinesAreOnePerConnectionThenTheSummary() {
        Cli cli = Cli.run("-l", "-p", "0", "--count", "2", "--size", "100000", "--json");
        assertEquals(0, cli.exitCode(), cli::toString);
        List<String> lines = cli.outLines();
        assertEquals(3, lines.size(), cli::toString);
        for (int i = 0; i < 2; i++) {
            Map<String, String> c = Json.fields(lines.get(i));
            assertEquals(String.valueOf(i + 1), c.get("index"), cli::toString);
            assertEquals("100000", c.get("bytesSent"));
            assertEquals("100000", c.get("bytesEchoed"));
            assertEquals("true", c.get("intact"));
            assertTrue(CLIENT_OUTCOMES.contains(c.get("outcome")), cli::toString);
            assertFalse(c.get("reason").isBlank());
            assertTrue(Double.parseDouble(c.get("elapsedMs")) > 0, cli::toString);
        }
        Map<String, String> summary = Json.fields(lines.get(2));
        assertTrue(summary.get("summary").matches("[0-2]/2 connections carried data in the SYN.*"), cli::toString);
        assertEquals("2", summary.get("connections"));
        assertEquals("2", summary.get("intact"));
        // The server's lines go to stderr, keeping stdout pure JSON Lines.
        assertTrue(cli.err().contains("server: connection 2 from"), cli::toString);
    }

    /**
     * {@code --metrics} prints the meters at exit (on stderr with {@code --json}): one connection counted per
     * client outcome reported, and one per server line, under this run's transport.
     */
    @Test
    void selfConnectWithMetricsPrintsTheMetersAtExit() {
        Cli cli = Cli.run("-l", "-p", "0", "--count", "3", "--json", "--metrics");
        assertEquals(0, cli.exitCode(), cli::toString);
        assertEquals(4, cli.outLines().size(), "stdout stays JSON Lines: " + cli);
        assertTrue(cli.errLines().contains("metrics (Prometheus text format):"), cli::toString);
        assertTrue(cli.err().contains("# TYPE tfo_connections_total counter"), cli::toString);
        Map<String, Double> samples = PrometheusText.samplesIn(cli.err());
        String transport = NettyTransport.best().toString();
        for (TfoOutcome o : TfoOutcome.values()) {
            boolean server = o == TfoOutcome.SYN_DATA_ACCEPTED || o == TfoOutcome.NO_SYN_DATA;
            long expected = server
                    ? cli.errLines().stream().filter(l -> l.startsWith("server: connection ") && l.contains(": " + o + " (")).count()
                    : cli.outLines().subList(0, 3).stream().filter(l -> o.name().equals(Json.fields(l).get("outcome"))).count();
            assertEquals(expected, PrometheusText.sum(samples, "tfo_connections_total",
                    Map.of("outcome", o.name(), "side", server ? "server" : "client", "transport", transport)), o + " " + cli);
        }
        assertEquals(3.0, PrometheusText.sum(samples, "tfo_connections_total", Map.of("side", "client")), cli::toString);
        assertEquals(3.0, PrometheusText.sum(samples, "tfo_connections_total", Map.of("side", "server")), cli::toString);
        assertTrue(samples.containsKey("tfo_backoff_destinations"), cli::toString);
        assertTrue(samples.containsKey("tfo_kernel_active_connections_total"), cli::toString);
    }

    @Test
    void metricsPortServesWhileRunningAndStopsAtExit() throws Exception {
        Cli cli = Cli.run("-l", "-p", "0", "--count", "1", "--metrics-port", "0");
        assertEquals(0, cli.exitCode(), cli::toString);
        String serving = cli.outLines().stream().filter(l -> l.startsWith("metrics: serving")).findFirst().orElseThrow(
                () -> new AssertionError("no serving line: " + cli));
        Matcher m = Pattern
                .compile("metrics: serving the Prometheus text format on http://127\\.0\\.0\\.1:(\\d+)/metrics")
                .matcher(serving);
        assertTrue(m.matches(), serving);
        assertFalse(cli.out().contains("# TYPE"), "no --metrics, nothing printed at exit: " + cli);
        int port = Integer.parseInt(m.group(1));
        assertThrows(ConnectException.class, () -> new Socket(InetAddress.getLoopbackAddress(), port).close(),
                "the endpoint is closed at exit");
    }

    @Test
    void metricsPortInUseIsOneLineAndExitOne() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Cli cli = Cli.run("-l", "-p", "0", "--metrics-port", String.valueOf(taken.getLocalPort()));
            assertFailure(cli, "cannot serve metrics on 127.0.0.1:" + taken.getLocalPort() + ": ");
            assertTrue(cli.err().contains("Address already in use"), cli::toString);
        }
    }

    @Test
    void portInUseIsOneLineAndExitOne() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Cli cli = Cli.run("-l", "-p", String.valueOf(taken.getLocalPort()));
            assertFailure(cli, "cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": ");
            assertTrue(cli.err().contains("Address already in use"), cli::toString);
        }
    }

    @Test
    void unreachableServerIsOneLineAndExitOne() throws IOException {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        Cli cli = Cli.run("-p", String.valueOf(closedPort));
        assertFailure(cli, "connection 1 to 127.0.0.1:" + closedPort + " failed: ");
        assertTrue(cli.err().contains("Connection refused"), cli::toString);
    }

    @Test
    void unknownHostIsOneLineAndExitOne() {
        Cli cli = Cli.run("-s", "no-such-host.invalid");
        assertFailure(cli, "cannot resolve host no-such-host.invalid");
    }

    @Test
    void serverThatClosesEarlyIsOneLineAndExitOne() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            // Echoes 5 of the 21 bytes, then closes.
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                try (Socket s = server.accept()) {
                    InputStream in = s.getInputStream();
                    s.getOutputStream().write(in.readNBytes(5));
                    s.getOutputStream().flush();
                    s.shutdownOutput();
                    in.readAllBytes(); // until the client closes: a clean FIN, no RST
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            Cli cli = Cli.run("-p", String.valueOf(server.getLocalPort()), "--count", "1");
            assertFailure(cli, "connection 1 to 127.0.0.1:" + server.getLocalPort()
                    + ": the server closed the connection after echoing 5 of 21 bytes");
            served.join();
        }
    }

    @Test
    void corruptedEchoIsReportedAndExitsOne() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                try (Socket s = server.accept()) {
                    byte[] got = s.getInputStream().readNBytes(4);
                    got[2] ^= 1;
                    s.getOutputStream().write(got);
                    s.getInputStream().readAllBytes();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            Cli cli = Cli.run("-p", String.valueOf(server.getLocalPort()), "--count", "1", "--message", "abcd",
                    "--json");
            assertEquals(Main.FAILURE, cli.exitCode(), cli::toString);
            Map<String, String> c = Json.fields(cli.outLines().get(0));
            assertEquals("false", c.get("intact"), cli::toString);
            assertEquals("2", c.get("firstMismatch"), cli::toString);
            assertTrue(Json.fields(cli.outLines().get(1)).get("summary").endsWith("; 1 NOT echoed intact"), cli::toString);
            assertTrue(cli.errLines().contains("example-echo: 1 of 1 connections were NOT echoed intact"), cli::toString);
            served.join();
        }
    }

    @Test
    void addressesArePrintedAsHostColonPort() throws Exception {
        assertEquals("127.0.0.1:2222", Main.hostPort(new java.net.InetSocketAddress("127.0.0.1", 2222)));
        assertEquals("[0:0:0:0:0:0:0:1]:7", Main.hostPort(new java.net.InetSocketAddress(InetAddress.getByName("::1"), 7)));
        assertEquals("*:2222", Main.hostPort(new java.net.InetSocketAddress(2222)));
    }

    private static void assertFailure(Cli cli, String message) {
        assertEquals(Main.FAILURE, cli.exitCode(), cli::toString);
        List<String> errors = cli.errLines().stream().filter(l -> !l.startsWith("example-echo: TCP Fast Open")
                && !l.startsWith("WARNING: ") && !l.startsWith("net.ipv4")).toList();
        assertEquals(1, errors.size(), cli::toString);
        assertTrue(errors.get(0).startsWith("example-echo: " + message), cli::toString);
        assertFalse(cli.err().contains("Exception"), "no stack trace: " + cli);
        assertFalse(cli.err().contains("\tat "), "no stack trace: " + cli);
    }
}
