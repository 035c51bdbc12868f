package dev.tfo.spring.boot;

import dev.tfo.TfoCounters;
import dev.tfo.TfoOutcome;
import dev.tfo.TfoResult;
import dev.tfo.testkit.Capture;
import dev.tfo.testkit.Packet;
import io.netty.channel.Channel;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The three witnesses of tfo-frameworks-it, for one connection an application made or accepted: its
 * {@link TfoResult}, the namespace's TcpExt counter deltas, and the captured SYN.
 */
final class Witness {
    static final Duration WAIT = Duration.ofSeconds(10);

    private Witness() {
    }

    static int localPort(Channel channel) {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    static int remotePort(Channel channel) {
        return ((InetSocketAddress) channel.remoteAddress()).getPort();
    }

    /** The SYN that left from {@code clientPort}. */
    static Packet syn(Capture capture, int clientPort) {
        return capture.await(p -> p.isSyn() && p.srcPort() == clientPort, WAIT);
    }

    /** A first connection: a SYN asking for a cookie, no data. */
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

    /** A connection with a cached cookie whose SYN carried {@code firstLine}... and the server acked it. */
    static void assertDataInSyn(String what, Packet syn, String firstLine, TfoResult client, TfoResult server,
                                TfoCounters delta) {
        assertEquals(TfoOutcome.SYN_DATA_ACKED, client.outcome(), what + ": client outcome " + client);
        if (server != null) {
            assertEquals(TfoOutcome.SYN_DATA_ACCEPTED, server.outcome(), what + ": server outcome " + server);
        }
        assertTrue(syn.fastOpenCookie().isPresent() && syn.fastOpenCookie().get().length > 0,
                what + ": the SYN carries a cookie: " + syn);
        assertTrue(startsWith(syn.payload(), firstLine), what + ": the SYN carries the request: " + syn + " "
                + new String(syn.payload(), StandardCharsets.ISO_8859_1));
        assertCounters(what, delta, 1, 1, 0);
    }

    /** A connection with a cached cookie whose SYN left without data by the policy's choice. */
    static void assertSynWithoutData(String what, Packet syn, String reasonPrefix, TfoResult client,
                                     TfoResult server, TfoCounters delta) {
        assertEquals(TfoOutcome.NOT_ATTEMPTED, client.outcome(), what + ": client outcome " + client);
        assertTrue(client.reason().startsWith(reasonPrefix), what + ": client reason " + client.reason());
        if (server != null) {
            assertEquals("TFO child without data in the SYN", server.reason(), what + ": server " + server);
        }
        assertTrue(syn.fastOpenCookie().isPresent() && syn.fastOpenCookie().get().length > 0,
                what + ": the SYN carries a cookie: " + syn);
        assertEquals(0, syn.payloadLength(), what + ": the SYN carries no data: " + syn);
        assertCounters(what, delta, 0, 1, 0);
    }

    static void assertCounters(String what, TfoCounters delta, long active, long passive, long cookieReqd) {
        String d = what + ": counter deltas " + delta;
        assertEquals(active, delta.active(), d);
        assertEquals(passive, delta.passive(), d);
        assertEquals(cookieReqd, delta.cookieReqd(), d);
        assertEquals(0, delta.activeFail(), d);
        assertEquals(0, delta.passiveFail(), d);
        assertEquals(0, delta.listenOverflow(), d);
    }

    static boolean startsWith(byte[] bytes, String prefix) {
        byte[] p = prefix.getBytes(StandardCharsets.US_ASCII);
        return bytes.length >= p.length && Arrays.equals(Arrays.copyOf(bytes, p.length), p);
    }
}
