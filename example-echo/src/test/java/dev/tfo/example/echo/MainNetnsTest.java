package dev.tfo.example.echo;

import dev.tfo.TfoOutcome;
import dev.tfo.TfoSupport;
import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.Host;
import dev.tfo.testkit.HostProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.NetworkInterface;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;

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

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "io_uring"})
    void selfConnectCarriesDataInTheSynFromTheSecondConnection(String transport) {
        assertDataInSynFromTheSecondConnection(Cli.run("-l", "-p", "0", "--count", "3", "--json",
                "--transport", transport));
    }

    /** The same, the way every Netty user writes a client: connect, then write once active. */
    @ParameterizedTest
    @ValueSource(strings = {"epoll", "io_uring"})
    void connectThenWriteCarriesDataInTheSynFromTheSecondConnection(String transport) {
        assertDataInSynFromTheSecondConnection(Cli.run("-l", "-p", "0", "--count", "3", "--json",
                "--transport", transport, "--connect-then-write"));
    }

    private static void assertDataInSynFromTheSecondConnection(Cli cli) {
        assertTrue(TfoSupport.current().isFullyAvailable(), TfoSupport.current()::describe);
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
}
