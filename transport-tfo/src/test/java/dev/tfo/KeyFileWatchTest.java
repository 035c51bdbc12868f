package dev.tfo;

import dev.tfo.testkit.Wait;
import io.netty.util.concurrent.DefaultEventExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Delayed;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A ring following its key file ({@link TfoKeyRing#watch}), on real directories and the JDK's real WatchService
 * (inotify): each way a file gets rewritten, the periodic re-read, unusable files, the executor, and close. Runs
 * anywhere (no root, no namespace); times are bounded by waits on conditions, never sleeps.
 */
class KeyFileWatchTest {
    private static final TfoKey K1 = TfoKey.parse("00112233-44556677-8899aabb-ccddeeff");
    private static final TfoKey K2 = TfoKey.parse("0f1e2d3c-4b5a6978-8796a5b4-c3d2e1f0");
    private static final TfoKey K3 = TfoKey.generate();
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** A recheck interval no test lives to see: whatever changes the ring then came through an event. */
    private static final Duration NEVER = Duration.ofDays(1);
    private static final String OWN_THREAD = "tfo-key-file-key";
    private static final String JDK_WATCH_THREAD = "FileSystemWatchService";

    @TempDir
    Path dir;
    private Path key;
    private final Recorder log = new Recorder();
    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private long watchThreadsBefore;

    @BeforeEach
    void setUp() {
        key = dir.resolve("key");
        watchThreadsBefore = threads(JDK_WATCH_THREAD);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : cleanup) {
            c.close();
        }
        for (String m : log.all()) {
            for (TfoKey k : new TfoKey[] {K1, K2, K3}) {
                assertFalse(m.contains(k.format()), "a key was reported: " + m);
            }
        }
        assertEquals(0, threads(OWN_THREAD), "a ring's own thread outlived its test");
        Wait.until("every WatchService of the test closed", WAIT,
                () -> threads(JDK_WATCH_THREAD) == watchThreadsBefore);
    }

    // ---- reading the file ----

    @Test
    void watchTakesOneKeyOrAPrimaryAndABackup() throws IOException {
        writeInPlace(key, K1.format() + "\n");
        try (TfoKeyRing one = TfoKeyRing.watch(key)) {
            assertEquals(K1, one.primary());
            assertEquals(Optional.empty(), one.backup());
            assertTrue(one.toString().contains(", file " + key + ", "), one.toString());
        }
        writeInPlace(key, " " + K2.format() + "," + K1.format() + " \n");
        Path relative = Path.of("").toAbsolutePath().relativize(key);
        assertFalse(relative.isAbsolute());
        try (TfoKeyRing two = TfoKeyRing.watch(relative)) {
            assertTrue(two.toString().contains(", file " + relative.toAbsolutePath() + ", "), "made absolute: " + two);
            assertEquals(K2, two.primary());
            assertEquals(Optional.of(K1), two.backup());
        }
    }

    @Test
    void aFileOpenToOthersGarbledOrMissingIsRefusedWithoutShowingItAndLeavesNothingRunning() throws IOException {
        writeInPlace(key, K1.format());
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r-----"));
        IllegalArgumentException open = assertThrows(IllegalArgumentException.class, () -> TfoKeyRing.watch(key));
        assertTrue(open.getMessage().startsWith("file: " + key) && open.getMessage().contains("chmod 600"),
                open.getMessage());
        assertFalse(open.getMessage().contains(K1.format()), open.getMessage());

        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        writeInPlace(key, K1.format() + ",not-a-key-0123456789abcdef");
        IllegalArgumentException garbled = assertThrows(IllegalArgumentException.class, () -> TfoKeyRing.watch(key));
        assertTrue(garbled.getMessage().startsWith("file: " + key + " does not hold 'key' or 'primary,backup'"),
                garbled.getMessage());
        assertFalse(garbled.getMessage().contains("0123456789abcdef") || garbled.getMessage().contains(K1.format()),
                garbled.getMessage());

        assertThrows(NoSuchFileException.class, () -> TfoKeyRing.watch(dir.resolve("missing")));
        assertThrows(NoSuchFileException.class, () -> TfoKeyRing.watch(dir.resolve("no-dir").resolve("key")));
        // tearDown: no own thread and no WatchService left behind by the failed opens
    }

    @Test
    void aShutDownExecutorIsRefusedAndLeavesNothingRunning() throws IOException {
        writeInPlace(key, K1.format());
        ScheduledThreadPoolExecutor down = new ScheduledThreadPoolExecutor(1);
        down.shutdown();
        RejectedExecutionException e = assertThrows(RejectedExecutionException.class,
                () -> TfoKeyRing.watch(key, down, Duration.ofSeconds(5)));
        assertTrue(e.getMessage().startsWith("executor: ") && e.getMessage().contains("shut down"), e.getMessage());
        // tearDown: the WatchService opened before the executor refused was closed
    }

    // ---- each way a file is rewritten, seen through the directory watch (the recheck never comes) ----

    @ParameterizedTest(name = "on a given executor: {0}")
    @ValueSource(booleans = {false, true})
    void anInPlaceWriteIsSeenAsItHappens(boolean onExecutor) throws IOException {
        writeInPlace(key, K1.format());
        TfoKeyRing ring = open(onExecutor, NEVER);
        writeInPlace(key, K2.format() + "\n");
        Wait.until("rotated to K2", WAIT, () -> ring.primary().equals(K2));
        assertEquals(Optional.of(K1), ring.backup(), "the old primary stays valid as backup");
        Wait.until("the change reported", WAIT, () -> log.infos.contains(
                "TFO key file " + key + " changed: new keys applied to 0 listener(s)"));
    }

    @ParameterizedTest(name = "on a given executor: {0}")
    @ValueSource(booleans = {false, true})
    void anAtomicRenameIsSeenAsItHappensAndTwoKeysAreSetAsGiven(boolean onExecutor) throws IOException {
        writeInPlace(key, K1.format());
        TfoKeyRing ring = open(onExecutor, NEVER);
        writeAtomically(key, K3.format() + "," + K2.format());
        Wait.until("set to K3,K2", WAIT, () -> ring.primary().equals(K3));
        assertEquals(Optional.of(K2), ring.backup());
        // the second phase of a fleet rotation: next,current
        writeAtomically(key, K2.format() + "," + K3.format());
        Wait.until("set to K2,K3", WAIT, () -> ring.primary().equals(K2)
                && ring.backup().equals(Optional.of(K3)));
    }

    @ParameterizedTest(name = "on a given executor: {0}")
    @ValueSource(booleans = {false, true})
    void aKubernetesSecretUpdateIsSeenAsItHappens(boolean onExecutor) throws IOException {
        // The kubelet's atomic writer: key -> ..data/key, ..data -> ..<timestamp>/, swapped by a rename.
        Path v1 = writeVersion("..2026_01_01_00_00_00.1", K1);
        Files.createSymbolicLink(dir.resolve("..data"), v1.getFileName());
        Files.createSymbolicLink(key, Path.of("..data", "key"));
        TfoKeyRing ring = open(onExecutor, NEVER);
        assertEquals(K1, ring.primary());

        Path v2 = writeVersion("..2026_01_01_00_10_00.2", K2);
        Files.createSymbolicLink(dir.resolve("..data_tmp"), v2.getFileName());
        Files.move(dir.resolve("..data_tmp"), dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
        deleteTree(v1);
        Wait.until("rotated to K2", WAIT, () -> ring.primary().equals(K2));
        assertEquals(Optional.of(K1), ring.backup());
        assertTrue(log.warns.isEmpty(), () -> "the swap is atomic, the file never looked broken: " + log.warns);
    }

    // ---- the periodic re-read ----

    @ParameterizedTest(name = "on a given executor: {0}")
    @ValueSource(booleans = {false, true})
    void theRecheckCatchesAChangeNoEventReports(boolean onExecutor) throws IOException {
        // key -> ../elsewhere/key: rewriting the target in place makes no event in the watched directory.
        Path target = linkToAFileElsewhere(K1);
        TfoKeyRing ring = open(onExecutor, Duration.ofMillis(50));
        writeInPlace(target, K2.format());
        Wait.until("the recheck rotated to K2", WAIT, () -> ring.primary().equals(K2));
    }

    @Test
    void withoutAnEventTheFileIsReadOnlyWhenTheRecheckIsDue() throws IOException {
        Path target = linkToAFileElsewhere(K1);
        ManualScheduler scheduler = new ManualScheduler();
        AtomicLong clock = new AtomicLong();
        TfoKeyRing ring = track(KeyFileWatch.open(key, scheduler, Duration.ofSeconds(5), log, clock::get));
        assertEquals(TimeUnit.MILLISECONDS.toNanos(100), scheduler.periodNanos, "events looked for every 100 ms");
        writeInPlace(target, K2.format());
        scheduler.runTask();
        clock.addAndGet(Duration.ofMillis(4_999).toNanos());
        scheduler.runTask();
        assertEquals(K1, ring.primary(), "not read: no event, recheck not due");
        clock.addAndGet(Duration.ofMillis(1).toNanos());
        scheduler.runTask();
        assertEquals(K2, ring.primary(), "read when the recheck was due");
        assertEquals(Optional.of(K1), ring.backup());
    }

    @Test
    void anUnusableFileKeepsTheKeysAndIsReportedOncePerProblem() throws IOException {
        writeInPlace(key, K1.format());
        ManualScheduler scheduler = new ManualScheduler();
        AtomicLong clock = new AtomicLong();
        TfoKeyRing ring = track(KeyFileWatch.open(key, scheduler, Duration.ofSeconds(1), log, clock::get));
        Runnable recheck = () -> {
            clock.addAndGet(Duration.ofSeconds(1).toNanos());
            scheduler.runTask();
        };

        writeInPlace(key, "garbage, not a key");
        for (int i = 0; i < 3; i++) {
            recheck.run();
        }
        assertEquals(K1, ring.primary());
        assertEquals(1, log.warns.size(), () -> "three reads, one problem, one warning: " + log.warns);
        assertTrue(log.warns.get(0).startsWith("TFO key file unusable, keeping the keys in force: file: " + key
                + " does not hold 'key' or 'primary,backup'"), log.warns.get(0));
        assertFalse(log.warns.get(0).contains("garbage"), log.warns.get(0));

        Files.delete(key);
        recheck.run();
        recheck.run();
        assertEquals(2, log.warns.size(), () -> "a new problem, a new warning: " + log.warns);
        assertTrue(log.warns.get(1).contains("cannot be read: java.nio.file.NoSuchFileException"), log.warns.get(1));

        writeInPlace(key, K2.format());
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-rw-rw-"));
        recheck.run();
        recheck.run();
        assertEquals(3, log.warns.size(), () -> log.warns.toString());
        assertTrue(log.warns.get(2).contains("is accessible by group or others"), log.warns.get(2));
        assertEquals(K1, ring.primary(), "a key in a world-readable file is not used");
        assertEquals(Optional.empty(), ring.backup());

        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        writeInPlace(key, K1.format());
        recheck.run();
        assertEquals(List.of("TFO key file " + key + " is usable again; it holds the keys in force"), log.infos);
        writeInPlace(key, "garbage, not a key");
        recheck.run();
        assertEquals(4, log.warns.size(), () -> "the same problem as before, but after a good read: " + log.warns);
        writeInPlace(key, K2.format());
        recheck.run();
        assertEquals(K2, ring.primary());
        assertEquals("TFO key file " + key + " changed: new keys applied to 0 listener(s)", log.infos.get(1));
        assertEquals(4, log.warns.size());
    }

    @Test
    void aDirectoryRemovedAndRecreatedIsWatchedAgainAtTheNextRecheck() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("secret"));
        Path file = sub.resolve("key");
        writeInPlace(file, K1.format());
        ManualScheduler scheduler = new ManualScheduler();
        AtomicLong clock = new AtomicLong();
        TfoKeyRing ring = track(KeyFileWatch.open(file, scheduler, Duration.ofSeconds(1), log, clock::get));
        deleteTree(sub);
        Wait.until("the lost watch reported", WAIT, () -> {
            scheduler.runTask();
            return log.warns.stream().anyMatch(w -> w.contains("its directory can no longer be watched"));
        });
        assertEquals(K1, ring.primary());

        Files.createDirectory(sub);
        writeInPlace(file, K2.format());
        clock.addAndGet(Duration.ofSeconds(1).toNanos());
        scheduler.runTask();
        assertTrue(log.infos.contains("TFO key file " + file + ": its directory is watched again"), log.infos::toString);
        assertEquals(K2, ring.primary(), "read at the recheck");
        writeInPlace(file, K3.format());
        Wait.until("the next change seen through the new watch, the recheck not due", WAIT, () -> {
            scheduler.runTask();
            return ring.primary().equals(K3);
        });
    }

    // ---- keys reach the listeners of the ring ----

    @Test
    void aChangeReachesEveryListenerOfTheRingAndARefusalIsReported() throws Exception {
        writeInPlace(key, K1.format());
        ManualScheduler scheduler = new ManualScheduler();
        AtomicLong clock = new AtomicLong();
        TfoKeyRing ring = track(KeyFileWatch.open(key, scheduler, Duration.ofSeconds(1), log, clock::get));
        KeyListener listener = new KeyListener();
        ring.attach(listener);
        assertArrayEquals(KeyListener.expected(K1, null), listener.last());

        writeAtomically(key, K2.format());
        clock.addAndGet(Duration.ofSeconds(1).toNanos());
        scheduler.runTask();
        assertTrue(log.infos.isEmpty(), "reported once the listener has the keys, not before");
        listener.runPendingTasks();
        assertArrayEquals(KeyListener.expected(K2, K1), listener.last());
        assertEquals(List.of("TFO key file " + key + " changed: new keys applied to 1 listener(s)"), log.infos);

        listener.refuse();
        writeAtomically(key, K3.format());
        clock.addAndGet(Duration.ofSeconds(1).toNanos());
        scheduler.runTask();
        listener.runPendingTasks();
        assertEquals(1, log.warns.size(), () -> log.warns.toString());
        assertTrue(log.warns.get(0).startsWith("TFO key file " + key + " changed, but a listener refused the new "
                + "keys: cannot set TCP_FASTOPEN_KEY on "), log.warns.get(0));
        assertArrayEquals(KeyListener.expected(K2, K1), listener.last(), "the refusing listener kept its keys");
        listener.finishAndReleaseAll();
    }

    // ---- threads, executors, close ----

    @Test
    void byDefaultItOwnsOneDaemonThreadAndCloseReleasesItAndTheWatch() throws IOException {
        writeInPlace(key, K1.format());
        TfoKeyRing ring = TfoKeyRing.watch(key);
        Thread own = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(OWN_THREAD))
                .findFirst().orElse(null);
        assertNotNull(own, "the ring's own thread");
        assertTrue(own.isDaemon());
        assertEquals(watchThreadsBefore + 1, threads(JDK_WATCH_THREAD));
        assertEquals("TfoKeyRing(primary, 0 listener(s), file " + key + ", own thread, recheck PT5S, watching)",
                ring.toString());

        ring.close();
        assertFalse(own.isAlive(), "close waits for its own thread to end");
        assertEquals(0, threads(OWN_THREAD));
        Wait.until("the WatchService's thread ended", WAIT, () -> threads(JDK_WATCH_THREAD) == watchThreadsBefore);
        ring.close(); // idempotent
        assertEquals("TfoKeyRing(primary, 0 listener(s), file " + key + ", own thread, recheck PT5S, closed)",
                ring.toString());

        ring.rotate(K3).join(); // the ring outlives the watch
        assertEquals(K3, ring.primary());
        assertEquals(Optional.of(K1), ring.backup());
    }

    @Test
    void aGivenExecutorRunsTheWatchAndIsNeverShutDown() throws Exception {
        writeInPlace(key, K1.format());
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> new Thread(r, "user-scheduler"));
        executor.setRemoveOnCancelPolicy(true);
        try {
            TfoKeyRing ring = KeyFileWatch.open(key, executor, NEVER, log, System::nanoTime);
            assertEquals(0, threads(OWN_THREAD), "no thread of its own");
            assertEquals("TfoKeyRing(primary, 0 listener(s), file " + key + ", given executor, recheck PT24H, "
                    + "watching)", ring.toString());
            writeAtomically(key, K2.format());
            Wait.until("rotated to K2", WAIT, () -> ring.primary().equals(K2));
            Wait.until("the change reported", WAIT, () -> !log.infos.isEmpty());
            assertEquals("user-scheduler", log.infoThreads.get(0), "the file was read on the given executor");

            ring.close();
            ring.close();
            assertFalse(executor.isShutdown(), "never shut down by the ring");
            assertTrue(executor.getQueue().isEmpty(), "its task is cancelled");
            assertEquals("still works", executor.submit(() -> "still works").get(10, TimeUnit.SECONDS));
            ring.rotate(K3).join();
            assertEquals(K3, ring.primary());
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void watchWithAnExecutorRunsAsItsTaskAndTakesRecheckIntervalsFrom1MsTo1Day() throws Exception {
        writeInPlace(key, K1.format());
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1);
        executor.setRemoveOnCancelPolicy(true);
        cleanup.add(executor::shutdownNow);
        try (TfoKeyRing day = TfoKeyRing.watch(key, executor, Duration.ofDays(1))) {
            assertEquals("TfoKeyRing(primary, 0 listener(s), file " + key + ", given executor, recheck PT24H, "
                    + "watching)", day.toString());
        }
        TfoKeyRing ring = track(TfoKeyRing.watch(key, executor, Duration.ofMillis(1)));
        assertTrue(ring.toString().endsWith(", given executor, recheck PT0.001S, watching)"), ring.toString());
        assertEquals(1, executor.getQueue().size(), "one task, the closed ring's was removed");
        assertEquals(0, threads(OWN_THREAD), "no thread of its own");
        writeAtomically(key, K2.format());
        Wait.until("rotated to K2", WAIT, () -> ring.primary().equals(K2));
        assertEquals(Optional.of(K1), ring.backup());
    }

    @Test
    void aNettyEventExecutorRunsTheWatchAndIsNeverShutDown() throws Exception {
        writeInPlace(key, K1.format());
        DefaultEventExecutor loop = new DefaultEventExecutor();
        try {
            TfoKeyRing ring = KeyFileWatch.open(key, loop, NEVER, log, System::nanoTime);
            writeAtomically(key, K2.format());
            Wait.until("rotated to K2", WAIT, () -> ring.primary().equals(K2));
            Wait.until("the change reported", WAIT, () -> !log.infos.isEmpty());
            assertTrue(loop.submit(() -> Thread.currentThread().getName()).get(10, TimeUnit.SECONDS)
                    .equals(log.infoThreads.get(0)), "the file was read on the event executor");
            ring.close();
            assertFalse(loop.isShuttingDown(), "never shut down by the ring");
        } finally {
            loop.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void afterCloseNoChangeOfTheFileReachesTheRing() throws IOException {
        writeInPlace(key, K1.format());
        ManualScheduler scheduler = new ManualScheduler();
        AtomicLong clock = new AtomicLong();
        TfoKeyRing ring = KeyFileWatch.open(key, scheduler, Duration.ofSeconds(1), log, clock::get);
        ring.close();
        assertTrue(scheduler.task.isCancelled());
        assertFalse(scheduler.isShutdown());
        writeAtomically(key, K2.format());
        clock.addAndGet(Duration.ofSeconds(1).toNanos());
        scheduler.task.command.run(); // a run that was already under way when close was called
        assertEquals(K1, ring.primary());
        assertTrue(log.all().isEmpty(), () -> log.all().toString());
    }

    @Test
    void aReadUnderWayWhenCloseIsCalledChangesNothing() throws Exception {
        writeInPlace(key, K1.format());
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> new Thread(r, "user-scheduler"));
        cleanup.add(executor::shutdownNow);
        TfoKeyRing ring = KeyFileWatch.open(key, executor, NEVER, log, System::nanoTime);
        // The key file becomes a FIFO: the watcher's read blocks until the test writes into it.
        Path fifo = dir.resolve(".fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", "-m", "600", fifo.toString()).inheritIO().start();
        assertEquals(0, mkfifo.waitFor());
        Files.move(fifo, key, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Wait.until("the watcher blocked reading the file", WAIT, () -> isReadingTheKeyFile("user-scheduler"));

        ring.close(); // returns at once: a given executor's run is not waited for
        Files.writeString(key, K2.format(), StandardCharsets.US_ASCII); // the blocked read completes
        executor.submit(() -> { }).get(10, TimeUnit.SECONDS); // that run has ended
        assertEquals(K1, ring.primary(), "a read that completed after close changed nothing");
        assertTrue(log.all().isEmpty(), () -> log.all().toString());
    }

    // ---- helpers ----

    /** A ring following the key file on its own thread or on a (tracked) single-thread executor. */
    private TfoKeyRing open(boolean onExecutor, Duration recheck) throws IOException {
        ScheduledThreadPoolExecutor executor = null;
        if (onExecutor) {
            executor = new ScheduledThreadPoolExecutor(1);
            cleanup.add(executor::shutdownNow);
        }
        return track(KeyFileWatch.open(key, executor, recheck, log, System::nanoTime));
    }

    private TfoKeyRing track(TfoKeyRing ring) {
        cleanup.add(0, ring); // closed before its executor is shut down
        return ring;
    }

    /** {@code key -> ../elsewhere/key}, the target holding {@code k}; returns the target. */
    private Path linkToAFileElsewhere(TfoKey k) throws IOException {
        Path elsewhere = Files.createDirectory(dir.resolveSibling(dir.getFileName() + "-elsewhere"));
        cleanup.add(() -> deleteTree(elsewhere));
        Path target = elsewhere.resolve("key");
        writeInPlace(target, k.format());
        Files.createSymbolicLink(key, target);
        return target;
    }

    private static boolean isReadingTheKeyFile(String threadName) {
        return Thread.getAllStackTraces().entrySet().stream()
                .filter(e -> e.getKey().getName().equals(threadName))
                .flatMap(e -> java.util.Arrays.stream(e.getValue()))
                .anyMatch(f -> f.getClassName().equals(TfoKey.class.getName())
                        && f.getMethodName().equals("readPrivateFile"));
    }

    private static long threads(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name) && t.isAlive())
                .count();
    }

    /** Rewrites the file itself (truncate, write), mode 0600. */
    private static void writeInPlace(Path file, String text) throws IOException {
        if (!Files.exists(file)) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Files.writeString(file, text, StandardCharsets.US_ASCII);
    }

    /** Writes a temporary file, then renames it over the key file, as secret agents do. */
    private void writeAtomically(Path file, String text) throws IOException {
        Path tmp = Files.createTempFile(dir, ".key", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, text, StandardCharsets.US_ASCII);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private Path writeVersion(String name, TfoKey k) throws IOException {
        Path v = Files.createDirectory(dir.resolve(name));
        writeInPlace(v.resolve("key"), k.format() + "\n");
        Files.setPosixFilePermissions(v.resolve("key"), PosixFilePermissions.fromString("r--------"));
        return v;
    }

    private static void deleteTree(Path d) throws IOException {
        try (var s = Files.list(d)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Files.delete(p);
            }
        }
        Files.delete(d);
    }

    /** Records what a key file watch reports, and on which thread it reported a change. */
    static final class Recorder implements KeyFileWatch.Reporter {
        final List<String> infos = new CopyOnWriteArrayList<>();
        final List<String> infoThreads = new CopyOnWriteArrayList<>();
        final List<String> warns = new CopyOnWriteArrayList<>();

        @Override
        public void info(String message) {
            infos.add(message);
            infoThreads.add(Thread.currentThread().getName());
        }

        @Override
        public void warn(String message) {
            warns.add(message);
        }

        List<String> all() {
            List<String> all = new ArrayList<>(infos);
            all.addAll(warns);
            return all;
        }
    }

    /** A scheduler whose one periodic task runs when the test says so, on the test's thread. */
    static final class ManualScheduler extends AbstractExecutorService implements ScheduledExecutorService {
        Task task;
        long periodNanos;
        private boolean shutdown;

        /** Runs the periodic task once, unless it was cancelled. */
        void runTask() {
            if (!task.isCancelled()) {
                task.command.run();
            }
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
            if (task != null || shutdown) {
                throw new RejectedExecutionException("one task only");
            }
            periodNanos = unit.toNanos(delay);
            task = new Task(command);
            return task;
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            throw new UnsupportedOperationException();
        }

        @Override
        public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void execute(Runnable command) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void shutdown() {
            shutdown = true;
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            return List.of();
        }

        @Override
        public boolean isShutdown() {
            return shutdown;
        }

        @Override
        public boolean isTerminated() {
            return shutdown;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return shutdown;
        }

        /** The periodic task's future: only cancellation matters. */
        static final class Task implements ScheduledFuture<Object> {
            final Runnable command;
            private volatile boolean cancelled;

            Task(Runnable command) {
                this.command = command;
            }

            @Override
            public long getDelay(TimeUnit unit) {
                return 0;
            }

            @Override
            public int compareTo(Delayed o) {
                return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
            }

            @Override
            public boolean cancel(boolean mayInterruptIfRunning) {
                cancelled = true;
                return true;
            }

            @Override
            public boolean isCancelled() {
                return cancelled;
            }

            @Override
            public boolean isDone() {
                return cancelled;
            }

            @Override
            public Object get() {
                throw new UnsupportedOperationException();
            }

            @Override
            public Object get(long timeout, TimeUnit unit) {
                throw new UnsupportedOperationException();
            }
        }
    }
}
