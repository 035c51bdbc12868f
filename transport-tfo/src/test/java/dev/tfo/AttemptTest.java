package dev.tfo;

import dev.tfo.internal.TcpInfo;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One connection attempt's data: the writes the SYN carried, the timers, the server. */
class AttemptTest {
    private final EmbeddedChannel ch = new EmbeddedChannel();
    private final FakeSocketOps kernel = new FakeSocketOps();
    private final HandshakeWatch.Owner nobody = new HandshakeWatch.Owner() {
        @Override
        public void handshakeOver(TcpInfo info) {
        }

        @Override
        public void handshakeFailed(String error) {
        }

        @Override
        public void socketClosed() {
        }
    };

    @AfterEach
    void close() {
        ch.finishAndReleaseAll();
    }

    @Test
    void theWritesTheSynCarriedCompleteInOrderWithTheHandshake() {
        Attempt a = new Attempt(ch, kernel, nobody, new InetSocketAddress("198.18.0.1", 443), null);
        List<Integer> order = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            int n = i;
            ChannelPromise p = ch.newPromise();
            p.addListener(f -> order.add(n));
            a.carry(p);
        }
        a.carry(ch.voidPromise()); // nothing to complete
        assertTrue(order.isEmpty());
        a.settleCarried(null);
        assertEquals(List.of(1, 2, 3), order);
        a.settleCarried(null); // settled once
        assertEquals(List.of(1, 2, 3), order);
    }

    @Test
    void theWritesTheSynCarriedFailWithTheHandshake() {
        Attempt a = new Attempt(ch, kernel, nobody, new InetSocketAddress("198.18.0.1", 443), null);
        ChannelPromise p = ch.newPromise();
        a.carry(p);
        IOException cause = new IOException("refused");
        a.settleCarried(cause);
        assertSame(cause, p.cause());
    }

    @Test
    void cancelTimersCancelsTheTimerAndStopsTheWatch() {
        Attempt a = new Attempt(ch, kernel, nobody, new InetSocketAddress("198.18.0.1", 443), null);
        kernel.tcpInfo = FakeSocketOps.synInFlight();
        a.start(0);
        Future<?> timeout = ch.eventLoop().schedule(() -> { }, 1, TimeUnit.SECONDS);
        a.timer = timeout;
        a.cancelTimers();
        assertTrue(timeout.isCancelled());
        assertFalse(a.isWatching());
        assertNull(a.timer);
    }

    @Test
    void anUnresolvedServerIsNoServerToLearnAbout() {
        assertNull(new Attempt(ch, kernel, nobody, InetSocketAddress.createUnresolved("example.org", 443), null).remote);
        assertEquals(-1, new Attempt(ch, kernel, nobody, null, null).synBytes, "nothing rode yet");
    }
}
