package dev.tfo.scenario;

import dev.tfo.testkit.Capture;
import dev.tfo.testkit.DelayWire;
import dev.tfo.testkit.Host;
import dev.tfo.testkit.NeedsLab;
import dev.tfo.testkit.Packet;
import dev.tfo.testkit.Wait;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server's TFO queue really overflowing. The kernel's TFO queue ({@code fastopenq}) holds the TFO
 * children whose handshake is not complete (SYN_RECV, awaiting the client's ACK); a child leaves it when
 * that ACK arrives, one round trip after its SYN. A SYN that finds {@code qlen >= max_qlen} has its data
 * ignored ({@code TCPFastOpenListenOverflow} + 1): no TFO child, no cookie in the SYN-ACK, a plain
 * handshake, and the client resends the data after it ({@code DATA_NOT_ACKED}). On a veth the ACK is back
 * within microseconds and a burst never fills the queue ({@link LoadScenarioTest}); through a
 * {@link DelayWire} of RTT 20 ms it does.
 *
 * <p>The backoff is off in the client: after 3 consecutive {@code DATA_NOT_ACKED} the default backoff
 * would turn the rest of the burst into plain connects (NOT_ATTEMPTED) that never reach the queue with data.
 */
@NeedsLab
class QueueOverflowScenarioTest {
    private static final int QUEUE = 4;
    private static final int BURST = 64;
    private static final int PORT = 7000;
    /** Fits in the SYN (MSS 1460 on the wire): each first flight is all in its SYN. */
    private static final int SIZE = 1000;
    private static final Duration RUN = Duration.ofSeconds(60);

    @Test
    void burstThroughARealRoundTripOverflowsTheTfoQueueAndLosesNothing() {
        try (Net net = new Net()) {
            DelayWire wire = DelayWire.between(net.client, net.server, Duration.ofMillis(10)); // RTT ~20 ms
            Driver server = net.startServer(net.server, "port=" + PORT, "queue=" + QUEUE, "quiet=true");
            Driver client = net.startClient(net.client, "host=" + wire.address(net.server).getHostAddress(),
                    "port=" + PORT, "backoff=off");

            Driver.Conn cookie = client.run(1, 1, SIZE, RUN).single();
            assertEquals("COOKIE_REQUESTED", cookie.outcome, cookie::toString);
            assertTrue(cookie.intact, cookie::toString);
            int clientFds = client.fds();
            int serverFds = server.fds();
            Map<String, Long> accepted0 = server.acceptedOutcomes();
            Map<String, Long> serverCounters0 = counters(net.server);
            Map<String, Long> clientCounters0 = counters(net.client);

            Driver.Run burst;
            List<Packet> packets;
            String tcpdump;
            try (Capture cap = net.server.capture(wire.iface(), "tcp port " + PORT)) {
                burst = client.run(BURST, BURST, SIZE, RUN);
                packets = cap.stop();
                tcpdump = cap.tcpdumpStderr();
            }
            Map<String, Long> serverDelta = minus(counters(net.server), serverCounters0);
            Map<String, Long> clientDelta = minus(counters(net.client), clientCounters0);
            Map<String, Long> acceptedDelta = minus(server.acceptedOutcomes(), accepted0);
            DelayWire.Stats wireStats = wire.stats();

            // Every connection succeeded and had its own payload (seed = index) echoed intact.
            assertEquals(BURST, burst.ok, burst::toString);
            assertEquals(0, burst.failed, burst::toString);
            assertEquals(BURST, burst.conns.size(), burst::toString);
            Set<Integer> indexes = new HashSet<>();
            Map<String, List<Long>> millis = new TreeMap<>();
            for (Driver.Conn c : burst.conns) {
                assertTrue(c.intact && c.bytes == SIZE, () -> "not intact: " + c + "\n" + burst);
                indexes.add(c.index);
                millis.computeIfAbsent(c.outcome, k -> new ArrayList<>()).add(c.millis);
            }
            assertEquals(BURST, indexes.size(), burst::toString);
            long acked = millis.getOrDefault("SYN_DATA_ACKED", List.of()).size();
            long notAcked = millis.getOrDefault("DATA_NOT_ACKED", List.of()).size();
            long overflow = serverDelta.get("TCPFastOpenListenOverflow");
            String evidence = "server " + serverDelta + ", client " + clientDelta + ", server accepted "
                    + acceptedDelta + ", wire " + wireStats + "\n" + burst;
            assertEquals(Set.of("SYN_DATA_ACKED", "DATA_NOT_ACKED"), millis.keySet(), evidence);

            // The queue overflowed, and each overflowed SYN is exactly one client's DATA_NOT_ACKED.
            assertTrue(overflow > 0, evidence);
            assertTrue(notAcked > 0, evidence);
            assertEquals(overflow, notAcked, evidence);
            assertEquals(notAcked, clientDelta.get("TCPFastOpenActiveFail"), evidence);
            assertEquals(notAcked, acceptedDelta.getOrDefault("NO_SYN_DATA", 0L), evidence);
            // The rest were TFO children: data acked by the SYN-ACK, delivered before the handshake completed.
            assertEquals(acked, clientDelta.get("TCPFastOpenActive"), evidence);
            assertEquals(acked, serverDelta.get("TCPFastOpenPassive"), evidence);
            assertEquals(acked, acceptedDelta.getOrDefault("SYN_DATA_ACCEPTED", 0L), evidence);
            assertEquals(0L, serverDelta.get("TCPFastOpenPassiveFail"), evidence); // no cookie was refused
            assertEquals(0, wireStats.overflow(), evidence); // the relay itself lost nothing

            // The wire, as the server's side saw it, says the same thing packet by packet.
            assertTrue(Pattern.compile("(?m)^0 packets dropped by kernel").matcher(tcpdump).find(), tcpdump);
            WireView view = new WireView(packets);
            String dump = evidence + "\n" + tcpdump + "\n" + Capture.render(packets);
            assertEquals(BURST, view.synData.size(), () -> "SYNs with data: " + dump);
            assertEquals(BURST, view.seeds.size(), () -> "each SYN carried its own payload: " + dump);
            assertEquals(acked, view.dataAcked.size(), () -> "SYN-ACKs acking the data: " + dump);
            assertEquals(notAcked, view.dataNotAcked.size(), () -> "SYN-ACKs acking only the SYN: " + dump);
            // The kernel never let a SYN's data in while QUEUE children still awaited their ACK: the captured
            // ACK precedes its processing, so the kernel's qlen is at least the count replayed here.
            assertTrue(view.maxAwaitingAtAccept < QUEUE, () -> "accepted with " + view.maxAwaitingAtAccept
                    + " TFO children awaiting their ACK: " + dump);

            // No socket left behind on either side; exit 0 and no LEAK report (finish).
            assertEquals(clientFds, client.fds(), "client file descriptors");
            Wait.until("server descriptors back to " + serverFds, Duration.ofSeconds(30),
                    () -> server.fds() == serverFds);
            net.finish();
            System.out.println("[measured] burst of " + BURST + " simultaneous TFO connects (" + SIZE
                    + " B each, backoff off), TFO queue " + QUEUE + ", RTT 20 ms, SYNs arriving over "
                    + view.spreadMillis() + " ms: server TCPFastOpenListenOverflow +" + overflow
                    + "; client SYN_DATA_ACKED " + acked + " (median " + median(millis.get("SYN_DATA_ACKED"))
                    + " ms), DATA_NOT_ACKED " + notAcked + " (median " + median(millis.get("DATA_NOT_ACKED"))
                    + " ms); children awaiting their ACK when a SYN overflowed: " + view.awaitingAtOverflow
                    + "; all " + BURST + " intact in " + burst.millis + " ms");
        }
    }

    /**
     * The burst on the server's end of the wire: SYNs with data per client port, which SYN-ACKs acked the data
     * (ack = seq + 1 + data) and which only the SYN (ack = seq + 1), and a replay of the TFO queue: a child
     * enters with its accepted SYN and leaves with the client's first ACK.
     */
    private static final class WireView {
        final Map<Integer, Packet> synData = new TreeMap<>();
        final Set<Integer> seeds = new HashSet<>();
        final Set<Integer> dataAcked = new HashSet<>();
        final Set<Integer> dataNotAcked = new HashSet<>();
        final Map<Integer, Integer> awaitingAtOverflow = new TreeMap<>(); // children awaiting -> SYNs
        int maxAwaitingAtAccept;

        WireView(List<Packet> packets) {
            for (Packet p : packets) {
                if (p.isSynWithData() && p.dstPort() == PORT) {
                    assertEquals(SIZE, p.payloadLength(), p::toString);
                    assertTrue(synData.put(p.srcPort(), p) == null, () -> "second SYN with data: " + p);
                    seeds.add(ByteBuffer.wrap(p.payload()).getInt(4));
                }
            }
            for (Packet p : packets) {
                if (p.isSynAck() && p.srcPort() == PORT) {
                    Packet syn = synData.get(p.dstPort());
                    assertNotNull(syn, () -> "SYN-ACK without a SYN with data: " + p);
                    if (p.ack() == ((syn.seq() + 1 + SIZE) & 0xffffffffL)) {
                        dataAcked.add(p.dstPort());
                    } else if (p.ack() == ((syn.seq() + 1) & 0xffffffffL)) {
                        dataNotAcked.add(p.dstPort());
                    }
                }
            }
            Set<Integer> awaiting = new HashSet<>();
            for (Packet p : packets) {
                if (p.isSynWithData() && p.dstPort() == PORT) {
                    if (dataAcked.contains(p.srcPort())) {
                        maxAwaitingAtAccept = Math.max(maxAwaitingAtAccept, awaiting.size());
                        awaiting.add(p.srcPort());
                    } else {
                        awaitingAtOverflow.merge(awaiting.size(), 1, Integer::sum);
                    }
                } else if (p.dstPort() == PORT && !p.isSyn() && p.isAck()) {
                    awaiting.remove(p.srcPort());
                }
            }
        }

        long spreadMillis() {
            List<Packet> syns = new ArrayList<>(synData.values());
            syns.sort((x, y) -> x.timestamp().compareTo(y.timestamp()));
            return Duration.between(syns.get(0).timestamp(), syns.get(syns.size() - 1).timestamp()).toMillis();
        }
    }

    private static Map<String, Long> counters(Host host) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String c : List.of("TCPFastOpenListenOverflow", "TCPFastOpenActive", "TCPFastOpenActiveFail",
                "TCPFastOpenPassive", "TCPFastOpenPassiveFail")) {
            m.put(c, host.tcpExt(c));
        }
        return m;
    }

    private static Map<String, Long> minus(Map<String, Long> after, Map<String, Long> before) {
        Map<String, Long> d = new LinkedHashMap<>();
        after.forEach((k, v) -> d.put(k, v - before.getOrDefault(k, 0L)));
        return d;
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }
}
