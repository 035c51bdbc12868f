package dev.tfo;

import dev.tfo.internal.SocketOps;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPromise;
import io.netty.util.concurrent.Future;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * What a {@link SynGate} knows of one connection attempt, from its connect until its verdict: the server, why no
 * data rides in the SYN, what the SYN carried, the writes that complete with the handshake, a close that waits for
 * it, and the timers. From the SYN on it watches the handshake ({@link HandshakeWatch}, its owner the gate). Used on
 * the channel's event loop only.
 */
final class Attempt extends HandshakeWatch {
    /** The server, or {@code null} when not a resolved IP address. */
    final InetSocketAddress remote;
    final SocketAddress local;
    final long startNanos = System.nanoTime();
    /** Why no data rides (or rode) in the SYN; {@code null} while it may. */
    String notAttempted;
    boolean backoffSkipped;
    /** While {@code ctx.connect} runs: a connect that completes inside it was deferred by the kernel (epoll). */
    boolean inConnect;
    /** What the SYN carried; -1 when neither the gate nor Netty's connect sent data in it. */
    int synBytes = -1;
    /** Bytes of this connection are in the kernel while it may still be in SYN_SENT. */
    boolean bytesOut;
    /** A close asked for in SYN_SENT with data out: done once the handshake is over. */
    ChannelPromise pendingClose;
    Future<?> firstWriteWait;
    Future<?> timeout;
    /** Writes whose bytes all rode in the SYN (the first, then any more): they complete when the handshake does. */
    private ChannelPromise carried;
    private List<ChannelPromise> moreCarried;

    Attempt(Channel channel, SocketOps ops, Owner gate, SocketAddress remote, SocketAddress local) {
        super(channel, ops, gate);
        this.remote = remote instanceof InetSocketAddress && !((InetSocketAddress) remote).isUnresolved()
                ? (InetSocketAddress) remote : null;
        this.local = local;
    }

    /**
     * The gate watches only once the connection is in {@code SYN_SENT}, and passes every later write: a SYN the kernel
     * still holds (a connect it deferred) leaves with one of those writes, and nothing would start the watch again.
     */
    @Override
    boolean watchesUnsentSyn() {
        return true;
    }

    /** A write whose bytes rode whole in the SYN: it completes when the handshake does. */
    void carry(ChannelPromise promise) {
        if (promise.isVoid()) {
            return;
        }
        if (carried == null) {
            carried = promise;
        } else {
            if (moreCarried == null) {
                moreCarried = new ArrayList<>(2);
            }
            moreCarried.add(promise);
        }
    }

    /** Completes the writes that rode in the SYN, in order: the handshake is over ({@code cause == null}) or failed. */
    void settleCarried(Throwable cause) {
        ChannelPromise first = carried;
        List<ChannelPromise> more = moreCarried;
        carried = null;
        moreCarried = null;
        if (first != null) {
            settle(first, cause);
        }
        for (int i = 0; more != null && i < more.size(); i++) {
            settle(more.get(i), cause);
        }
    }

    private static void settle(ChannelPromise p, Throwable cause) {
        if (cause == null) {
            p.trySuccess();
        } else {
            p.tryFailure(cause);
        }
    }

    /** Stops the watch and cancels the first-write wait and the handshake timeout. */
    void cancelTimers() {
        stop();
        Future<?> w = firstWriteWait;
        Future<?> t = timeout;
        firstWriteWait = null;
        timeout = null;
        if (w != null) {
            w.cancel(false);
        }
        if (t != null) {
            t.cancel(false);
        }
    }
}
