package dev.tfo.scenario;

import dev.tfo.testkit.NeedsLab;
import dev.tfo.testkit.Wait;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many TFO connections: a burst of more connects than the server's TFO queue holds, and a soak (sequential,
 * then concurrent) checked for lost bytes, LEAK reports (the agents run with paranoid leak detection) and
 * file descriptors. {@code -Dtfo.soak.sequential=N} changes the sequential count (default 100 000).
 *
 * <p>On this veth the burst does not fill the TFO queue: a TFO child leaves the queue when the client's ACK
 * arrives, microseconds after its SYN here (measured: 1000 connects, queue 4, {@code TCPFastOpenListenOverflow}
 * +0; the test prints it). {@link QueueOverflowScenarioTest} overflows it for real, through a wire with a
 * round-trip time.
 */
@NeedsLab
class LoadScenarioTest {
    private static final int SEQUENTIAL = Integer.getInteger("tfo.soak.sequential", 100_000);
    private static final int CONCURRENT = Integer.getInteger("tfo.soak.concurrent", 1_000);

    @Test
    void burstLargerThanTheTfoQueueIsAllDelivered() {
        try (Net net = new Net()) {
            net.startServer(net.server, "queue=4", "quiet=true");
            Driver client = net.startClient(net.client, "host=" + net.serverIp(), "backoff=off", "quiet=true");
            client.run(1, 1, 1500, Duration.ofSeconds(30)); // cookie
            long overflow0 = net.server.tcpExt("TCPFastOpenListenOverflow");
            Driver.Run burst = client.run(1000, 1000, 1500, Duration.ofSeconds(120));
            long overflow = net.server.tcpExt("TCPFastOpenListenOverflow") - overflow0;
            assertEquals(1000, burst.ok, burst::toString);
            assertEquals(0, burst.failed, burst::toString);
            System.out.println("[measured] burst of 1000 simultaneous TFO connects, TFO queue 4: " + burst.millis
                    + " ms, " + burst.outcomes + ", server TCPFastOpenListenOverflow +" + overflow);
            net.finish();
        }
    }

    @Test
    void soakLosesNothingLeaksNothingAndGivesBackEveryDescriptor() {
        try (Net net = new Net()) {
            net.client.sysctl("net.ipv4.ip_local_port_range", "10000 65000");
            Driver server = net.startServer(net.server, "quiet=true");
            Driver client = net.startClient(net.client, "host=" + net.serverIp(), "quiet=true");
            client.run(1, 1, 512, Duration.ofSeconds(30)); // cookie, and the event loops' own descriptors
            int clientFds = client.fds();
            int serverFds = server.fds();

            Driver.Run seq = client.run(SEQUENTIAL, 1, 512, Duration.ofMinutes(30));
            assertEquals(SEQUENTIAL, seq.ok, seq::toString);
            assertTrue(seq.outcomes.equals("{SYN_DATA_ACKED=" + SEQUENTIAL + "}"), seq::toString);
            System.out.println("[measured] " + SEQUENTIAL + " sequential TFO connections: " + seq.millis + " ms ("
                    + (SEQUENTIAL * 1000L / Math.max(1, seq.millis)) + "/s) " + seq.outcomes);

            Driver.Run conc = client.run(CONCURRENT, CONCURRENT, 512, Duration.ofMinutes(5));
            assertEquals(CONCURRENT, conc.ok, conc::toString);
            System.out.println("[measured] " + CONCURRENT + " concurrent TFO connections: " + conc.millis + " ms "
                    + conc.outcomes);

            assertEquals(clientFds, client.fds(), "client file descriptors");
            server.command("STATS", l -> l.startsWith("STATS"), Duration.ofSeconds(10));
            // the server closed each child after its echo; all of them are gone
            Wait.until("server descriptors back to " + serverFds, Duration.ofSeconds(30),
                    () -> server.fds() == serverFds);
            net.finish(); // exit 0, no LEAK report
        }
    }
}
