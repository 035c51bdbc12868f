package dev.tfo.frameworks;

import dev.tfo.TfoCounters;
import dev.tfo.TfoOutcome;
import dev.tfo.TfoResult;
import dev.tfo.testkit.Capture;
import dev.tfo.testkit.Packet;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The three witnesses of every claim in this module, for one client connection: its {@link TfoResult}
 * (read from {@code tcp_info}), the namespace's TcpExt counter deltas, and the captured SYN.
 */
final class Witness {
    static final Duration WAIT = Duration.ofSeconds(10);

    private Witness() {
    }

    /** The client port of a connected channel (known at once: the kernel binds it in connect()). */
    static int localPort(Channel channel) {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** A Netty future as a {@link CompletableFuture}, for frameworks that wait on Java futures. */
    static <T> CompletableFuture<T> stage(Future<T> future) {
        CompletableFuture<T> stage = new CompletableFuture<>();
        future.addListener(f -> {
            if (f.isSuccess()) {
                stage.complete(future.getNow());
            } else {
                stage.completeExceptionally(f.cause());
            }
        });
        return stage;
    }

    /** The (first) SYN that left from {@code clientPort}; fails after {@link #WAIT} with what was captured. */
    static Packet syn(Capture capture, int clientPort) {
        return capture.await(p -> p.isSyn() && p.srcPort() == clientPort, WAIT);
    }

    /** Every SYN from {@code clientPort} captured so far (more than one would be a retransmission). */
    static List<Packet> syns(List<Packet> packets, int clientPort) {
        return packets.stream().filter(p -> p.isSyn() && p.srcPort() == clientPort).toList();
    }

    /** A first connection: a plain SYN asking for a cookie, no data; the client and server outcomes agree. */
    static void assertCookieRequest(String what, Packet syn, TfoResult client, TfoResult server, TfoCounters delta) {
        assertEquals(TfoOutcome.COOKIE_REQUESTED, client.outcome(), what + ": client outcome " + client);
        if (server != null) {
            assertEquals(TfoOutcome.NO_SYN_DATA, server.outcome(), what + ": server outcome " + server);
        }
        assertEquals(0, syn.payloadLength(), what + ": the cookie request carries no data: " + syn);
        assertTrue(syn.fastOpenCookie().isPresent() && syn.fastOpenCookie().get().length == 0,
                what + ": the SYN asks for a cookie: " + syn);
        assertCounters(what, delta, 0, 0, 1);
    }

    /**
     * A connection with a cached cookie: the SYN carries a cookie and exactly the framework's first flight
     * ({@code expectedFirstFlight}, all of which fits a loopback SYN), the server acked and accepted it.
     */
    static void assertDataInSyn(String what, Packet syn, byte[] expectedFirstFlight, TfoResult client,
            TfoResult server, TfoCounters delta) {
        assertEquals(TfoOutcome.SYN_DATA_ACKED, client.outcome(), what + ": client outcome " + client);
        if (server != null) {
            assertEquals(TfoOutcome.SYN_DATA_ACCEPTED, server.outcome(), what + ": server outcome " + server);
        }
        assertTrue(syn.fastOpenCookie().isPresent() && syn.fastOpenCookie().get().length > 0,
                what + ": the SYN carries a cookie: " + syn);
        assertTrue(expectedFirstFlight.length > 0, what + ": the framework wrote something first");
        assertArrayEquals(expectedFirstFlight, syn.payload(), what + ": the SYN carries the first flight: "
                + syn + "\n  SYN payload:  " + FirstWriteProbe.printable(syn.payload(), 120)
                + "\n  first flight: " + FirstWriteProbe.printable(expectedFirstFlight, 120));
        assertCounters(what, delta, 1, 1, 0);
    }

    /**
     * A connection with a cached cookie whose SYN left WITHOUT data, by the library's choice: the client says
     * why ({@code reasonPrefix}), the SYN carries the cookie and no byte, the server accepted a TFO child at
     * the SYN (Passive +1) with no data, and no data was acked (Active 0).
     */
    static void assertSynWithoutData(String what, Packet syn, String reasonPrefix, TfoResult client,
            TfoResult server, TfoCounters delta) {
        assertEquals(TfoOutcome.NOT_ATTEMPTED, client.outcome(), what + ": client outcome " + client);
        assertTrue(client.reason().startsWith(reasonPrefix), what + ": client reason " + client.reason());
        assertEquals(0, client.synDataBytes(), what + ": " + client);
        if (server != null) {
            assertEquals("TFO child without data in the SYN", server.reason(), what + ": server " + server);
        }
        assertTrue(syn.fastOpenCookie().isPresent() && syn.fastOpenCookie().get().length > 0,
                what + ": the SYN carries a cookie: " + syn);
        assertEquals(0, syn.payloadLength(), what + ": the SYN carries no data: " + syn);
        assertCounters(what, delta, 0, 1, 0);
    }

    /** Counter deltas of one connection (client and server share the namespace, so both sides count). */
    static void assertCounters(String what, TfoCounters delta, long active, long passive, long cookieReqd) {
        String d = what + ": counter deltas " + delta;
        assertEquals(active, delta.active(), d);
        assertEquals(passive, delta.passive(), d);
        assertEquals(cookieReqd, delta.cookieReqd(), d);
        assertEquals(0, delta.activeFail(), d);
        assertEquals(0, delta.passiveFail(), d);
        assertEquals(0, delta.listenOverflow(), d);
    }

    /** Whether {@code bytes} starts with the ASCII text {@code prefix}. */
    static boolean startsWith(byte[] bytes, String prefix) {
        byte[] p = prefix.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        return bytes.length >= p.length && Arrays.equals(Arrays.copyOf(bytes, p.length), p);
    }
}
