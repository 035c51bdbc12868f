package dev.tfo;

import dev.tfo.internal.NettyVersion;
import dev.tfo.internal.TcpOptions;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelOption;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import static java.util.Objects.requireNonNull;

/**
 * The TFO keys of a set of listeners: a primary key (issues and validates cookies) and an optional backup
 * key (only validates), applied with {@code setsockopt(TCP_FASTOPEN_KEY)} to every listener bound with
 * {@link TfoServerOptions.Builder#keys(TfoKeyRing)}, and changed on all of them, live, by {@link #rotate}
 * and {@link #stage}.
 *
 * <pre>{@code
 * TfoKeyRing ring = TfoKeyRing.of(TfoKey.parse(System.getenv("TFO_KEY")));
 * TfoBootstraps.server(serverBootstrap, TfoServerOptions.builder().keys(ring).build()).bind(443).sync();
 * ring.rotate(TfoKey.generate()).join();   // new primary; the old one stays valid as backup
 * }</pre>
 *
 * <p>A ring only holds keys: it owns no thread and no file, and needs no closing. To take the keys from a
 * file and follow its changes, use {@link TfoKeyFile}, which drives a ring.
 *
 * <p><b>Rotation without refusing a cookie.</b> {@link #rotate} makes the new key primary and the old
 * primary the backup, so every cookie issued under the old key is still accepted (and replaced by a new
 * one in the SYN-ACK). Across a fleet, servers rotate at slightly different times; for zero refusals there
 * too, first {@link #stage} the next key everywhere (accepted, never issued), then rotate to it
 * everywhere.
 *
 * <p>Listeners are tracked while open and dropped when they close. Thread-safe.
 */
public final class TfoKeyRing {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(TfoKeyRing.class);

    private final Set<Channel> listeners = ConcurrentHashMap.newKeySet();
    private TfoKey primary;
    private TfoKey backup;

    private TfoKeyRing(TfoKey primary, TfoKey backup) {
        this.primary = primary;
        this.backup = backup;
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
        return new TfoKeyRing(primary, null);
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
        return new TfoKeyRing(primary, backup);
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
     * Never shows keys: e.g. {@code TfoKeyRing(primary, backup, 2 listener(s))}.
     *
     * @return which keys are set and how many listeners use them
     */
    @Override
    public String toString() {
        boolean hasBackup;
        synchronized (this) {
            hasBackup = backup != null;
        }
        return "TfoKeyRing(primary" + (hasBackup ? ", backup" : "") + ", " + listeners.size() + " listener(s))";
    }
}
