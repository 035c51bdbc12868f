package dev.tfo.example.echo;

import dev.tfo.TfoOutcome;
import dev.tfo.TfoSupport;
import dev.tfo.testkit.FreshNetns;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real TCP Fast Open on loopback: this JVM runs in a fresh network namespace with tcp_fastopen=3 (surefire's
 * netns-test execution), where {@code -l --count 3} must put the data of connections 2..3 in the SYN.
 */
@FreshNetns
class MainNetnsTest {

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
}
