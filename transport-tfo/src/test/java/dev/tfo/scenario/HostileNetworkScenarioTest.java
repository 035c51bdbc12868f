package dev.tfo.scenario;

import dev.tfo.testkit.NeedsLab;
import dev.tfo.testkit.Rule;
import dev.tfo.testkit.Wait;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import static dev.tfo.scenario.KeysScenarioTest.once;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TFO against a hostile path: a middlebox that eats SYNs carrying data (the backoff), a lost SYN-ACK, a
 * blackholed or vanished server with a cookie cached, and the TFO sysctl changed under a running client.
 */
@NeedsLab
class HostileNetworkScenarioTest {
    private static final Duration RUN = Duration.ofSeconds(60);

    @Test
    void middleboxDroppingSynDataCostsOneTimeoutNotOnePerConnection() {
        try (Net net = new Net()) {
            net.startServer(net.server);
            Driver client = net.startClient(net.client, "host=" + net.serverIp(), "backoff=3000:12000:3");
            once(client, "COOKIE_REQUESTED");
            Driver.Run run;
            long dropped;
            try (Rule drop = net.server.dropSynWithData()) {
                run = client.run(20, 1, 1500, RUN);
                dropped = drop.packets();
            }
            Driver.Run r = run;
            assertEquals(20, run.ok, () -> "not all delivered intact: " + r);
            assertEquals("SYN_RETRANSMITTED", run.conns.get(0).outcome, run::toString);
            for (Driver.Conn c : run.conns.subList(1, 20)) {
                assertEquals("NOT_ATTEMPTED", c.outcome, run::toString);
                assertTrue(c.rest.contains("backing off"), c::toString);
            }
            assertEquals(1, dropped, "exactly one SYN with data was eaten");
            // One SYN RTO (~1 s) for the whole run instead of ~20 s.
            assertTrue(run.millis < 5000, () -> "20 connections took " + r.millis + " ms: " + r);
            System.out.println("[measured] 20 sequential connections through a SYN-data-eating middlebox: "
                    + run.millis + " ms (first: " + run.conns.get(0).millis + " ms)");

            // The middlebox is gone: once the backoff expires, one probe carries data in the SYN again.
            long[] waited = {System.nanoTime()};
            Wait.until("TFO resumes after the backoff", Duration.ofSeconds(20), () -> {
                Driver.Conn c = client.run(1, 1, 1500, RUN).single();
                assertTrue(c.intact, c::toString);
                assertTrue(Set.of("NOT_ATTEMPTED", "SYN_DATA_ACKED").contains(c.outcome), c::toString);
                return c.outcome.equals("SYN_DATA_ACKED");
            });
            System.out.println("[measured] TFO resumed " + (System.nanoTime() - waited[0]) / 1_000_000
                    + " ms after the rule was removed (backoff 3000 ms)");
            net.finish();
        }
    }

    @Test
    void withoutBackoffEveryConnectionPaysTheTimeout() {
        try (Net net = new Net()) {
            net.startServer(net.server);
            Driver client = net.startClient(net.client, "host=" + net.serverIp(), "backoff=off");
            once(client, "COOKIE_REQUESTED");
            try (Rule drop = net.server.dropSynWithData()) {
                Driver.Run run = client.run(3, 1, 1500, RUN);
                assertEquals(3, run.ok, run::toString);
                for (Driver.Conn c : run.conns) {
                    assertEquals("SYN_RETRANSMITTED", c.outcome, run::toString);
                    assertTrue(c.millis >= 900, run::toString);
                }
                assertEquals(3, drop.packets());
                System.out.println("[measured] without backoff: 3 connections " + run.millis + " ms");
            }
            net.finish();
        }
    }

    @Test
    void firstSynAckLostIsDelivered() {
        try (Net net = new Net()) {
            net.startServer(net.server);
            Driver client = net.startClient(net.client, "host=" + net.serverIp());
            once(client, "COOKIE_REQUESTED");
            try (Rule drop = net.client.dropFirstSynAck()) {
                Driver.Conn c = client.run(1, 1, 1500, RUN).single();
                assertTrue(c.intact, c::toString);
                assertEquals(1, drop.packets());
                assertTrue(Set.of("SYN_DATA_ACKED", "SYN_RETRANSMITTED").contains(c.outcome), c::toString);
                System.out.println("[measured] first SYN-ACK lost: " + c);
            }
            net.finish();
        }
    }

    @Test
    void connectTimeoutAppliesUnderTfoAgainstABlackholedPeer() {
        try (Net net = new Net()) {
            net.startServer(net.server);
            Driver client = net.startClient(net.client, "host=" + net.serverIp(), "timeoutMs=1500");
            once(client, "COOKIE_REQUESTED");
            once(client, "SYN_DATA_ACKED"); // a cookie is cached: Netty's connect completes before the SYN-ACK
            try (Rule blackhole = net.server.iptables("INPUT", "-p", "tcp", "--dport", "7000", "-j", "DROP")) {
                Driver.Conn c = client.run(1, 1, 1500, RUN).single();
                assertEquals("FAIL", c.outcome, c::toString);
                assertTrue(c.rest.startsWith("ConnectTimeoutException"), c::toString);
                assertTrue(c.millis >= 1400 && c.millis < 4000, c::toString);
                assertTrue(blackhole.packets() >= 1);
                System.out.println("[measured] blackholed peer, CONNECT_TIMEOUT_MILLIS=1500: " + c);
            }
            once(client, "SYN_DATA_ACKED");
            net.finish();
        }
    }

    @Test
    void connectionRefusedWithACookieCachedFailsTheFuture() {
        try (Net net = new Net()) {
            Driver server = net.startServer(net.server);
            Driver client = net.startClient(net.client, "host=" + net.serverIp());
            once(client, "COOKIE_REQUESTED");
            once(client, "SYN_DATA_ACKED");
            server.command("CLOSE", l -> l.equals("CLOSED"), RUN);
            Driver.Conn c = client.run(1, 1, 1500, RUN).single();
            assertEquals("FAIL", c.outcome, c::toString);
            assertTrue(c.rest.toLowerCase().contains("refused"), c::toString);
            assertTrue(c.millis < 1000, c::toString);
            System.out.println("[measured] refused with a cookie cached: " + c);
            net.finish();
        }
    }

    @Test
    void sysctlChangedUnderARunningClient() {
        try (Net net = new Net()) {
            net.startServer(net.server);
            Driver client = net.startClient(net.client, "host=" + net.serverIp(), "backoff=3000:12000:3");
            once(client, "COOKIE_REQUESTED");
            once(client, "SYN_DATA_ACKED");

            net.client.sysctl("net.ipv4.tcp_fastopen", "0");  // Netty read 3 at start; the kernel's live value wins
            Driver.Conn off = once(client, "NOT_ATTEMPTED");
            assertTrue(off.rest.contains("net.ipv4.tcp_fastopen lacks the client bit 0x1 (live value: 0)"),
                    off::toString);

            net.client.sysctl("net.ipv4.tcp_fastopen", "3");
            once(client, "SYN_DATA_ACKED");                   // the cookie survived

            net.client.sysctl("net.ipv4.tcp_fastopen", "1");  // client bit still on: nothing changes
            once(client, "SYN_DATA_ACKED");

            net.server.sysctl("net.ipv4.tcp_fastopen", "1");  // the server stops accepting SYN data
            Driver.Run run = client.run(6, 1, 1500, RUN);
            assertEquals(6, run.ok, run::toString);
            assertEquals("DATA_NOT_ACKED", run.conns.get(0).outcome, run::toString);
            for (Driver.Conn c : run.conns) {
                assertTrue(List.of("DATA_NOT_ACKED", "COOKIE_REQUESTED", "NOT_ATTEMPTED").contains(c.outcome),
                        run::toString);
            }
            System.out.println("[measured] server sysctl 3 -> 1: " + run.outcomes);
            net.finish();
        }
    }
}
