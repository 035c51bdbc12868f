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
        assertEquals(TfoOutcome.SYN_DATA_ACKED, TfoResult.client(info(1, 0x20, 0), null, -1).outcome());
        assertEquals(TfoOutcome.COOKIE_REQUESTED, TfoResult.client(info(1, 0, 1), null, -1).outcome());
        assertEquals(TfoOutcome.DATA_NOT_ACKED, TfoResult.client(info(1, 0, 2), null, -1).outcome());
        assertEquals(TfoOutcome.SYN_RETRANSMITTED, TfoResult.client(info(1, 0, 3), null, -1).outcome());
        TfoResult plain = TfoResult.client(info(1, 0, 0), null, -1);
        assertEquals(TfoOutcome.NOT_ATTEMPTED, plain.outcome());
        assertTrue(plain.reason().contains("plain SYN"), plain.reason());
    }

    @Test
    void aKnownReasonWins() {
        TfoResult r = TfoResult.client(info(1, 0, 0), "backoff: SYN data to 198.18.1.2 was dropped", -1);
        assertEquals(TfoOutcome.NOT_ATTEMPTED, r.outcome());
        assertEquals("NOT_ATTEMPTED (backoff: SYN data to 198.18.1.2 was dropped)", r.toString());
        TfoResult nio = TfoResult.client(null, null, -1);
        assertEquals(TfoOutcome.NOT_ATTEMPTED, nio.outcome());
        assertEquals(-1, nio.tcpiOptions());
        assertEquals(-1, nio.tcpiFastopenClientFail());
    }

    @Test
    void theBytesInTheSynAreCountedInTheReason() {
        TfoResult r = TfoResult.client(info(1, 0x20, 0), null, 85);
        assertEquals("SYN_DATA_ACKED (the SYN carried 85 bytes and the server acked them)", r.toString());
        assertEquals(85, r.synDataBytes());
        assertEquals(-1, TfoResult.client(info(1, 0x20, 0), null, -1).synDataBytes());
    }

    @Test
    void aCookieRequestWinsOverOurReasonForASynWithoutData() {
        // The cookie was evicted between the deferred connect and the first write: the kernel asked for a new one.
        TfoResult r = TfoResult.client(info(1, 0, 1), "the kernel sent the SYN without data", 0);
        assertEquals(TfoOutcome.COOKIE_REQUESTED, r.outcome());
    }

    @Test
    void rawEvidenceIsKept() {
        TfoResult r = TfoResult.client(info(1, 0x20 | 0x07, 0), null, -1);
        assertEquals(0x27, r.tcpiOptions());
        assertEquals(0, r.tcpiFastopenClientFail());
        assertEquals(20_000, r.rttMicros());
    }

    @Test
    void serverOutcomes() {
        assertEquals(TfoOutcome.SYN_DATA_ACCEPTED, TfoResult.server(info(3, 0xA0, 0), "EpollSocketChannel").outcome());
        assertEquals(TfoOutcome.NO_SYN_DATA, TfoResult.server(info(1, 0x07, 0), "EpollSocketChannel").outcome());
        TfoResult nio = TfoResult.server(null, "NioSocketChannel");
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
