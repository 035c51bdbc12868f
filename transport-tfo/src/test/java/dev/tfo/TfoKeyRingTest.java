package dev.tfo;

import io.netty.channel.ChannelException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ring alone: keys, rotation, how they reach listeners (stand-ins; no kernel, no file, no thread), and the
 * arguments of {@link TfoKeyRing#watch}; a ring following a file is {@link KeyFileWatchTest}'s.
 */
class TfoKeyRingTest {
    private static final TfoKey K1 = TfoKey.parse("00112233-44556677-8899aabb-ccddeeff");
    private static final TfoKey K2 = TfoKey.parse("0f1e2d3c-4b5a6978-8796a5b4-c3d2e1f0");
    private static final TfoKey K3 = TfoKey.generate();

    @Test
    void rotateMakesTheOldPrimaryTheBackupAndStageOnlyAddsABackup() {
        TfoKeyRing ring = TfoKeyRing.of(K1);
        assertEquals(Optional.empty(), ring.backup());
        ring.stage(K2).join();
        assertEquals(K1, ring.primary());
        assertEquals(Optional.of(K2), ring.backup());
        ring.rotate(K2).join();
        assertEquals(K2, ring.primary());
        assertEquals(Optional.of(K1), ring.backup());
        ring.rotate(K2).join(); // no-op
        assertEquals(Optional.of(K1), ring.backup());
        ring.stage(K1).join();  // already the backup: no-op
        assertEquals(Optional.of(K1), ring.backup());
        ring.rotate(K3).join();
        assertEquals(K3, ring.primary());
        assertEquals(Optional.of(K2), ring.backup());
        assertEquals("TfoKeyRing(primary, backup, 0 listener(s))", ring.toString());
        assertEquals("TfoKeyRing(primary, 0 listener(s))", TfoKeyRing.of(K1).toString());
    }

    @Test
    void setTakesBothKeysAsGiven() {
        TfoKeyRing ring = TfoKeyRing.of(K1, K2);
        assertEquals(K1, ring.primary());
        assertEquals(Optional.of(K2), ring.backup());
        ring.set(K3, K1).join();
        assertEquals(K3, ring.primary());
        assertEquals(Optional.of(K1), ring.backup());
        ring.set(K2, null).join();
        assertEquals(K2, ring.primary());
        assertEquals(Optional.empty(), ring.backup());
    }

    @Test
    void nullArgumentsAreNamed() {
        TfoKeyRing ring = TfoKeyRing.of(K1);
        assertEquals("primary", assertThrows(NullPointerException.class, () -> TfoKeyRing.of(null)).getMessage());
        assertEquals("backup", assertThrows(NullPointerException.class, () -> TfoKeyRing.of(K1, null)).getMessage());
        assertEquals("newPrimary", assertThrows(NullPointerException.class, () -> ring.rotate(null)).getMessage());
        assertEquals("next", assertThrows(NullPointerException.class, () -> ring.stage(null)).getMessage());
    }

    @Test
    void watchArgumentsAreCheckedAndNamedBeforeAnyFileIsTouched() {
        Path file = Path.of("never-read", "key");
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1);
        try {
            assertEquals("file", assertThrows(NullPointerException.class, () -> TfoKeyRing.watch(null)).getMessage());
            assertEquals("file", assertThrows(NullPointerException.class,
                    () -> TfoKeyRing.watch(null, executor, Duration.ofSeconds(5))).getMessage());
            assertEquals("executor", assertThrows(NullPointerException.class,
                    () -> TfoKeyRing.watch(file, null, Duration.ofSeconds(5))).getMessage());
            assertEquals("recheckInterval", assertThrows(NullPointerException.class,
                    () -> TfoKeyRing.watch(file, executor, null)).getMessage());
            for (Duration bad : new Duration[] {Duration.ZERO, Duration.ofNanos(999_999), Duration.ofMillis(-1),
                    Duration.ofDays(1).plusNanos(1)}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> TfoKeyRing.watch(file, executor, bad));
                assertEquals("recheckInterval must be from 1 ms to 1 day, was " + bad, e.getMessage());
            }
            assertEquals(0, executor.getPoolSize(), "nothing was given to the executor");
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void closingARingOfKeysDoesNothing() {
        TfoKeyRing ring = TfoKeyRing.of(K1, K2);
        ring.close();
        ring.close();
        assertEquals("TfoKeyRing(primary, backup, 0 listener(s))", ring.toString());
        ring.rotate(K3).join();
        assertEquals(K3, ring.primary());
        assertEquals(Optional.of(K1), ring.backup());
    }

    @Test
    void keysReachEveryOpenListenerInTheKernelsLayoutAndClosedListenersAreDropped() throws Exception {
        TfoKeyRing ring = TfoKeyRing.of(K1);
        KeyListener a = new KeyListener();
        KeyListener b = new KeyListener();
        ring.attach(a);
        ring.attach(b);
        assertEquals(2, ring.listeners());
        assertArrayEquals(KeyListener.expected(K1, null), a.last()); // at attach: the primary alone, 16 bytes

        CompletableFuture<Void> staged = ring.stage(K2);
        assertFalse(staged.isDone(), "applied on the listeners' event loops, not the caller's thread");
        a.runPendingTasks();
        assertFalse(staged.isDone(), "b has not applied yet");
        b.runPendingTasks();
        staged.join();
        assertArrayEquals(KeyListener.expected(K1, K2), a.last());
        assertArrayEquals(KeyListener.expected(K1, K2), b.last());

        b.close().sync();
        assertEquals(1, ring.listeners());
        int bValues = b.values.size();
        CompletableFuture<Void> rotated = ring.rotate(K3);
        a.runPendingTasks();
        rotated.join();
        assertArrayEquals(KeyListener.expected(K3, K1), a.last());
        assertEquals(bValues, b.values.size(), "a closed listener gets nothing");
        assertEquals("TfoKeyRing(primary, backup, 1 listener(s))", ring.toString());

        KeyListener late = new KeyListener();
        ring.attach(late); // bound after the rotation: gets the keys in force
        assertArrayEquals(KeyListener.expected(K3, K1), late.last());
        a.finishAndReleaseAll();
        late.finishAndReleaseAll();
    }

    @Test
    void aListenerThatRefusesTheKeysFailsTheRotationWithoutShowingThem() throws Exception {
        TfoKeyRing ring = TfoKeyRing.of(K1);
        KeyListener ok = new KeyListener();
        KeyListener refusing = new KeyListener();
        ring.attach(ok);
        ring.attach(refusing);
        refusing.refuse();
        CompletableFuture<Void> rotated = ring.rotate(K2);
        ok.runPendingTasks();
        refusing.runPendingTasks();
        CompletionException e = assertThrows(CompletionException.class, rotated::join);
        ChannelException cause = assertInstanceOf(ChannelException.class, e.getCause());
        assertTrue(cause.getMessage().startsWith("cannot set TCP_FASTOPEN_KEY on ")
                && cause.getMessage().contains("Invalid argument"), cause.getMessage());
        assertFalse(cause.getMessage().contains(K1.format()) || cause.getMessage().contains(K2.format()));
        assertArrayEquals(KeyListener.expected(K2, K1), ok.last()); // the others still got the keys

        KeyListener another = new KeyListener();
        another.refuse();
        ChannelException atAttach = assertThrows(ChannelException.class, () -> ring.attach(another));
        assertFalse(atAttach.getMessage().contains(K2.format()), atAttach.getMessage());
        ok.finishAndReleaseAll();
        refusing.finishAndReleaseAll();
        another.finishAndReleaseAll();
    }

    @Test
    void aTransportWithoutTheOptionIsToldApart() throws Exception {
        // A plain EmbeddedChannel does not know TCP_FASTOPEN_KEY, like NIO.
        io.netty.channel.embedded.EmbeddedChannel nio = new io.netty.channel.embedded.EmbeddedChannel();
        ChannelException e = assertThrows(ChannelException.class, () -> TfoKeyRing.of(K1).attach(nio));
        assertTrue(e.getMessage().contains("does not support it (use epoll or io_uring)"), e.getMessage());
        assertNull(e.getCause());
        nio.finishAndReleaseAll();
    }
}
