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

import static java.util.Objects.requireNonNull;

/**
 * A private file holding TFO server keys, watched so that a {@link TfoKeyRing} follows it: the way to take
 * the keys of a fleet from a secret store (a Kubernetes Secret volume, a file written by a secrets agent).
 *
 * <pre>{@code
 * TfoKeyFile keyFile = TfoKeyFile.watch(Path.of("/run/secrets/tfo/key"));
 * TfoBootstraps.server(serverBootstrap, TfoServerOptions.builder().keys(keyFile.ring()).build())
 *         .bind(443).sync();
 * // ... at shutdown: stop following the file (the listeners keep their keys)
 * keyFile.close();
 * }</pre>
 *
 * <p><b>The file</b> holds one key, or {@code primary,backup}, in {@link TfoKey}'s text form
 * ({@code xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx}), and must be private: not readable, writable or executable
 * by group or others (mode 0600 or 0400; for a Kubernetes Secret volume {@code defaultMode: 0400}).
 * Symbolic links are followed. While the watch is open the file decides: a file of one key that differs
 * from the ring's primary rotates the ring to it ({@link TfoKeyRing#rotate}: the old primary becomes the
 * backup, so no cookie is refused); a file of two keys sets both as given (write {@code current,next} on
 * every server, then {@code next,current}, to rotate a fleet without refusing a cookie). A file that cannot
 * be read, is no longer private or holds no valid key leaves the keys in force and is reported once per
 * distinct problem, as a warning that names the file and never shows its content.
 *
 * <p><b>How changes are seen.</b> The file's directory is watched ({@link WatchService}: inotify on Linux),
 * so in-place writes, atomic renames and Kubernetes' Secret volume updates (a {@code ..data} symbolic link
 * swapped by a rename) are seen as they happen; any change in that directory makes the file be read again.
 * The file is also re-read every {@linkplain Builder#recheckInterval recheck interval} (default 5 s), for
 * events that are lost or never reach the directory: a network file system, or a symbolic link whose target
 * lives in another directory and is rewritten in place.
 *
 * <p><b>Threads.</b> By default a key file owns one daemon thread, {@code tfo-key-file-<file name>}, that
 * waits for events. Given an executor ({@link Builder#executor}: any {@code ScheduledExecutorService},
 * e.g. a Netty {@code EventLoop}), it owns no thread: a task on that executor looks for events every 100 ms
 * (without blocking) and reads the file only after an event or when the recheck interval has passed.
 *
 * <pre>{@code
 * TfoKeyFile keyFile = TfoKeyFile.builder(Path.of("/run/secrets/tfo/key"))
 *         .executor(eventLoopGroup.next())
 *         .recheckInterval(Duration.ofSeconds(30))
 *         .watch();
 * }</pre>
 *
 * <p>{@link #close()} stops following the file and releases the watch (and the key file's own thread, if
 * any; never the given executor). The ring keeps its keys and its listeners, and {@link TfoKeyRing#rotate}
 * still works. Thread-safe.
 */
public final class TfoKeyFile implements AutoCloseable {
    /** How often the file is re-read when no event said it changed, unless configured otherwise: 5 s. */
    public static final Duration DEFAULT_RECHECK_INTERVAL = Duration.ofSeconds(5);

    private static final InternalLogger logger = InternalLoggerFactory.getInstance(TfoKeyFile.class);
    /** On a given executor: how often the task looks for events. */
    private static final long EVENT_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** How long {@link #close()} waits for the own thread to end (it only blocks in a read of the file). */
    private static final long CLOSE_WAIT_MILLIS = 5_000;
    private static final Duration MIN_RECHECK = Duration.ofMillis(1);
    private static final Duration MAX_RECHECK = Duration.ofDays(1);

    private final Path file;
    private final Path dir;
    private final long recheckNanos;
    private final ScheduledExecutorService executor;
    private final Reporter reporter;
    private final LongSupplier clock;
    private final TfoKeyRing ring;
    private final WatchService watchService;
    private final Object lock = new Object();
    private volatile boolean closed;
    private volatile Thread thread;
    private volatile Future<?> task;
    // Touched only by the watching task (one run at a time) and, before it starts, by the constructor.
    private WatchKey watchKey;
    private long lastRead;
    private String problem;
    private boolean unwatched;

    private TfoKeyFile(Builder b, Path file, Path dir, WatchService watchService, WatchKey watchKey,
            TfoKey[] keys) {
        this.file = file;
        this.dir = dir;
        this.recheckNanos = b.recheckInterval.toNanos();
        this.executor = b.executor;
        this.reporter = b.reporter;
        this.clock = b.clock;
        this.watchService = watchService;
        this.watchKey = watchKey;
        this.ring = keys[1] == null ? TfoKeyRing.of(keys[0]) : TfoKeyRing.of(keys[0], keys[1]);
        this.lastRead = clock.getAsLong();
    }

    /**
     * Reads a key file and follows it on a daemon thread of its own, re-reading it every
     * {@link #DEFAULT_RECHECK_INTERVAL} as well (see the class comment). Same as
     * {@code TfoKeyFile.builder(file).watch()}.
     *
     * <p>{@code TfoKeyRing ring = TfoKeyFile.watch(Path.of("/run/secrets/tfo/key")).ring();}
     *
     * @param file a private file holding {@code key} or {@code primary,backup}
     * @return an open key file, whose {@link #ring()} holds the file's keys
     * @throws IOException              when the file cannot be read or its directory cannot be watched
     * @throws IllegalArgumentException when the file is accessible by group or others or holds no valid key
     *                                  (the message names the file, never its content)
     */
    public static TfoKeyFile watch(Path file) throws IOException {
        return builder(file).watch();
    }

    /**
     * A builder, to choose the executor or the recheck interval.
     *
     * <pre>{@code
     * TfoKeyFile keyFile = TfoKeyFile.builder(Path.of("/run/secrets/tfo/key"))
     *         .executor(scheduler)
     *         .watch();
     * }</pre>
     *
     * @param file a private file holding {@code key} or {@code primary,backup}
     * @return a new builder with the defaults: an own thread, {@link #DEFAULT_RECHECK_INTERVAL}
     */
    public static Builder builder(Path file) {
        return new Builder(requireNonNull(file, "file"));
    }

    /**
     * The ring that follows this file: give it to {@link TfoServerOptions.Builder#keys(TfoKeyRing)}. It is
     * the same ring for the life of this key file, and stays usable after {@link #close()}.
     *
     * <p>{@code TfoServerOptions options = TfoServerOptions.builder().keys(keyFile.ring()).build();}
     *
     * @return the ring
     */
    public TfoKeyRing ring() {
        return ring;
    }

    /**
     * The watched file, as an absolute path.
     *
     * <p>{@code log.info("TFO keys from {}", keyFile.file());}
     *
     * @return the file
     */
    Path file() {
        return file;
    }

    /**
     * Stops following the file: no change of the file reaches the ring once this returns. Releases the
     * directory watch and the key file's own thread (waiting for it to end, at most 5 s should a read of
     * the file hang); a given executor is left running. The ring keeps its keys and listeners. Calling it
     * again does nothing.
     *
     * <p>{@code try (TfoKeyFile keyFile = TfoKeyFile.watch(file)) { serve(keyFile.ring()); }}
     */
    @Override
    public void close() {
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
     * Never shows keys: e.g. {@code TfoKeyFile(/run/secrets/tfo/key, own thread, recheck PT5S, watching)}.
     *
     * @return the file, where it is watched from, the recheck interval and whether it is still watched
     */
    @Override
    public String toString() {
        return "TfoKeyFile(" + file + ", " + (executor == null ? "own thread" : "given executor")
                + ", recheck " + Duration.ofNanos(recheckNanos) + ", " + (closed ? "closed" : "watching") + ')';
    }

    private static TfoKeyFile open(Builder b) throws IOException {
        NettyVersion.requireSupported(); // before any watch service or thread exists
        Path file = b.file.toAbsolutePath();
        Path dir = file.getParent();
        if (dir == null) {
            throw new IllegalArgumentException("file: " + file + " is not a file in a directory");
        }
        WatchService ws = dir.getFileSystem().newWatchService();
        try {
            // Watch first, then read: a change between the two is not missed.
            WatchKey key = register(dir, ws);
            TfoKeyFile keyFile = new TfoKeyFile(b, file, dir, ws, key, readKeys(file));
            keyFile.start();
            return keyFile;
        } catch (Throwable e) {
            ws.close();
            throw e;
        }
    }

    private static WatchKey register(Path dir, WatchService ws) throws IOException {
        return dir.register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                StandardWatchEventKinds.ENTRY_DELETE);
    }

    private void start() {
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

    /** Where a key file says what happened to it; the log by default, a recorder in tests. */
    interface Reporter {
        /** Logs through Netty's logger of this class. */
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

    /**
     * Configures and opens a {@link TfoKeyFile}. Not thread-safe; {@link #watch()} may be called more than
     * once, each call opening a key file of its own.
     */
    public static final class Builder {
        private final Path file;
        private ScheduledExecutorService executor;
        private Duration recheckInterval = DEFAULT_RECHECK_INTERVAL;
        private Reporter reporter = Reporter.LOG;
        private LongSupplier clock = System::nanoTime;

        private Builder(Path file) {
            this.file = file;
        }

        /**
         * Runs the watch on {@code executor} instead of a thread of the key file's own: a task that looks
         * for events every 100 ms (or every recheck interval, if shorter) and reads the file when needed. A
         * Netty {@code EventLoop} or {@code EventExecutor} will do (the file is small and read rarely, but
         * each read is a blocking file read). The executor must outlive the watch;
         * {@link TfoKeyFile#close()} cancels the task and never shuts the executor down.
         *
         * <p>{@code builder.executor(eventLoopGroup.next())}
         *
         * @param executor where to run the watch
         * @return this builder
         */
        public Builder executor(ScheduledExecutorService executor) {
            this.executor = requireNonNull(executor, "executor");
            return this;
        }

        /**
         * How often the file is re-read even when no event said it changed (default
         * {@link TfoKeyFile#DEFAULT_RECHECK_INTERVAL}): the bound on how late a change the directory watch
         * missed is applied.
         *
         * <p>{@code builder.recheckInterval(Duration.ofSeconds(30))}
         *
         * @param recheckInterval from 1 ms to 1 day
         * @return this builder
         * @throws IllegalArgumentException when {@code recheckInterval} is shorter than 1 ms or longer than
         *                                  1 day
         */
        public Builder recheckInterval(Duration recheckInterval) {
            requireNonNull(recheckInterval, "recheckInterval");
            if (recheckInterval.compareTo(MIN_RECHECK) < 0 || recheckInterval.compareTo(MAX_RECHECK) > 0) {
                throw new IllegalArgumentException("recheckInterval must be from 1 ms to 1 day, was "
                        + recheckInterval);
            }
            this.recheckInterval = recheckInterval;
            return this;
        }

        /** Where messages go (tests); the log by default. */
        Builder reporter(Reporter reporter) {
            this.reporter = requireNonNull(reporter, "reporter");
            return this;
        }

        /** The clock of the recheck interval, in nanoseconds (tests); {@code System::nanoTime} by default. */
        Builder clock(LongSupplier clock) {
            this.clock = requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Reads the file now and starts following it.
         *
         * <p>{@code TfoKeyFile keyFile = TfoKeyFile.builder(file).recheckInterval(Duration.ofSeconds(1)).watch();}
         *
         * @return an open key file, whose {@link TfoKeyFile#ring()} holds the file's keys
         * @throws IOException                when the file cannot be read or its directory cannot be watched
         * @throws IllegalArgumentException   when the file is accessible by group or others or holds no valid
         *                                    key (the message names the file, never its content)
         * @throws RejectedExecutionException when the given executor refuses the task (it is shut down)
         */
        public TfoKeyFile watch() throws IOException {
            return open(this);
        }
    }
}
