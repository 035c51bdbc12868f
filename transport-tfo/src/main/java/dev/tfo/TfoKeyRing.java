package dev.tfo;

import dev.tfo.internal.NettyVersion;
import dev.tfo.internal.TcpOptions;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelOption;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;

import static java.util.Objects.requireNonNull;

/**
 * The TFO keys of a set of listeners: a primary key (issues and validates cookies) and an optional backup
 * key (only validates), applied with {@code setsockopt(TCP_FASTOPEN_KEY)} to every listener bound with
 * {@link TfoServerOptions.Builder#keys(TfoKeyRing)}, and changed on all of them, live, by {@link #rotate}
 * and {@link #stage}, or by the key file the ring follows ({@link #watch(Path)}).
 *
 * <pre>{@code
 * TfoKeyRing ring = TfoKeyRing.of(TfoKey.parse(System.getenv("TFO_KEY")));
 * serverBootstrap.channelFactory(TfoChannels.serverFactory(EpollServerSocketChannel::new,
 *         TfoServerOptions.builder().keys(ring).build())).bind(443).sync();
 * ring.rotate(TfoKey.generate()).join();   // new primary; the old one stays valid as backup
 * }</pre>
 *
 * <p><b>Rotation without refusing a cookie.</b> {@link #rotate} makes the new key primary and the old
 * primary the backup, so every cookie issued under the old key is still accepted (and replaced by a new
 * one in the SYN-ACK). Across a fleet, servers rotate at slightly different times; for zero refusals there
 * too, first {@link #stage} the next key everywhere (accepted, never issued), then rotate to it
 * everywhere.
 *
 * <p><b>Keys from a file.</b> {@link #watch(Path)} takes the keys of a fleet from a secret store (a
 * Kubernetes Secret volume, a file written by a secrets agent) and makes the ring follow the file:
 *
 * <pre>{@code
 * TfoKeyRing keys = TfoKeyRing.watch(Path.of("/run/secrets/tfo/key"));
 * serverBootstrap.channelFactory(TfoChannels.serverFactory(EpollServerSocketChannel::new,
 *         TfoServerOptions.builder().keys(keys).build())).bind(443).sync();
 * // ... at shutdown: stop following the file (the listeners keep their keys)
 * keys.close();
 * }</pre>
 *
 * <p>The file holds one key, or {@code primary,backup}, in {@link TfoKey}'s text form
 * ({@code xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx}), and must be private: not readable, writable or executable
 * by group or others (mode 0600 or 0400; for a Kubernetes Secret volume {@code defaultMode: 0400}).
 * Symbolic links are followed. While the ring follows the file the file decides: a file of one key that
 * differs from the ring's primary rotates the ring to it ({@link #rotate}: the old primary becomes the
 * backup, so no cookie is refused); a file of two keys sets both as given (write {@code current,next} on
 * every server, then {@code next,current}, to rotate a fleet without refusing a cookie). A file that cannot
 * be read, is no longer private or holds no valid key leaves the keys in force and is reported once per
 * distinct problem, as a warning that names the file and never shows its content.
 *
 * <p><b>How changes are seen.</b> The file's directory is watched ({@link java.nio.file.WatchService}:
 * inotify on Linux), so in-place writes, atomic renames and Kubernetes' Secret volume updates (a
 * {@code ..data} symbolic link swapped by a rename) are seen as they happen; any change in that directory
 * makes the file be read again. The file is also re-read every recheck interval (5 s unless
 * {@linkplain #watch(Path, ScheduledExecutorService, Duration) given}), for events that are lost or never
 * reach the directory: a network file system, or a symbolic link whose target lives in another directory
 * and is rewritten in place.
 *
 * <p><b>Threads.</b> {@link #watch(Path)} makes the ring own one daemon thread,
 * {@code tfo-key-file-<file name>}, that waits for events. Given an executor
 * ({@link #watch(Path, ScheduledExecutorService, Duration)}: any {@code ScheduledExecutorService}, e.g. a
 * Netty {@code EventLoop}), it owns no thread: a task on that executor looks for events every 100 ms
 * (without blocking) and reads the file only after an event or when the recheck interval has passed.
 *
 * <p><b>Closing.</b> {@link #close()} stops following the file and releases the watch (and the ring's own
 * thread, if any; never the given executor). The ring keeps its keys and its listeners, and {@link #rotate}
 * still works. A ring made by {@link #of} only holds keys: it owns no thread and no file, and closing it
 * does nothing.
 *
 * <p>Listeners are tracked while open and dropped when they close. Thread-safe.
 */
public final class TfoKeyRing implements AutoCloseable {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(TfoKeyRing.class);

    private final Set<Channel> listeners = ConcurrentHashMap.newKeySet();
    /** What makes this ring follow a file, or null for a ring of {@link #of}. */
    private final KeyFileWatch watch;
    private TfoKey primary;
    private TfoKey backup;

    /** A ring with these keys ({@code backup} may be null), following a file when {@code watch} is not null. */
    TfoKeyRing(TfoKey primary, TfoKey backup, KeyFileWatch watch) {
        this.primary = primary;
        this.backup = backup;
        this.watch = watch;
    }

    /**
     * A ring with one key.
     *
     * <p>{@code TfoKeyRing ring = TfoKeyRing.of(TfoKey.parse(System.getenv("TFO_KEY")));}
     *
     * @param primary the key that issues and validates cookies
     * @return a new ring with no listeners
     * @throws IllegalStateException when the Netty on the class path is older than 4.1.76.Final (naming both)
     */
    public static TfoKeyRing of(TfoKey primary) {
        requireNonNull(primary, "primary");
        NettyVersion.requireSupported();
        return new TfoKeyRing(primary, null, null);
    }

    /**
     * A ring with a primary key and a backup key that still validates cookies (e.g. the previous key).
     *
     * <p>{@code TfoKeyRing ring = TfoKeyRing.of(current, previous);}
     *
     * @param primary the key that issues and validates cookies
     * @param backup  a key that only validates cookies
     * @return a new ring with no listeners
     * @throws IllegalStateException when the Netty on the class path is older than 4.1.76.Final (naming both)
     */
    public static TfoKeyRing of(TfoKey primary, TfoKey backup) {
        requireNonNull(primary, "primary");
        requireNonNull(backup, "backup");
        NettyVersion.requireSupported();
        return new TfoKeyRing(primary, backup, null);
    }

    /**
     * A ring that holds the keys of a private file and follows it on a daemon thread of its own,
     * {@code tfo-key-file-<file name>}, re-reading the file every 5 s as well (see the class comment for the
     * file's form and how changes are seen). {@link #close()} it at shutdown.
     *
     * <p>{@code TfoKeyRing keys = TfoKeyRing.watch(Path.of("/run/secrets/tfo/key"));}
     *
     * @param file a private file holding {@code key} or {@code primary,backup}
     * @return a new ring with no listeners, holding the file's keys and following the file until closed
     * @throws IOException              when the file cannot be read or its directory cannot be watched
     * @throws IllegalArgumentException when the file is accessible by group or others or holds no valid key
     *                                  (the message names the file, never its content)
     * @throws IllegalStateException    when the Netty on the class path is older than 4.1.76.Final (naming both)
     */
    public static TfoKeyRing watch(Path file) throws IOException {
        requireNonNull(file, "file");
        return KeyFileWatch.open(file, null, KeyFileWatch.DEFAULT_RECHECK_INTERVAL, KeyFileWatch.Reporter.LOG,
                System::nanoTime);
    }

    /**
     * A ring that holds the keys of a private file and follows it from a task on {@code executor} instead of
     * a thread of its own: the task looks for events every 100 ms (or every recheck interval, if shorter) and
     * reads the file after an event or when {@code recheckInterval} has passed. A Netty {@code EventLoop} or
     * {@code EventExecutor} will do (the file is small and read rarely, but each read is a blocking file
     * read). The executor must outlive the watch; {@link #close()} cancels the task and never shuts the
     * executor down.
     *
     * <pre>{@code
     * TfoKeyRing keys = TfoKeyRing.watch(Path.of("/run/secrets/tfo/key"),
     *         eventLoopGroup.next(), Duration.ofSeconds(30));
     * }</pre>
     *
     * @param file            a private file holding {@code key} or {@code primary,backup}
     * @param executor        where to run the watch
     * @param recheckInterval how often the file is re-read even when no event said it changed (the bound on
     *                        how late a change the directory watch missed is applied; {@link #watch(Path)}
     *                        takes 5 s): from 1 ms to 1 day
     * @return a new ring with no listeners, holding the file's keys and following the file until closed
     * @throws IOException                when the file cannot be read or its directory cannot be watched
     * @throws IllegalArgumentException   when {@code recheckInterval} is shorter than 1 ms or longer than 1 day,
     *                                    or the file is accessible by group or others or holds no valid key
     *                                    (the message names the file, never its content)
     * @throws RejectedExecutionException when {@code executor} refuses the task (it is shut down)
     * @throws IllegalStateException      when the Netty on the class path is older than 4.1.76.Final (naming
     *                                    both)
     */
    public static TfoKeyRing watch(Path file, ScheduledExecutorService executor, Duration recheckInterval)
            throws IOException {
        requireNonNull(file, "file");
        requireNonNull(executor, "executor");
        requireNonNull(recheckInterval, "recheckInterval");
        if (recheckInterval.compareTo(KeyFileWatch.MIN_RECHECK_INTERVAL) < 0
                || recheckInterval.compareTo(KeyFileWatch.MAX_RECHECK_INTERVAL) > 0) {
            throw new IllegalArgumentException("recheckInterval must be from 1 ms to 1 day, was " + recheckInterval);
        }
        return KeyFileWatch.open(file, executor, recheckInterval, KeyFileWatch.Reporter.LOG, System::nanoTime);
    }

    /**
     * The key that issues cookies now.
     *
     * <p>{@code boolean current = ring.primary().equals(expected);}
     *
     * @return the primary key
     */
    public synchronized TfoKey primary() {
        return primary;
    }

    /**
     * The key that only validates cookies now, if any.
     *
     * <p>{@code ring.backup().ifPresent(k -> log.info("a backup key is in force"));}
     *
     * @return the backup key, or empty
     */
    public synchronized Optional<TfoKey> backup() {
        return Optional.ofNullable(backup);
    }

    /**
     * How many open listeners use this ring.
     *
     * <p>{@code metrics.gauge("tfo.listeners", ring::listeners);}
     *
     * @return the number of registered, not yet closed listeners
     */
    int listeners() {
        return listeners.size();
    }

    /**
     * Makes {@code newPrimary} the primary key and the current primary the backup, on every open listener of
     * this ring (and on those bound later). Cookies issued under the old primary stay valid until the next
     * rotation. Rotating to the current primary changes nothing.
     *
     * <p>{@code ring.rotate(TfoKey.generate()).join();}
     *
     * @param newPrimary the key that issues cookies from now on
     * @return completes once every open listener has the new keys; completes exceptionally (with no key in the
     *         message) if some listener refused them, and that listener keeps its previous keys
     */
    public CompletableFuture<Void> rotate(TfoKey newPrimary) {
        requireNonNull(newPrimary, "newPrimary");
        synchronized (this) {
            if (newPrimary.equals(primary)) {
                return CompletableFuture.completedFuture(null);
            }
            backup = primary;
            primary = newPrimary;
        }
        return applyToAll();
    }

    /**
     * Installs {@code next} as the backup key (it validates cookies but issues none) while the primary stays:
     * phase one of a fleet-wide rotation, so that servers already rotated to {@code next} hand out cookies
     * every other server accepts. Phase two is {@link #rotate rotate(next)}.
     *
     * <pre>{@code
     * ring.stage(next).join();   // on every server; once all have it:
     * ring.rotate(next).join();  // on every server
     * }</pre>
     *
     * @param next the key that will become primary
     * @return completes once every open listener has the new keys (exceptionally as for {@link #rotate})
     */
    public CompletableFuture<Void> stage(TfoKey next) {
        requireNonNull(next, "next");
        synchronized (this) {
            if (next.equals(primary) || next.equals(backup)) {
                return CompletableFuture.completedFuture(null);
            }
            backup = next;
        }
        return applyToAll();
    }

    /**
     * Sets both keys as given (a key file of the form {@code primary,backup}); {@code backup} may be null
     * for none. Changes nothing when they are the keys in force.
     *
     * @param newPrimary the key that issues cookies from now on
     * @param newBackup  the key that only validates cookies, or null
     * @return completes once every open listener has the new keys (exceptionally as for {@link #rotate})
     */
    CompletableFuture<Void> set(TfoKey newPrimary, TfoKey newBackup) {
        requireNonNull(newPrimary, "newPrimary");
        synchronized (this) {
            if (newPrimary.equals(primary) && Objects.equals(newBackup, backup)) {
                return CompletableFuture.completedFuture(null);
            }
            primary = newPrimary;
            backup = newBackup;
        }
        return applyToAll();
    }

    /**
     * Applies the keys to a newly registered listener and tracks it until it closes. Runs on the
     * listener's event loop, before bind.
     *
     * @throws ChannelException when the kernel refuses the keys (message without key bytes)
     */
    void attach(Channel listener) {
        listeners.add(listener);
        listener.closeFuture().addListener(f -> listeners.remove(listener));
        apply(listener);
    }

    private CompletableFuture<Void> applyToAll() {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (Channel ch : listeners) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            all.add(done);
            try {
                ch.eventLoop().execute(() -> {
                    try {
                        if (ch.isOpen()) {
                            apply(ch);
                        }
                        done.complete(null);
                    } catch (RuntimeException e) {
                        logger.warn("{}", e.getMessage());
                        done.completeExceptionally(e);
                    }
                });
            } catch (RuntimeException e) {
                // the event loop is shut down: the listener is closing
                done.complete(null);
            }
        }
        return CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]));
    }

    /** Sets the ring's current keys on one listener; on its event loop. */
    private void apply(Channel listener) {
        ByteBuffer value;
        synchronized (this) {
            value = ByteBuffer.allocate(backup == null ? TfoKey.LENGTH : 2 * TfoKey.LENGTH);
            primary.writeTo(value);
            if (backup != null) {
                backup.writeTo(value);
            }
        }
        value.flip();
        ChannelOption<ByteBuffer> option = value.remaining() == TfoKey.LENGTH ? TcpOptions.FASTOPEN_KEY : TcpOptions.FASTOPEN_KEYS;
        boolean set;
        try {
            // A fresh buffer every time: Netty's setRawOpt consumes it.
            set = listener.config().setOption(option, value);
        } catch (RuntimeException e) {
            Throwable cause = e instanceof ChannelException && e.getCause() != null ? e.getCause() : e;
            throw new ChannelException("cannot set TCP_FASTOPEN_KEY on " + listener + ": " + cause.getMessage(), cause);
        } finally {
            Arrays.fill(value.array(), (byte) 0);
        }
        if (!set) {
            throw new ChannelException("cannot set TCP_FASTOPEN_KEY on " + listener
                    + ": its transport does not support it (use epoll or io_uring)");
        }
    }

    /**
     * Stops following the file of a ring from {@link #watch(Path)}: no change of the file reaches the ring
     * once this returns. Releases the directory watch and the ring's own thread (waiting for it to end, at most
     * 5 s should a read of the file hang); a given executor is left running. The ring keeps its keys and its
     * listeners, and {@link #rotate} and {@link #stage} still work. On a ring of {@link #of} it does nothing.
     * Calling it again does nothing.
     *
     * <p>{@code try (TfoKeyRing keys = TfoKeyRing.watch(file)) { serve(keys); }}
     */
    @Override
    public void close() {
        if (watch != null) {
            watch.close();
        }
    }

    /**
     * Never shows keys: e.g. {@code TfoKeyRing(primary, backup, 2 listener(s))}, and for a ring that follows a
     * file {@code TfoKeyRing(primary, 0 listener(s), file /run/secrets/tfo/key, own thread, recheck PT5S,
     * watching)} ({@code closed} once {@link #close()} stopped following it).
     *
     * @return which keys are set, how many listeners use them, and the file the ring follows, if any
     */
    @Override
    public String toString() {
        boolean hasBackup;
        synchronized (this) {
            hasBackup = backup != null;
        }
        return "TfoKeyRing(primary" + (hasBackup ? ", backup" : "") + ", " + listeners.size() + " listener(s)"
                + (watch == null ? "" : ", " + watch) + ')';
    }
}
