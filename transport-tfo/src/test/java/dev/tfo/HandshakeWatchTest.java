package dev.tfo;

import dev.tfo.internal.TcpInfo;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tcp_info watch shared by the gate and the observer, on an {@link EmbeddedChannel} with frozen time. */
class HandshakeWatchTest {
    private final FakeSocketOps kernel = new FakeSocketOps();
    private final List<String> told = new ArrayList<>();
    private final EmbeddedChannel ch = new EmbeddedChannel();
    /** Writes down what a watch tells its owner. */
    private final HandshakeWatch.Owner owner = new HandshakeWatch.Owner() {
        @Override
        public void handshakeOver(TcpInfo info) {
            told.add("over " + (info == null ? null : info.synData()));
        }

        @Override
        public void handshakeFailed(String error) {
            told.add("failed " + error);
        }

        @Override
        public void socketClosed() {
            told.add("closed");
        }
    };
    private final HandshakeWatch watch = new HandshakeWatch(ch, kernel, owner);

    HandshakeWatchTest() {
        ch.freezeTime();
    }

    @AfterEach
    void close() {
        ch.finishAndReleaseAll();
    }

    private void advanceMicros(long micros) {
        ch.advanceTimeBy(micros, TimeUnit.MICROSECONDS);
        ch.runPendingTasks();
    }

    @Test
    void aHandshakeAlreadyOverIsToldAtOnce() {
        kernel.tcpInfo = FakeSocketOps.established(0x20, 0);
        watch.start(0);
        assertEquals(List.of("over true"), told);
        assertFalse(watch.isWatching());
    }

    @Test
    void aHandshakeInFlightIsPolledAtDoublingIntervals() {
        kernel.tcpInfo = FakeSocketOps.synInFlight();
        watch.start(0);
        advanceMicros(100);
        advanceMicros(200);
        advanceMicros(400); // looked at 100, 300 and 700 us
        assertTrue(told.isEmpty());
        kernel.tcpInfo = FakeSocketOps.established(0, 0);
        advanceMicros(799);
        assertTrue(told.isEmpty(), "the next look is 800 us after the last");
        advanceMicros(1);
        assertEquals(List.of("over false"), told);
    }

    @Test
    void aKnownHandshakeTimeMakesTheFirstPollLandJustBeforeTheSynAckIsDue() {
        kernel.tcpInfo = FakeSocketOps.synInFlight();
        watch.start(TimeUnit.MILLISECONDS.toNanos(16));
        kernel.tcpInfo = FakeSocketOps.established(0x20, 0);
        advanceMicros(14_000);
        assertTrue(told.isEmpty(), "no look before 15/16 of the last handshake (15 ms)");
        advanceMicros(1_000);
        assertEquals(List.of("over true"), told);
    }

    @Test
    void aRefusalIsToldWithTheSocketsError() {
        kernel.tcpInfo = FakeSocketOps.closed();
        kernel.socketError = "Connection refused";
        watch.start(0);
        assertEquals(List.of("failed Connection refused"), told);
    }

    @Test
    void aCloseWithoutAnErrorIsLookedAtOnceMoreBeforeItFails() {
        kernel.tcpInfo = FakeSocketOps.closed();
        watch.start(0);
        assertTrue(told.isEmpty(), "the error may come late");
        advanceMicros(100);
        assertEquals(List.of("failed null"), told);
    }

    /**
     * The gate's watch (an {@link Attempt}) starts only in SYN_SENT and passes every later write: a SYN the kernel still
     * holds leaves with one of them, and the watch keeps looking until the handshake is over (Vert.x, a cold JVM: a
     * verdict otherwise pending until the server's data, which a server waiting for the verdict never sends).
     */
    @Test
    void theGatesWatchKeepsLookingAtASynTheKernelStillHolds() {
        Attempt attempt = new Attempt(ch, kernel, owner, null, null);
        kernel.tcpInfo = FakeSocketOps.deferred();
        attempt.start(0);
        advanceMicros(100);
        assertTrue(attempt.isWatching(), "still looking: nothing will start it again");
        kernel.tcpInfo = FakeSocketOps.established(0x20, 0); // the write sent the SYN with its data; the SYN-ACK came
        advanceMicros(200);
        assertEquals(List.of("over true"), told);
    }

    @Test
    void aDeferredConnectIsNotPolledUntilStartedAgain() {
        kernel.tcpInfo = FakeSocketOps.deferred();
        watch.start(0);
        assertFalse(watch.isWatching(), "nothing sent: nothing to poll");
        advanceMicros(60_000_000);
        assertTrue(told.isEmpty());
        kernel.tcpInfo = FakeSocketOps.established(0x20, 0);
        watch.start(0);
        assertEquals(List.of("over true"), told);
    }

    @Test
    void aStoppedWatchNeverLooks() {
        kernel.tcpInfo = FakeSocketOps.synInFlight();
        watch.start(0);
        watch.stop();
        kernel.tcpInfo = FakeSocketOps.established(0, 0);
        advanceMicros(10_000);
        assertTrue(told.isEmpty(), "stopped: a poll already scheduled does nothing");
    }

    /** io_uring closes the socket on a reset before the pipeline hears of it: still registered, no longer open. */
    @Test
    void aSocketClosedUnderTheWatchIsTold() {
        java.util.concurrent.atomic.AtomicBoolean open = new java.util.concurrent.atomic.AtomicBoolean(true);
        EmbeddedChannel closing = new EmbeddedChannel() {
            @Override
            public boolean isOpen() {
                return open.get() && super.isOpen();
            }
        };
        try {
            HandshakeWatch w = new HandshakeWatch(closing, kernel, new HandshakeWatch.Owner() {
                @Override
                public void handshakeOver(TcpInfo info) {
                    told.add("over");
                }

                @Override
                public void handshakeFailed(String error) {
                    told.add("failed");
                }

                @Override
                public void socketClosed() {
                    told.add("closed");
                }
            });
            open.set(false);
            w.start(0);
            assertEquals(List.of("closed"), told);
        } finally {
            open.set(true);
            closing.finishAndReleaseAll();
        }
    }
}
