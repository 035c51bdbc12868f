package dev.tfo;

import dev.tfo.internal.TcpInfo;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decision table from tcp_info to outcome; real connections are in {@link TfoBootstrapsNetnsTest}. */
class TfoResultTest {
    static TcpInfo info(int state, int options, int clientFail) {
        ByteBuffer b = ByteBuffer.allocate(TcpInfo.LENGTH).order(ByteOrder.nativeOrder());
        b.put(0, (byte) state).put(5, (byte) options).put(7, (byte) (clientFail << 1)).putInt(68, 20_000);
        return TcpInfo.decode(b);
    }

    @Test
    void clientOutcomes() {
        assertEquals(TfoOutcome.SYN_DATA_ACKED, TfoResult.client(info(1, 0x20, 0), null, -1, "epoll").outcome());
        assertEquals(TfoOutcome.COOKIE_REQUESTED, TfoResult.client(info(1, 0, 1), null, -1, "epoll").outcome());
        assertEquals(TfoOutcome.DATA_NOT_ACKED, TfoResult.client(info(1, 0, 2), null, -1, "epoll").outcome());
        assertEquals(TfoOutcome.SYN_RETRANSMITTED, TfoResult.client(info(1, 0, 3), null, -1, "epoll").outcome());
        TfoResult plain = TfoResult.client(info(1, 0, 0), null, -1, "epoll");
        assertEquals(TfoOutcome.NOT_ATTEMPTED, plain.outcome());
        assertTrue(plain.reason().contains("plain SYN"), plain.reason());
    }

    @Test
    void aKnownReasonWins() {
        TfoResult r = TfoResult.client(info(1, 0, 0), "backoff: SYN data to 198.18.1.2 was dropped", -1, "epoll");
        assertEquals(TfoOutcome.NOT_ATTEMPTED, r.outcome());
        assertEquals("NOT_ATTEMPTED (backoff: SYN data to 198.18.1.2 was dropped)", r.toString());
        TfoResult nio = TfoResult.client(null, null, -1, "nio");
        assertEquals(TfoOutcome.NOT_ATTEMPTED, nio.outcome());
        assertEquals("nio", nio.transport());
    }

    @Test
    void theBytesInTheSynAreCountedInTheReason() {
        TfoResult r = TfoResult.client(info(1, 0x20, 0), null, 85, "epoll");
        assertEquals("SYN_DATA_ACKED (the SYN carried 85 bytes and the server acked them)", r.toString());
        assertEquals(85, r.synDataBytes());
        assertEquals(-1, TfoResult.client(info(1, 0x20, 0), null, -1, "epoll").synDataBytes());
    }

    @Test
    void aCookieRequestWinsOverOurReasonForASynWithoutData() {
        // The cookie was evicted between the deferred connect and the first write: the kernel asked for a new one.
        TfoResult r = TfoResult.client(info(1, 0, 1), "the kernel sent the SYN without data", 0, "epoll");
        assertEquals(TfoOutcome.COOKIE_REQUESTED, r.outcome());
    }

    @Test
    void theTransportIsTheChannelsAndTheSideTheOutcomes() {
        assertEquals("nio", TfoResult.transportOf(io.netty.channel.socket.nio.NioSocketChannel.class));
        assertEquals("epoll", TfoResult.transportOf(io.netty.channel.epoll.EpollSocketChannel.class));
        assertEquals("other", TfoResult.transportOf(io.netty.channel.embedded.EmbeddedChannel.class));
        assertEquals("io_uring", TfoResult.client(info(1, 0x20, 0), null, -1, "io_uring").transport());
        assertFalse(TfoResult.client(info(1, 0x20, 0), null, -1, "epoll").outcome().server());
        assertTrue(TfoResult.server(info(3, 0xA0, 0), "EpollSocketChannel", "epoll").outcome().server());
    }

    @Test
    void serverOutcomes() {
        assertEquals(TfoOutcome.SYN_DATA_ACCEPTED, TfoResult.server(info(3, 0xA0, 0), "EpollSocketChannel", "epoll").outcome());
        assertEquals(TfoOutcome.NO_SYN_DATA, TfoResult.server(info(1, 0x07, 0), "EpollSocketChannel", "epoll").outcome());
        TfoResult nio = TfoResult.server(null, "NioSocketChannel", "nio");
        assertEquals(TfoOutcome.NO_SYN_DATA, nio.outcome());
        assertTrue(nio.reason().contains("NioSocketChannel cannot accept data"), nio.reason());
    }

    @Test
    void onlyTheTwoSavingOutcomesSayDataInSyn() {
        for (TfoOutcome o : TfoOutcome.values()) {
            assertEquals(o == TfoOutcome.SYN_DATA_ACKED || o == TfoOutcome.SYN_DATA_ACCEPTED, o.dataInSyn(), o.name());
        }
        assertFalse(TfoOutcome.COOKIE_REQUESTED.dataInSyn());
    }

    @Test
    void nullChannelIsNamed() {
        assertEquals("channel", assertThrows(NullPointerException.class, () -> TfoResult.of(null)).getMessage());
    }
}
