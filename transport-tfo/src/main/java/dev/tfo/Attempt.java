package dev.tfo;

import dev.tfo.internal.SocketOps;
import dev.tfo.internal.TcpInfo;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.unix.Errors;
import io.netty.util.concurrent.Future;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One connection attempt of a {@link SynGate}, from its connect until its verdict: the server, why no data rides in
 * the SYN, what the SYN carried, the writes that complete with the handshake, a close that waits for it, and the
 * timers; and the attempt's end. It hears the connect complete, sends a deferred connect's SYN, watches the
 * handshake ({@link HandshakeWatch}, whose owner is the gate), bounds it by {@code CONNECT_TIMEOUT_MILLIS}, and
 * decides or fails the {@link TfoResult}. The gate keeps the pipeline's side: its state, the writes it holds, and the
 * events it dispatches here. Used on the channel's event loop only.
 */
final class Attempt extends HandshakeWatch implements ChannelFutureListener {
    /** The gate's, so that a listener that throws is logged where it always was. */
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(SynGate.class);
    /** The kernel's first SYN retransmission timeout ({@code TCP_TIMEOUT_INIT}). */
    private static final long SYN_RTO_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** How a failure ends the attempt: what it teaches the backoff, and whether the gate tells and closes. */
    enum Failure {
        /** Closed here (the application, a cancel, a torn-down pipeline): nothing learned about the path. */
        LOCAL(false, false),
        /** The connect future failed: it tells the caller, and the connector (Bootstrap) closes the channel. */
        CONNECT(true, false),
        /** The channel went inactive before the handshake ended (io_uring closes without an error): tell. */
        INACTIVE(true, true),
        /** Refused, reset or silent once the SYN left: the gate tells the pipeline and closes the channel. */
        HANDSHAKE(true, true),
        /** The kernel would not send the SYN (client TFO switched off meanwhile): nothing about the path. */
        KERNEL(false, true);

        final boolean remote;
        final boolean tellAndClose;

        Failure(boolean remote, boolean tellAndClose) {
            this.remote = remote;
            this.tellAndClose = tellAndClose;
        }
    }

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
    /** The one timer running: the first-write wait while deferred, then the handshake's CONNECT_TIMEOUT_MILLIS. */
    Future<?> timer;
    /** Writes whose bytes all rode in the SYN (the first, then any more): they complete when the handshake does. */
    private ChannelPromise carried;
    private List<ChannelPromise> moreCarried;

    Attempt(Channel channel, SocketOps ops, Owner gate, SocketAddress remote, SocketAddress local) {
        super(channel, ops, gate);
        this.remote = remote instanceof InetSocketAddress && !((InetSocketAddress) remote).isUnresolved()
                ? (InetSocketAddress) remote : null;
        this.local = local;
    }

    /** The gate this attempt is of: the owner of its watch (no field of its own for it). */
    private SynGate gate() {
        return (SynGate) owner;
    }

    // ---- the connect and the SYN ---------------------------------------------------------------------------

    /** Connects with TFO as far as the backoff and the kernel allow, and says why not otherwise. */
    void connect(SocketAddress remoteAddress, ChannelPromise promise) {
        SynGate g = gate();
        String why = g.ops.unsupportedReason(g.channel);
        if (why == null && remote == null) {
            why = "the remote address " + remoteAddress + " is not a resolved IP socket address";
        }
        if (why == null) {
            why = g.options.backoff().skipReason(remote);
            backoffSkipped = why != null;
        }
        if (why == null && g.mode == SynGate.Mode.FIRST_FLIGHT) {
            g.ops.sendFirstWriteAtConnect(g.channel); // Netty sends the queued first flight in the SYN as it connects
        } else {
            notAttempted = why != null ? why : g.ops.enableFastOpenConnect(g.channel, g.options.noCookie());
        }
        connectWatched(remoteAddress, promise);
    }

    /** Connects, listening for the connect to complete; one that completes inside was deferred (epoll). */
    private void connectWatched(SocketAddress remoteAddress, ChannelPromise promise) {
        promise.addListener(this);
        inConnect = true;
        try {
            gate().ctx.connect(remoteAddress, local, promise);
        } finally {
            inConnect = false;
        }
    }

    /**
     * Netty's connect completed: at once when the kernel deferred it or Netty's SYN carried data, else at the end of
     * the handshake.
     */
    @Override
    public void operationComplete(ChannelFuture future) {
        SynGate g = gate();
        if (g.state != SynGate.State.CONNECTING) {
            return; // closed meanwhile
        }
        if (!future.isSuccess()) {
            if (g.mode == SynGate.Mode.FIRST_FLIGHT && notAttempted == null && g.channel.isOpen()
                    && (notAttempted = g.ops.synDataRefusal(g.channel)) != null) {
                // Client TFO switched off since Netty looked (EOPNOTSUPP): connect again, plain, and say why.
                connectWatched(remote, g.ctx.newPromise());
                return;
            }
            fail(future.cause(), Failure.CONNECT); // the connect future tells the caller; the held writes fail with it
            if (!g.mode.holdsWrites()) {
                g.ctx.close(); // the first flight waits in Netty's outbound buffer: fail it, as Bootstrap would close
            }
            return;
        }
        if (synBytes > 0) {
            bytesOut = true; // Netty's SYN carried the first flight: the handshake is in flight
            startWatching();
            g.releaseHeld();
            return;
        }
        // On epoll a connect completes inside ctx.connect only when the kernel deferred it (nothing sent yet);
        // elsewhere (io_uring) tcp_info tells: still SYN_SENT with no segment out.
        boolean defers = notAttempted == null && g.mode.holdsWrites();
        boolean deferredAtOnce = defers && inConnect && g.ops.immediateConnectIsDeferred(g.channel);
        TcpInfo info = deferredAtOnce ? null : g.ops.tcpInfo(g.channel);
        if (defers && (deferredAtOnce || info != null && info.synSent() && info.segsOut() == 0)) {
            g.deferred(); // connected, no SYN sent: the gate's held writes decide when it leaves
            return;
        }
        if (info != null && info.synSent()) {
            startWatching(); // not expected after a completed connect, but never decide on a SYN_SENT socket
        } else {
            decide(info);
        }
        g.releaseHeld();
    }

    /** A deferred connect's SYN at the first flush: it carries what the policy admits of the {@code held} writes. */
    void sendSynWith(HeldWrites held) {
        SynGate g = gate();
        TfoClientOptions options = g.options;
        ByteBuf data = held != null ? held.leadingBytes(g.ctx.alloc()) : null;
        boolean gathered = data != null && !held.holds(data); // a copy of several buffers, ours to release
        try {
            int offered = 0;
            if (data != null && data.isReadable()) {
                int length = data.readableBytes();
                offered = g.mode != SynGate.Mode.CONNECT_THEN_WRITE ? length // the caller vouched for a first flight
                        : SynDataPolicies.admit(options.synDataPolicy(), data, data.readerIndex(), length);
                if (offered == 0) {
                    notAttempted = "the first write (" + length + " bytes) stayed out of the SYN: "
                            + options.synDataPolicy() + " does not admit it as safe to replay";
                }
            } else {
                notAttempted = held == null || held.isEmpty() ? "the first flush carried no data"
                        : "the first write is not a ByteBuf";
            }
            sendSyn(data, offered, held);
        } finally {
            if (gathered) {
                data.release();
            }
        }
    }

    /** A deferred connect's SYN without data: {@code why}, or else the server speaks first or the wait ran out. */
    void sendSynWithout(String why, boolean serverSpokeFirst, HeldWrites held) {
        TfoClientOptions options = gate().options;
        if (why != null) {
            notAttempted = why;
        } else if (notAttempted == null) {
            notAttempted = serverSpokeFirst || options.destinations().serverSpeaksFirst(remote)
                    ? "the server speaks first: the handshake started without data"
                    : "nothing was written within " + options.firstWriteWait().toMillis()
                    + " ms of the connect (firstWriteWait): the handshake started without data";
        }
        sendSyn(null, 0, held);
    }

    /** Makes the kernel send a deferred connect's SYN with {@code offered} bytes of {@code data}, then watches. */
    private void sendSyn(ByteBuf data, int offered, HeldWrites held) {
        SynGate g = gate();
        cancelTimers();
        g.state = SynGate.State.SYN_SENT;
        try {
            synBytes = g.ops.sendSyn(g.channel, data, data == null ? 0 : data.readerIndex(), offered, remote);
        } catch (IOException e) {
            if (e instanceof Errors.NativeIoException
                    && ((Errors.NativeIoException) e).expectedErr() == Errors.ERROR_EISCONN_NEGATIVE) {
                // The connect was not deferred after all: the handshake is over, the bytes go through Netty.
                synBytes = -1;
                startWatching();
                return;
            }
            fail(new IOException("connection to " + g.describeRemote() + ": the kernel refused to send the SYN ("
                    + e.getMessage() + ")", e), Failure.KERNEL);
            return;
        }
        if (synBytes > 0) {
            held.sent(synBytes, this);
            bytesOut = true;
        } else if (notAttempted == null) {
            notAttempted = "the kernel sent the SYN without data (its cookie for this server was gone)";
        }
        startWatching();
    }

    // ---- the handshake -------------------------------------------------------------------------------------

    /** The SYN is on its way: watch the handshake, bounded by CONNECT_TIMEOUT_MILLIS from now. */
    void startWatching() {
        SynGate g = gate();
        g.state = SynGate.State.SYN_SENT;
        start(g.options.destinations().handshakeNanos(remote));
        int timeoutMillis = g.channel.config().getConnectTimeoutMillis();
        if (g.state == SynGate.State.SYN_SENT && timeoutMillis > 0) {
            timer = g.ctx.executor().schedule(this::handshakeTimedOut, timeoutMillis, TimeUnit.MILLISECONDS);
        }
    }

    private void handshakeTimedOut() {
        SynGate g = gate();
        if (g.state == SynGate.State.SYN_SENT) {
            fail(new ConnectTimeoutException("handshake with " + g.describeRemote() + " not completed within "
                    + g.channel.config().getConnectTimeoutMillis() + " ms of its SYN (CONNECT_TIMEOUT_MILLIS)"),
                    Failure.HANDSHAKE);
        }
    }

    /** A close asked for in SYN_SENT with data out: Linux would turn it into an instant CLOSE, losing the data. */
    void closeAfterHandshake(ChannelPromise promise) {
        if (pendingClose == null) {
            pendingClose = promise;
        } else {
            pendingClose.addListener(f -> promise.trySuccess());
        }
    }

    /**
     * The handshake completed, but the socket closed before tcp_info could say how (io_uring closes on a FIN
     * before the pipeline hears of it; a write error closes at once): a handshake that took the kernel's first
     * SYN timeout (1 s) retransmitted its SYN, which is what the kernel would have said. Faster ones stay
     * unproven, and the failure the channel's close brings stands.
     */
    void overAfterAll() {
        if (elapsedNanos() >= SYN_RTO_NANOS) {
            notAttempted = null;
            decide(TcpInfo.of(TcpInfo.STATE_CLOSE, 0, TcpInfo.FAIL_SYN_RETRANSMITTED, -1));
        }
    }

    // ---- the verdict ---------------------------------------------------------------------------------------

    /** The handshake is over ({@code info}, {@code null} when nothing can say how): the result, to all who wait. */
    void decide(TcpInfo info) {
        SynGate g = gate();
        TfoClientOptions options = g.options;
        g.state = SynGate.State.DONE;
        cancelTimers();
        if (info != null) {
            options.destinations().recordHandshake(remote, info.rttMicros()); // when the next SYN-ACK is due
        }
        TfoResult decided = options.cookieRequests().explain(remote,
                TfoResult.client(g.channel, info, notAttempted, synBytes), startNanos);
        if (!backoffSkipped && remote != null) {
            options.backoff().record(remote, decided.outcome()); // what this path did with TFO, for the next connect
        }
        TfoResultListener listener = options.listener();
        if (listener != null) {
            try {
                listener.onResult(g.channel, decided);
            } catch (RuntimeException e) {
                logger.warn("TfoResultListener {} threw", listener, e);
            }
        }
        g.verdict.succeed(decided);
        settleCarried(null);
        ChannelPromise close = pendingClose;
        if (close != null) {
            // Asked for in SYN_SENT: now that the handshake is over, close after what is queued is written.
            pendingClose = null;
            ChannelHandlerContext ctx = g.ctx;
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> ctx.close(close));
        }
    }

    /** Ends the attempt with {@code cause}: fails the result, the held writes and those the SYN carried. */
    void fail(Throwable cause, Failure kind) {
        SynGate g = gate();
        if (g.state == SynGate.State.DONE) {
            return;
        }
        g.state = SynGate.State.DONE;
        cancelTimers();
        if (kind.remote && remote != null && !backoffSkipped) {
            g.options.backoff().record(remote, null);
        }
        g.failHeld(cause);
        g.verdict.fail(cause);
        settleCarried(cause);
        ChannelHandlerContext ctx = g.ctx;
        if (kind.tellAndClose) {
            if (g.removals == 2) {
                g.channel.pipeline().fireExceptionCaught(cause); // out of the pipeline: from its head
            } else {
                ctx.fireExceptionCaught(cause);
            }
        }
        ChannelPromise pending = pendingClose;
        pendingClose = null;
        if (kind.tellAndClose || pending != null) {
            ctx.close(pending != null ? pending : ctx.newPromise());
        }
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

    /** Stops the watch and cancels the timer (the first-write wait or the handshake timeout). */
    void cancelTimers() {
        stop();
        Future<?> t = timer;
        timer = null;
        if (t != null) {
            t.cancel(false);
        }
    }
}
