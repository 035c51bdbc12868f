package dev.tfo;

import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.unix.RawUnixChannelOption;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * The TFO keys of a set of listeners: a primary key (issues and validates cookies) and an optional backup
 * key (only validates), applied with {@code setsockopt(TCP_FASTOPEN_KEY)} to every listener bound with
 * {@link TfoServerOptions.Builder#keys(TfoKeyRing)}, and changed on all of them, live, by {@link #rotate}.
 *
 * <p>{@code
 * // one key for the whole fleet, rotated by the fleet's secret store:
 * TfoKeyRing ring = TfoKeyRing.watch(Path.of("/run/secrets/tfo/key"));
 * TfoBootstraps.server(serverBootstrap, TfoServerOptions.builder().queueLength(256).keys(ring).build())
 *         .bind(443).sync();
 * // or driven by code:
 * TfoKeyRing ring = TfoKeyRing.of(TfoKey.generate());
 * ring.rotate(TfoKey.generate());   // new primary; the old one stays valid as backup
 * }
 *
 * <p><b>Rotation without refusing a cookie.</b> {@link #rotate} makes the new key primary and the old
 * primary the backup, so every cookie issued under the old key is still accepted (and replaced by a new
 * one in the SYN-ACK). Across a fleet, servers rotate at slightly different times; for zero refusals there
 * too, first {@link #stage} the next key everywhere (accepted, never issued), then rotate to it
 * everywhere. With a watched file this is a file holding {@code current,next}, then {@code next,current}.
 *
 * <p><b>Watched key file</b> ({@link #watch}): the file holds one key, or {@code primary,backup}, in
 * {@link TfoKey}'s text form and must be private (mode 0600/0400). The directory is watched
 * ({@link WatchService}, i.e. inotify) so that in-place rewrites, atomic renames and Kubernetes' Secret
 * volume updates (a {@code ..data} symlink swapped by rename; mount the Secret with {@code defaultMode:
 * 0400}) are all seen; the file is also re-read every 5 s in case events are lost (network file systems).
 * A file of one key different from the current primary rotates to it; a file of two keys sets both as
 * given. A file that cannot be read or parsed is reported (without its content) and the keys in force are
 * kept.
 *
 * <p>Listeners are tracked while open and dropped when they close. Thread-safe.
 */
public final class TfoKeyRing implements AutoCloseable {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(TfoKeyRing.class);
    /** {@code setsockopt(IPPROTO_TCP, TCP_FASTOPEN_KEY=33)} with a primary key only (Netty checks the length). */
    static final RawUnixChannelOption KEY_OPTION = new RawUnixChannelOption("TCP_FASTOPEN_KEY", 6, 33, 16);
    /** {@code setsockopt(IPPROTO_TCP, TCP_FASTOPEN_KEY=33)} with primary and backup keys. */
    static final RawUnixChannelOption KEYS_OPTION = new RawUnixChannelOption("TCP_FASTOPEN_KEY", 6, 33, 32);
    private static final long RECHECK_SECONDS = 5;

    private final Set<Channel> listeners = ConcurrentHashMap.newKeySet();
    private final Path file;
    private TfoKey primary;
    private TfoKey backup;
    private volatile WatchService watchService;
    private volatile boolean closed;

    private TfoKeyRing(TfoKey primary, TfoKey backup, Path file) {
        this.primary = primary;
        this.backup = backup;
        this.file = file;
    }

    /**
     * A ring with one key.
     *
     * <p>{@code TfoKeyRing ring = TfoKeyRing.of(TfoKey.parse(System.getenv("TFO_KEY")));}
     *
     * @param primary the key that issues and validates cookies
     * @return a new ring with no listeners
     */
    public static TfoKeyRing of(TfoKey primary) {
        return new TfoKeyRing(requireNonNull(primary, "primary"), null, null);
    }

    /**
     * A ring with a primary key and a backup key that still validates cookies (e.g. the previous key).
     *
     * <p>{@code TfoKeyRing ring = TfoKeyRing.of(current, previous);}
     *
     * @param primary the key that issues and validates cookies
     * @param backup  a key that only validates cookies
     * @return a new ring with no listeners
     */
    public static TfoKeyRing of(TfoKey primary, TfoKey backup) {
        return new TfoKeyRing(requireNonNull(primary, "primary"), requireNonNull(backup, "backup"), null);
    }

    /**
     * A ring whose keys come from a file and follow it: reads it now, then watches it on a daemon thread
     * until {@link #close()} (see the class comment for the file's form and how changes are detected).
     *
     * <p>{@code try (TfoKeyRing ring = TfoKeyRing.watch(Path.of("/run/secrets/tfo/key"))) { ... }}
     *
     * @param keyFile a private file holding {@code key} or {@code primary,backup}
     * @return a ring that rotates its listeners whenever the file changes
     * @throws IOException              when the file or its directory cannot be read or watched
     * @throws IllegalArgumentException when the file is accessible by group or others or holds no valid key
     */
    public static TfoKeyRing watch(Path keyFile) throws IOException {
        requireNonNull(keyFile, "keyFile");
        Path absolute = keyFile.toAbsolutePath();
        TfoKey[] keys = readKeys(absolute);
        TfoKeyRing ring = new TfoKeyRing(keys[0], keys[1], absolute);
        Path dir = absolute.getParent();
        WatchService ws = FileSystems.getDefault().newWatchService();
        try {
            dir.register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
        } catch (IOException | RuntimeException e) {
            ws.close();
            throw e;
        }
        ring.watchService = ws;
        Thread t = new Thread(() -> ring.watchLoop(ws), "tfo-key-watcher-" + absolute.getFileName());
        t.setDaemon(true);
        t.start();
        return ring;
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
    public int listeners() {
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
     * <p>{@code
     * ring.stage(next).join();   // on every server; once all have it:
     * ring.rotate(next).join();  // on every server
     * }
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
     * Stops watching the key file (if any). Listeners keep their keys; {@link #rotate} still works.
     *
     * <p>{@code try (TfoKeyRing ring = TfoKeyRing.watch(file)) { serve(ring); }}
     */
    @Override
    public void close() {
        closed = true;
        WatchService ws = watchService;
        if (ws != null) {
            try {
                ws.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
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
        RawUnixChannelOption option = value.remaining() == TfoKey.LENGTH ? KEY_OPTION : KEYS_OPTION;
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

    private void watchLoop(WatchService ws) {
        try {
            while (!closed) {
                WatchKey key = ws.poll(RECHECK_SECONDS, TimeUnit.SECONDS);
                if (key != null) {
                    key.pollEvents(); // any change in the directory: re-read (covers ..data symlink swaps)
                    key.reset();
                }
                reload();
            }
        } catch (ClosedWatchServiceException | InterruptedException e) {
            // closed
        }
    }

    /** Re-reads the file; rotates when it changed. */
    void reload() {
        TfoKey[] keys;
        try {
            keys = readKeys(file);
        } catch (IOException | RuntimeException e) {
            logger.warn("TFO key file {} unreadable, keeping the keys in force: {}", file, e.toString());
            return;
        }
        CompletableFuture<Void> applied;
        synchronized (this) {
            if (keys[1] == null) {
                if (keys[0].equals(primary)) {
                    return;
                }
                backup = primary;
                primary = keys[0];
            } else {
                if (keys[0].equals(primary) && keys[1].equals(backup)) {
                    return;
                }
                primary = keys[0];
                backup = keys[1];
            }
        }
        applied = applyToAll();
        int n = listeners.size();
        applied.whenComplete((v, e) -> {
            if (e == null) {
                logger.info("TFO key file {} changed: new keys applied to {} listener(s)", file, n);
            } else {
                logger.warn("TFO key file {} changed, but a listener refused the new keys: {}", file, e.getMessage());
            }
        });
    }

    /** {@code [primary, backupOrNull]} from a private file. */
    static TfoKey[] readKeys(Path file) throws IOException {
        String text = TfoKey.readPrivateFile(file).strip();
        int comma = text.indexOf(',');
        try {
            if (comma < 0) {
                return new TfoKey[] {TfoKey.parse(text), null};
            }
            return new TfoKey[] {TfoKey.parse(text.substring(0, comma)), TfoKey.parse(text.substring(comma + 1))};
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("keyFile: " + file + " does not hold 'key' or 'primary,backup': "
                    + e.getMessage().substring("text: ".length()));
        }
    }

    /** Never shows keys: e.g. {@code TfoKeyRing(primary, backup, 2 listeners, watching /run/secrets/tfo/key)}. */
    @Override
    public String toString() {
        boolean hasBackup;
        synchronized (this) {
            hasBackup = backup != null;
        }
        return "TfoKeyRing(primary" + (hasBackup ? ", backup" : "") + ", " + listeners.size() + " listener(s)"
                + (file != null ? ", watching " + file : "") + ')';
    }
}
