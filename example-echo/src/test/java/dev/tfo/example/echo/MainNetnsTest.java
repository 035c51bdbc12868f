package dev.tfo.example.echo;

import dev.tfo.TfoOutcome;
import dev.tfo.TfoSupport;
import dev.tfo.testkit.FreshNetns;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.io.IOException;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

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
        assertTrue(TfoSupport.current().isFullyAvailable(), TfoSupport.current()::describe);
        Cli cli = Cli.run("-l", "-p", "0", "--count", "3", "--json", "--transport", transport);
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
    void runWithOnlyLoopbackPrintsNoHardwareAddressWarning(@TempDir Path dir)
            throws Exception {
        List<String> interfaces = Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
                .map(NetworkInterface::getName).toList();
        assertEquals(List.of("lo"), interfaces, "a namespace with only lo");
        // Control: a plain Netty program here does print the warning.
        Run probe = java(dir.resolve("probe"), ChannelIdProbe.class.getName());
        assertEquals(0, probe.exitCode(), probe::toString);
        assertTrue(probe.err().contains(NO_HARDWARE_ADDRESS), probe::toString);
        // The example, with no -Dio.netty.machineId of the user's.
        Run example = java(dir.resolve("example"), Main.class.getName(), "-l", "-p", "0", "--count", "2");
        assertEquals(0, example.exitCode(), example::toString);
        assertTrue(example.out().contains("connection 2: sent 21 bytes, echoed 21 bytes intact"), example::toString);
        assertFalse(example.err().contains(NO_HARDWARE_ADDRESS), example::toString);
        // Nor any other warning: the run is what a new user sees (somaxconn once read as 4 here, and warned).
        assertFalse(example.err().lines().anyMatch(l -> l.startsWith("WARNING")), example::toString);
    }

    /** A JVM of this test class path in this namespace, run to completion (60 s at most). */
    private static Run java(Path dir, String mainClass, String... args) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        List<String> command = new ArrayList<>(List.of(
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "-cp", System.getProperty("java.class.path"), mainClass));
        command.addAll(List.of(args));
        Path out = dir.resolve("stdout");
        Path err = dir.resolve("stderr");
        Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        process.getOutputStream().close();
        int code;
        if (process.waitFor(60, TimeUnit.SECONDS)) {
            code = process.exitValue();
        } else {
            process.destroyForcibly().waitFor();
            code = -1;
        }
        return new Run(command, code, Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    private record Run(List<String> command, int exitCode, String out, String err) {
        @Override
        public String toString() {
            return String.join(" ", command) + "\nexit " + exitCode + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
        }
    }
}
