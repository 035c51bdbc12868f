package dev.tfo;

import dev.tfo.internal.NettyVersion;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * What makes a ring from {@link TfoKeyRing#watch(Path)} follow its key file: the directory watch, the periodic
 * re-read and the reading of the file, on a daemon thread of its own or as a task on a given executor. Owned by
 * that ring, which {@link TfoKeyRing#close()} closes; the rules it follows (the file's form, the privacy rule,
 * how changes are seen, threads) are documented on {@link TfoKeyRing}. Thread-safe.
 */
final class KeyFileWatch {
    /** How often the file is re-read when no event said it changed, unless configured otherwise: 5 s. */
    static final Duration DEFAULT_RECHECK_INTERVAL = Duration.ofSeconds(5);
    /** The shortest recheck interval {@link TfoKeyRing#watch(Path, ScheduledExecutorService, Duration)} takes. */
    static final Duration MIN_RECHECK_INTERVAL = Duration.ofMillis(1);
    /** The longest recheck interval {@link TfoKeyRing#watch(Path, ScheduledExecutorService, Duration)} takes. */
    static final Duration MAX_RECHECK_INTERVAL = Duration.ofDays(1);

    /** Messages go to the ring's logger: the class users know. */
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(TfoKeyRing.class);
    /** On a given executor: how often the task looks for events. */
    private static final long EVENT_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** How long {@link #close()} waits for the own thread to end (it only blocks in a read of the file). */
    private static final long CLOSE_WAIT_MILLIS = 5_000;

    private final Path file;
    private final Path dir;
    private final long recheckNanos;
    private final ScheduledExecutorService executor;
    private final Reporter reporter;
    private final LongSupplier clock;
    private final WatchService watchService;
    private final Object lock = new Object();
    private volatile boolean closed;
    private volatile Thread thread;
    private volatile Future<?> task;
    // Touched only by the watching task (one run at a time) and, before it starts, by the constructor.
    private WatchKey watchKey;
    /** The ring this watch feeds; set by {@link #start} before the task runs (starting it publishes the ring). */
    private TfoKeyRing ring;
    private long lastRead;
    private String problem;
    private boolean unwatched;

    private KeyFileWatch(Path file, Path dir, ScheduledExecutorService executor, Duration recheckInterval,
            Reporter reporter, LongSupplier clock, WatchService watchService, WatchKey watchKey) {
        this.file = file;
        this.dir = dir;
        this.executor = executor;
        this.recheckNanos = recheckInterval.toNanos();
        this.reporter = reporter;
        this.clock = clock;
        this.watchService = watchService;
        this.watchKey = watchKey;
        this.lastRead = clock.getAsLong();
    }

    /**
     * Reads a key file and starts following it: the body of {@link TfoKeyRing#watch}, which checks the
     * arguments. Leaves nothing running (no thread, no watch service) when it throws.
     *
     * <p>{@code TfoKeyRing ring = KeyFileWatch.open(file, null, DEFAULT_RECHECK_INTERVAL, Reporter.LOG, clock);}
     *
     * @param file            a private file holding {@code key} or {@code primary,backup}
     * @param executor        where to run the watch, or null for a daemon thread of its own
     * @param recheckInterval how often the file is re-read when no event said it changed (1 ms to 1 day)
     * @param reporter        where messages go: {@link Reporter#LOG}, or a recorder in tests
     * @param clock           the clock of the recheck interval, in nanoseconds: {@code System::nanoTime} but in tests
     * @return a ring holding the file's keys, following the file until {@link TfoKeyRing#close()}
     * @throws IOException                when the file cannot be read or its directory cannot be watched
     * @throws IllegalArgumentException   when the file is accessible by group or others or holds no valid key
     *                                    (the message names the file, never its content)
     * @throws RejectedExecutionException when the given executor refuses the task (it is shut down)
     */
    static TfoKeyRing open(Path file, ScheduledExecutorService executor, Duration recheckInterval,
            Reporter reporter, LongSupplier clock) throws IOException {
        NettyVersion.requireSupported(); // before any watch service or thread exists
        Path absolute = file.toAbsolutePath();
        Path dir = absolute.getParent();
        if (dir == null) {
            throw new IllegalArgumentException("file: " + absolute + " is not a file in a directory");
        }
        WatchService ws = dir.getFileSystem().newWatchService();
        try {
            // Watch first, then read: a change between the two is not missed.
            WatchKey key = register(dir, ws);
            TfoKey[] keys = readKeys(absolute);
            KeyFileWatch watch = new KeyFileWatch(absolute, dir, executor, recheckInterval, reporter, clock, ws, key);
            TfoKeyRing ring = new TfoKeyRing(keys[0], keys[1], watch);
            watch.start(ring);
            return ring;
        } catch (Throwable e) {
            ws.close();
            throw e;
        }
    }

    /**
     * Stops following the file: no change of the file reaches the ring once this returns. Releases the
     * directory watch and the own thread (waiting for it to end, at most 5 s should a read of the file hang);
     * a given executor is left running. The ring keeps its keys and listeners. Calling it again does nothing.
     *
     * <p>{@code watch.close(); // from TfoKeyRing.close()}
     */
    void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        Future<?> t = task;
        if (t != null) {
            t.cancel(false);
        }
        try {
            watchService.close();
        } catch (IOException e) {
            logger.debug("closing the watch of {}", dir, e);
        }
        Thread own = thread;
        if (own != null && own != Thread.currentThread()) {
            try {
                own.join(CLOSE_WAIT_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Never shows keys: e.g. {@code file /run/secrets/tfo/key, own thread, recheck PT5S, watching}; the tail
     * of the ring's {@code toString()}.
     *
     * @return the file, where it is watched from, the recheck interval and whether it is still watched
     */
    @Override
    public String toString() {
        return "file " + file + ", " + (executor == null ? "own thread" : "given executor")
                + ", recheck " + Duration.ofNanos(recheckNanos) + ", " + (closed ? "closed" : "watching");
    }

    private static WatchKey register(Path dir, WatchService ws) throws IOException {
        return dir.register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                StandardWatchEventKinds.ENTRY_DELETE);
    }

    private void start(TfoKeyRing ring) {
        this.ring = ring;
        if (executor == null) {
            Thread t = new Thread(this::runOwnThread, "tfo-key-file-" + file.getFileName());
            t.setDaemon(true);
            thread = t;
            t.start();
            return;
        }
        long period = Math.min(EVENT_CHECK_NANOS, recheckNanos);
        try {
            task = executor.scheduleWithFixedDelay(this::runOnce, period, period, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            throw new RejectedExecutionException("executor: " + executor
                    + " refused the key file's task (is it shut down?)", e);
        }
    }

    /** The own thread: waits for an event or the next recheck, whichever comes first. */
    private void runOwnThread() {
        try {
            while (!closed) {
                long wait = lastRead + recheckNanos - clock.getAsLong();
                WatchKey first = wait > 0 ? watchService.poll(wait, TimeUnit.NANOSECONDS) : null;
                try {
                    check(first);
                } catch (ClosedWatchServiceException e) {
                    throw e;
                } catch (RuntimeException e) {
                    logger.warn("TFO key file {}: unexpected failure while watching it", file, e);
                }
            }
        } catch (ClosedWatchServiceException | InterruptedException e) {
            // closed
        }
    }

    /** One run of the task on a given executor; never throws (that would end the periodic task). */
    private void runOnce() {
        if (closed) {
            return;
        }
        try {
            check(null);
        } catch (ClosedWatchServiceException e) {
            // closed meanwhile
        } catch (RuntimeException e) {
            logger.warn("TFO key file {}: unexpected failure while watching it", file, e);
        }
    }

    /** Takes the pending events (starting with {@code first}); re-reads after any, or when due. */
    private void check(WatchKey first) {
        boolean events = false;
        for (WatchKey k = first != null ? first : watchService.poll(); k != null; k = watchService.poll()) {
            k.pollEvents(); // any change in the directory means a re-read (covers ..data symlink swaps)
            if (!k.reset()) {
                watchLost();
            }
            events = true;
        }
        long now = clock.getAsLong();
        boolean due = now - lastRead >= recheckNanos;
        if (!events && !due) {
            return;
        }
        lastRead = now;
        if (due) {
            watchAgainIfLost();
        }
        reload();
    }

    private void watchLost() {
        if (!unwatched && !closed) {
            unwatched = true;
            reporter.warn("TFO key file " + file + ": its directory can no longer be watched (removed or "
                    + "unmounted?); reading the file every " + Duration.ofNanos(recheckNanos) + " instead");
        }
    }

    private void watchAgainIfLost() {
        if (watchKey.isValid()) {
            return;
        }
        try {
            watchKey = register(dir, watchService);
            if (unwatched) {
                unwatched = false;
                reporter.info("TFO key file " + file + ": its directory is watched again");
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof ClosedWatchServiceException) {
                throw (ClosedWatchServiceException) e;
            }
            watchLost();
        }
    }

    /** Reads the file; sets the ring when its keys differ; reports a problem once per distinct problem. */
    private void reload() {
        TfoKey[] keys;
        try {
            keys = readKeys(file);
        } catch (IOException | RuntimeException e) {
            // Messages of readKeys name the file, never its content.
            String what = e instanceof IllegalArgumentException ? e.getMessage()
                    : "file: " + file + " cannot be read: " + e;
            synchronized (lock) {
                if (closed || what.equals(problem)) {
                    return;
                }
                problem = what;
            }
            reporter.warn("TFO key file unusable, keeping the keys in force: " + what);
            return;
        }
        boolean recovered;
        boolean changed;
        CompletableFuture<Void> applied = null;
        synchronized (lock) {
            if (closed) {
                return;
            }
            recovered = problem != null;
            problem = null;
            if (keys[1] == null) {
                changed = !keys[0].equals(ring.primary());
                if (changed) {
                    applied = ring.rotate(keys[0]);
                }
            } else {
                changed = !keys[0].equals(ring.primary()) || !Objects.equals(ring.backup().orElse(null), keys[1]);
                if (changed) {
                    applied = ring.set(keys[0], keys[1]);
                }
            }
        }
        if (!changed) {
            if (recovered) {
                reporter.info("TFO key file " + file + " is usable again; it holds the keys in force");
            }
            return;
        }
        int n = ring.listeners();
        applied.whenComplete((v, e) -> {
            if (e == null) {
                reporter.info("TFO key file " + file + " changed: new keys applied to " + n + " listener(s)");
            } else {
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                reporter.warn("TFO key file " + file + " changed, but a listener refused the new keys: "
                        + cause.getMessage());
            }
        });
    }

    /** {@code [primary, backupOrNull]} from a private file; messages name the file, never its content. */
    static TfoKey[] readKeys(Path file) throws IOException {
        String text = TfoKey.readPrivateFile(file).strip();
        int comma = text.indexOf(',');
        try {
            if (comma < 0) {
                return new TfoKey[] {TfoKey.parse(text), null};
            }
            return new TfoKey[] {TfoKey.parse(text.substring(0, comma)), TfoKey.parse(text.substring(comma + 1))};
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("file: " + file + " does not hold 'key' or 'primary,backup': "
                    + e.getMessage().substring("text: ".length()));
        }
    }

    /** Where a key file watch says what happened to the file; the log by default, a recorder in tests. */
    interface Reporter {
        /** Logs through Netty's logger of {@link TfoKeyRing}. */
        Reporter LOG = new Reporter() {
            @Override
            public void info(String message) {
                logger.info("{}", message);
            }

            @Override
            public void warn(String message) {
                logger.warn("{}", message);
            }
        };

        void info(String message);

        void warn(String message);
    }
}
