package dev.tfo;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TfoBackoffTest {
    private static final InetSocketAddress A = new InetSocketAddress(InetAddress.getLoopbackAddress(), 7000);
    private static final InetSocketAddress A_OTHER_PORT = new InetSocketAddress(InetAddress.getLoopbackAddress(), 7001);
    private static final InetSocketAddress B = new InetSocketAddress("198.18.1.2", 7000);

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final TfoBackoff backoff = TfoBackoff.builder().initial(Duration.ofSeconds(10)).max(Duration.ofSeconds(35))
            .multiplier(2).dataNotAckedThreshold(3).build(now::get);

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void aRetransmittedSynDataBacksOffThatIpOnly() {
        assertNull(backoff.skipReason(A));
        backoff.record(A, TfoOutcome.SYN_RETRANSMITTED);
        String reason = backoff.skipReason(A_OTHER_PORT); // per IP, like the kernel's cookie cache
        assertNotNull(reason);
        assertTrue(reason.contains("backing off") && reason.contains("retransmitted"), reason);
        assertNull(backoff.skipReason(B));
        assertEquals(Duration.ofSeconds(10), backoff.remaining(A.getAddress()));
        advance(Duration.ofSeconds(9));
        assertNotNull(backoff.skipReason(A));
    }

    /** Declined data reached the server: the reason names the server's causes, not a middlebox. */
    @Test
    void dataTheServerDeclinedIsBlamedOnTheServerAndARetransmittedSynOnThePath() {
        for (int i = 0; i < 3; i++) {
            backoff.record(A, TfoOutcome.DATA_NOT_ACKED);
        }
        String declined = backoff.skipReason(A);
        assertTrue(declined.contains("3 consecutive SYN data not acked"), declined);
        assertTrue(declined.contains("the server declined the data: TFO off on the server, its key changed or it "
                + "restarted without it, or its TFO queue full"), declined);
        assertFalse(declined.contains("middlebox") || declined.contains("path"), declined);

        backoff.record(B, TfoOutcome.SYN_RETRANSMITTED);
        String dropped = backoff.skipReason(B);
        assertTrue(dropped.contains("something on the path drops SYNs carrying data"), dropped);
    }

    @Test
    void expiryAllowsOneProbeAndAFailedProbeDoublesUpToMax() {
        backoff.record(A, TfoOutcome.SYN_RETRANSMITTED);
        advance(Duration.ofSeconds(10));
        assertNull(backoff.skipReason(A), "the probe");
        assertTrue(backoff.skipReason(A).contains("probe"), "concurrent connections wait for the probe");
        backoff.record(A, TfoOutcome.SYN_RETRANSMITTED);
        assertEquals(Duration.ofSeconds(20), backoff.remaining(A.getAddress()));
        advance(Duration.ofSeconds(20));
        assertNull(backoff.skipReason(A));
        backoff.record(A, TfoOutcome.DATA_NOT_ACKED); // a failed probe, even by DATA_NOT_ACKED
        assertEquals(Duration.ofSeconds(35), backoff.remaining(A.getAddress()), "capped at max");
        advance(Duration.ofSeconds(35));
        assertNull(backoff.skipReason(A));
        backoff.record(A, TfoOutcome.SYN_DATA_ACKED);
        assertEquals(Duration.ZERO, backoff.remaining(A.getAddress()));
        assertNull(backoff.skipReason(A));
        backoff.record(A, TfoOutcome.SYN_RETRANSMITTED);
        assertEquals(Duration.ofSeconds(10), backoff.remaining(A.getAddress()), "a success reset the growth");
    }

    @Test
    void dataNotAckedNeedsTheThresholdInARow() {
        backoff.record(A, TfoOutcome.DATA_NOT_ACKED);
        backoff.record(A, TfoOutcome.COOKIE_REQUESTED);
        backoff.record(A, TfoOutcome.DATA_NOT_ACKED);
        assertNull(backoff.skipReason(A));
        backoff.record(A, TfoOutcome.DATA_NOT_ACKED);
        assertTrue(backoff.skipReason(A).contains("3 consecutive"));
        backoff.record(B, TfoOutcome.DATA_NOT_ACKED);
        backoff.record(B, TfoOutcome.DATA_NOT_ACKED);
        backoff.record(B, TfoOutcome.SYN_DATA_ACKED);
        backoff.record(B, TfoOutcome.DATA_NOT_ACKED);
        assertNull(backoff.skipReason(B), "a success resets the count");
    }

    @Test
    void aFailedProbeConnectionEndsTheProbe() {
        backoff.record(A, TfoOutcome.SYN_RETRANSMITTED);
        advance(Duration.ofSeconds(10));
        assertNull(backoff.skipReason(A));
        backoff.record(A, null); // the connection failed: says nothing about SYN data
        assertNull(backoff.skipReason(A), "next connection probes");
    }

    @Test
    void disabledNeverBacksOff() {
        TfoBackoff off = TfoBackoff.disabled();
        off.record(A, TfoOutcome.SYN_RETRANSMITTED);
        assertNull(off.skipReason(A));
        assertEquals(Duration.ZERO, off.remaining(A.getAddress()));
        assertEquals("TfoBackoff(disabled)", off.toString());
        assertNotNull(TfoBackoff.shared());
    }

    @Test
    void builderRejectsNonsenseNamingTheArgument() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TfoBackoff.builder().initial(Duration.ZERO))
                .getMessage().startsWith("initial"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TfoBackoff.builder().max(Duration.ofSeconds(-1)))
                .getMessage().startsWith("max"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TfoBackoff.builder().multiplier(0.5))
                .getMessage().startsWith("multiplier"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TfoBackoff.builder().dataNotAckedThreshold(0))
                .getMessage().startsWith("threshold"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TfoBackoff.builder().initial(Duration.ofHours(2)).max(Duration.ofHours(1)).build())
                .getMessage().startsWith("max"));
        assertThrows(NullPointerException.class, () -> TfoBackoff.builder().initial(null));
        assertThrows(NullPointerException.class, () -> backoff.remaining(null));
    }
}
