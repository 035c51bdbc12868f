package dev.tfo;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.Promise;

/**
 * The verdict of one client connection's TFO attempt: a {@link TfoResult}, or why there is none. Decided once,
 * on the channel's event loop, by its {@link SynGate} or {@link HandshakeObserver}; read from any thread through
 * {@link #future()}, made only when someone asks. Kept on the channel ({@link #KEY}), so that
 * {@link TfoResult#of} finds it whichever handler decides it, and with it the channel's {@link SynGate}, if any: one
 * attribute per channel.
 */
final class Verdict {
    /** A client channel's verdict. */
    static final AttributeKey<Verdict> KEY = AttributeKey.valueOf("dev.tfo.verdict");

    private final Channel channel;
    /** The gate that decides it, or {@code null} (an observer does, or nothing yet). */
    volatile SynGate gate;
    /** Guarded by {@code this}, like the fields below. */
    private Promise<TfoResult> future;
    private TfoResult result;
    private Throwable failure;
    private Runnable callback;

    Verdict(Channel channel) {
        this.channel = channel;
    }

    /** The verdict on {@code channel}, or {@code null}; reading makes no attribute. */
    static Verdict of(Channel channel) {
        return channel.hasAttr(KEY) ? channel.attr(KEY).get() : null;
    }

    /** The result, once decided; made when first asked. */
    synchronized Future<TfoResult> future() {
        if (future == null) {
            future = channel.isRegistered() ? channel.eventLoop().newPromise()
                    : GlobalEventExecutor.INSTANCE.newPromise();
            if (result != null) {
                future.trySuccess(result);
            } else if (failure != null) {
                future.tryFailure(failure);
            }
        }
        return future;
    }

    /** Runs {@code then} once decided (at once if it is); one callback per verdict. */
    void whenDecided(Runnable then) {
        boolean done;
        synchronized (this) {
            done = result != null || failure != null;
            if (!done) {
                callback = then;
            }
        }
        if (done) {
            then.run();
        }
    }

    synchronized boolean isDecided() {
        return result != null || failure != null;
    }

    synchronized TfoResult result() {
        return result;
    }

    synchronized Throwable failure() {
        return failure;
    }

    void succeed(TfoResult decided) {
        complete(decided, null);
    }

    void fail(Throwable cause) {
        complete(null, cause);
    }

    private void complete(TfoResult decided, Throwable cause) {
        Promise<TfoResult> p;
        Runnable then;
        synchronized (this) {
            result = decided;
            failure = cause;
            p = future;
            then = callback;
            callback = null;
        }
        if (p != null) {
            if (decided != null) {
                p.trySuccess(decided);
            } else {
                p.tryFailure(cause);
            }
        }
        if (then != null) {
            then.run();
        }
    }
}
