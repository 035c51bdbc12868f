package dev.tfo;

import dev.tfo.internal.SocketOps;
import dev.tfo.internal.TcpInfo;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.unix.Errors;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeUnit;

/**
 * The handler, first in a client pipeline, that makes TCP Fast Open work for a channel that connects first
 * and writes later, and proves what happened.
 *
 * <p>At {@code connect} it consults the {@link TfoBackoff} and sets the kernel's {@code TCP_FASTOPEN_CONNECT}
 * on the socket. With a cookie cached the kernel then completes the connect at once without sending anything
 * (the connect is <i>deferred</i>) and sends the SYN with the first data written. The gate holds every write
 * until the SYN has left, and sends the SYN itself at the first flush, with the bytes the
 * {@link TfoSynDataPolicy} admits ({@code sendto(MSG_FASTOPEN)} on the socket; the held writes then follow
 * through Netty, minus what rode in the SYN). So it knows exactly what the SYN carried, and a SYN that leaves
 * without data ({@code EINPROGRESS}) loses nothing. If nothing is flushed within
 * {@link TfoClientOptions#firstWriteWait()}, it sends a SYN without data: a client that reads first still gets
 * its handshake.
 *
 * <p>Once the SYN has left it polls {@code tcp_info} on the event loop (and at once on the first read) until
 * the handshake is over, then decides the {@link TfoResult}. A handshake that does not end within
 * {@code CONNECT_TIMEOUT_MILLIS} of the SYN, or a connection refused or reset before it ended, fails the
 * connection: the named cause goes down the pipeline as an exception and the channel is closed.
 *
 * <p>States: {@code NEW} (nothing yet) → {@code CONNECTING} (connect called) → {@code DEFERRED} (connected,
 * no SYN sent: a cookie is cached) → {@code SYN_SENT} (handshake in flight) → {@code DONE} (decided or
 * failed). A connect the kernel did not defer goes from {@code CONNECTING} to {@code DONE} when Netty
 * completes it, which is at the end of the handshake.
 *
 * <p>Without options the gate only observes: {@link TfoResult#of} installs it on a channel nobody set up, to
 * watch its handshake without polling while the channel is idle.
 */
final class SynGate extends ChannelDuplexHandler implements ChannelFutureListener, Runnable {
    static final String NAME = TfoChannels.HANDLER_NAME;
    /** On a channel: its gate; on a bootstrap (copied to its channels): the options of {@link TfoBootstraps#client}. */
    static final AttributeKey<Object> KEY = AttributeKey.valueOf("dev.tfo.client");

    private static final InternalLogger logger = InternalLoggerFactory.getInstance(SynGate.class);
    private static final long FIRST_POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
    private static final long MAX_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private enum State { NEW, CONNECTING, DEFERRED, SYN_SENT, DONE }

    private final Channel channel;
    private final SocketOps ops;
    /** {@code null}: only observing. */
    private TfoClientOptions options;
    /** Observing only: why nothing asked for TFO, if known. */
    private final String unmanagedReason;
    private ChannelHandlerContext ctx;
    /** Created when someone asks ({@link #result()}); guarded by {@code this}, like the two fields below. */
    private Promise<TfoResult> result;
    private TfoResult decided;
    private Throwable failure;
    /** Told when the verdict is in (the connector of {@link TfoBootstraps#connect}). */
    private Runnable verdictCallback;
    /** While {@code ctx.connect} runs: a connect that completes inside it was deferred by the kernel (epoll). */
    private boolean inConnect;
    private State state = State.NEW;
    private InetSocketAddress remote;
    /** Why no data rides (or rode) in the SYN; {@code null} while it may. */
    private String notAttempted;
    private boolean backoffSkipped;
    /** The caller of {@link TfoBootstraps#connect} vouched for its first flight: no policy applies. */
    private boolean admitAll;
    private boolean flushPending;
    private boolean closeSeen;
    private long startNanos;
    private long pollDelayNanos;
    private int synBytes = -1;
    private HeldWrites held;
    private Future<?> kick;
    private Future<?> timeout;

    SynGate(Channel channel, TfoClientOptions options, SocketOps ops) {
        this(channel, options, ops, null);
    }

    private SynGate(Channel channel, TfoClientOptions options, SocketOps ops, String unmanagedReason) {
        this.channel = channel;
        this.options = options;
        this.ops = ops;
        this.unmanagedReason = unmanagedReason;
    }

    /** A gate that only watches a channel nobody set up for TFO ({@code reason}: why, if known). */
    static SynGate observer(Channel channel, String reason) {
        return observer(channel, reason, SocketOps.NATIVE);
    }

    static SynGate observer(Channel channel, String reason, SocketOps ops) {
        return new SynGate(channel, null, ops, reason);
    }

    /** The gate of a channel, or {@code null}. */
    static SynGate of(Channel channel) {
        Object v = channel.attr(KEY).get();
        return v instanceof SynGate ? (SynGate) v : null;
    }

    /** Turns an observer that has not seen a connect yet into a gate with options; false when too late. */
    boolean manage(TfoClientOptions newOptions) {
        if (options != null) {
            return true;
        }
        if (state != State.NEW || channel.isActive()) {
            return false;
        }
        options = newOptions;
        return true;
    }

    boolean managed() {
        return options != null;
    }

    /** The first flight of {@link TfoBootstraps#connect}: the caller vouched that it is safe to replay. */
    void admitFirstFlight() {
        admitAll = true;
    }

    /** The result of this connection, decided once the handshake is over. */
    Future<TfoResult> result() {
        synchronized (this) {
            if (result == null) {
                result = channel.isRegistered() ? channel.eventLoop().newPromise()
                        : GlobalEventExecutor.INSTANCE.newPromise();
                if (decided != null) {
                    result.trySuccess(decided);
                } else if (failure != null) {
                    result.tryFailure(failure);
                }
            }
            return result;
        }
    }

    /** Runs {@code callback} once the verdict is in (at once if it is); one callback per gate. */
    void whenDecided(Runnable callback) {
        boolean done;
        synchronized (this) {
            done = decided != null || failure != null;
            if (!done) {
                verdictCallback = callback;
            }
        }
        if (done) {
            callback.run();
        }
    }

    /** The verdict, once in: the result, else {@code null} (see {@link #verdictFailure()}). */
    synchronized TfoResult verdict() {
        return decided;
    }

    /** Why there is no verdict, once the attempt failed; else {@code null}. */
    synchronized Throwable verdictFailure() {
        return failure;
    }

    private void complete(TfoResult verdict, Throwable cause) {
        Promise<TfoResult> p;
        Runnable callback;
        synchronized (this) {
            decided = verdict;
            failure = cause;
            p = result;
            callback = verdictCallback;
            verdictCallback = null;
        }
        if (p != null) {
            if (verdict != null) {
                p.trySuccess(verdict);
            } else {
                p.tryFailure(cause);
            }
        }
        if (callback != null) {
            callback.run();
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (options == null && channel.isActive()) {
            watchFromNow();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelTimers();
        if (state != State.DONE) {
            fail(channel.isOpen() ? new IllegalStateException("the TFO handler was removed from the pipeline of "
                    + channel + " before the handshake completed") : new ClosedChannelException(), false, false, false);
        }
    }

    // ---- outbound ------------------------------------------------------------------------------------------

    @Override
    public void connect(ChannelHandlerContext ctx, SocketAddress remoteAddress, SocketAddress localAddress,
                        ChannelPromise promise) {
        if (options == null || state != State.NEW) {
            ctx.connect(remoteAddress, localAddress, promise);
            return;
        }
        state = State.CONNECTING;
        startNanos = System.nanoTime();
        remote = remoteAddress instanceof InetSocketAddress && !((InetSocketAddress) remoteAddress).isUnresolved()
                ? (InetSocketAddress) remoteAddress : null;
        notAttempted = ops.unsupportedReason(channel);
        if (notAttempted == null && remote == null) {
            notAttempted = "the remote address " + remoteAddress + " is not a resolved IP socket address";
        }
        if (notAttempted == null) {
            notAttempted = options.backoff().skipReason(remote);
            backoffSkipped = notAttempted != null;
        }
        if (notAttempted == null) {
            notAttempted = ops.enableFastOpenConnect(channel, options.noCookie());
        }
        promise.addListener(this);
        inConnect = true;
        try {
            ctx.connect(remoteAddress, localAddress, promise);
        } finally {
            inConnect = false;
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (options != null && state.compareTo(State.DEFERRED) <= 0) {
            if (held == null) {
                held = new HeldWrites();
            }
            held.add(msg, promise);
            return;
        }
        ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (options == null) {
            ctx.flush();
            if (state == State.DEFERRED) {
                watchFromNow(); // an observed deferred connect sends its SYN with this flush
            }
            return;
        }
        switch (state) {
            case NEW:
            case CONNECTING:
                flushPending = true; // flushing before the connect completed would fail the writes
                return;
            case DEFERRED:
                sendSyn(true);
                releaseHeld(true);
                return;
            default:
                ctx.flush();
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (state != State.DONE) {
            // Closed by the application (or a cancelled connect): nothing learned about the path.
            fail(new ClosedChannelException(), false, false, false);
        }
        ctx.close(promise);
    }

    // ---- inbound -------------------------------------------------------------------------------------------

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (options == null && state == State.NEW) {
            watchFromNow();
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.SYN_SENT) {
            run(); // something came from the peer: the handshake is surely over
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (state == State.SYN_SENT || state == State.DEFERRED) {
            // E.g. "recvAddress(..) failed: Connection refused" after the SYN left with data: name the server.
            ConnectException named = new ConnectException("connection to " + describeRemote()
                    + " failed before its handshake completed: " + cause.getMessage());
            named.initCause(cause);
            fail(named, true, true, true);
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (state != State.DONE && state != State.NEW) {
            // Nothing came from the server, and no local close: it refused or reset the connection.
            fail(new ConnectException("connection to " + describeRemote() + " closed before its handshake "
                    + "completed: refused or reset"), options != null, false, false);
        }
        ctx.fireChannelInactive();
    }

    // ---- the state machine -----------------------------------------------------------------------------------

    /** Netty's connect completed: at once when the kernel deferred it, else at the end of the handshake. */
    @Override
    public void operationComplete(ChannelFuture future) {
        if (state != State.CONNECTING) {
            return; // closed meanwhile
        }
        if (!future.isSuccess()) {
            // The connect future tells the caller; the held writes fail with the same cause.
            fail(future.cause(), true, false, false);
            return;
        }
        // On epoll a connect completes inside ctx.connect only when the kernel deferred it (nothing sent yet);
        // elsewhere (io_uring) tcp_info tells: still SYN_SENT with no segment out.
        boolean deferredAtOnce = notAttempted == null && inConnect && ops.immediateConnectIsDeferred(channel);
        TcpInfo info = deferredAtOnce ? null : ops.tcpInfo(channel);
        if (notAttempted == null && (deferredAtOnce || info != null && info.synSent() && info.segsOut() == 0)) {
            state = State.DEFERRED;
            if (flushPending) {
                sendSyn(true);
                releaseHeld(true);
            } else if (options.firstWriteWaitNanos() == 0) {
                sendSyn(false);
                releaseHeld(false);
            } else {
                kick = ctx.executor().schedule(this::firstWriteWaitOver, options.firstWriteWaitNanos(),
                        TimeUnit.NANOSECONDS);
            }
            return;
        }
        if (info != null && info.synSent()) {
            startWatching(); // not expected after a completed connect, but never decide on a SYN_SENT socket
        } else {
            decide(info);
        }
        releaseHeld(flushPending);
    }

    private void firstWriteWaitOver() {
        if (state == State.DEFERRED) {
            sendSyn(false);
            releaseHeld(false);
        }
    }

    /** Sends the SYN of a deferred connect, with the admitted bytes of the held writes when flushed. */
    private void sendSyn(boolean flushed) {
        cancelTimers();
        HeldWrites h = held;
        ByteBuf data = flushed && h != null ? h.leadingBytes(ctx.alloc()) : null;
        int offered = 0;
        try {
            if (data != null && data.isReadable()) {
                int length = data.readableBytes();
                offered = admitAll ? length
                        : SynDataPolicies.admit(options.synDataPolicy(), data, data.readerIndex(), length);
                if (offered == 0) {
                    notAttempted = "the first write (" + length + " bytes) stayed out of the SYN: "
                            + options.synDataPolicy() + " does not admit it as safe to replay";
                }
            } else if (flushed) {
                notAttempted = h == null || h.isEmpty() ? "the first flush carried no data"
                        : "the first write is not a ByteBuf";
            } else {
                notAttempted = "nothing was written within " + options.firstWriteWait().toMillis()
                        + " ms of the connect (firstWriteWait): the handshake started without data";
            }
            state = State.SYN_SENT;
            synBytes = ops.sendSyn(channel, data, data == null ? 0 : data.readerIndex(), offered, remote);
        } catch (IOException e) {
            if (e instanceof Errors.NativeIoException
                    && ((Errors.NativeIoException) e).expectedErr() == Errors.ERROR_EISCONN_NEGATIVE) {
                // The connect was not deferred after all: the handshake is over, the bytes go through Netty.
                synBytes = -1;
                startWatching();
                return;
            }
            IOException named = new IOException("connection to " + describeRemote() + ": the kernel refused "
                    + "to send the SYN (" + e.getMessage() + ")", e);
            fail(named, false, true, true);
            return;
        } finally {
            if (data != null && !h.holds(data)) {
                data.release(); // a gathered copy
            }
        }
        if (synBytes > 0) {
            h.skip(synBytes);
        } else if (notAttempted == null) {
            notAttempted = "the kernel sent the SYN without data (its cookie for this server was gone)";
        }
        startWatching();
    }

    /** Writes what was held (minus what rode in the SYN), and flushes if asked. */
    private void releaseHeld(boolean flush) {
        HeldWrites h = held;
        held = null;
        if (h != null) {
            h.writeAll(ctx);
        }
        if (flush || flushPending) {
            flushPending = false;
            ctx.flush();
        }
    }

    /**
     * The SYN is on its way: watch the handshake, starting with a look right now (on loopback the SYN-ACK is
     * usually in before sendto returns); only a handshake still in flight costs a timeout task.
     */
    private void startWatching() {
        state = State.SYN_SENT;
        pollDelayNanos = FIRST_POLL_NANOS;
        run();
        int timeoutMillis = channel.config().getConnectTimeoutMillis();
        if (state == State.SYN_SENT && options != null && timeoutMillis > 0) {
            timeout = ctx.executor().schedule(this::handshakeTimedOut, timeoutMillis, TimeUnit.MILLISECONDS);
        }
    }

    private void handshakeTimedOut() {
        if (state == State.SYN_SENT) {
            fail(new ConnectTimeoutException("handshake with " + describeRemote() + " not completed within "
                    + channel.config().getConnectTimeoutMillis() + " ms of its SYN (CONNECT_TIMEOUT_MILLIS)"),
                    true, true, true);
        }
    }

    /** Observing: the channel is (or became) active, or flushed while deferred. */
    private void watchFromNow() {
        startWatching();
    }

    /** Polls {@code tcp_info}: decides, fails, or looks again later. */
    @Override
    public void run() {
        if (state != State.SYN_SENT) {
            return;
        }
        TcpInfo info = ops.tcpInfo(channel);
        if (info == null) {
            if (channel.isOpen()) {
                decide(null);
            } else {
                fail(new ConnectException("connection to " + describeRemote() + " closed before its handshake "
                        + "completed"), options != null, false, false);
            }
            return;
        }
        if (info.synSent()) {
            if (options == null && info.segsOut() == 0) {
                state = State.DEFERRED; // observing a deferred connect: its SYN leaves with a flush
                return;
            }
            reschedule();
            return;
        }
        if (info.state() == TcpInfo.STATE_CLOSE) {
            // Refused or reset after the SYN left. Read the error now: the transport may close the channel
            // without reporting it (io_uring does).
            String error = ops.socketError(channel);
            if (error != null || closeSeen) {
                fail(new ConnectException("connection to " + describeRemote() + " failed before its handshake "
                        + "completed: " + (error != null ? error : "refused or reset")), options != null,
                        options != null, options != null);
                return;
            }
            closeSeen = true;
            reschedule();
            return;
        }
        decide(info);
    }

    private void reschedule() {
        ctx.executor().schedule(this, pollDelayNanos, TimeUnit.NANOSECONDS);
        pollDelayNanos = Math.min(pollDelayNanos * 2, MAX_POLL_NANOS);
    }

    private void decide(TcpInfo info) {
        state = State.DONE;
        cancelTimers();
        String reason = notAttempted != null ? notAttempted : options == null ? unmanagedReason : null;
        TfoResult verdict = TfoResult.client(info, reason, synBytes);
        if (options != null) {
            verdict = options.cookieRequests().explain(remote, verdict, startNanos);
            if (!backoffSkipped && remote != null) {
                options.backoff().record(remote, verdict.outcome());
            }
            TfoResultListener listener = options.listener();
            if (listener != null) {
                try {
                    listener.onResult(channel, verdict);
                } catch (RuntimeException e) {
                    logger.warn("TfoResultListener {} threw", listener, e);
                }
            }
        }
        complete(verdict, null);
    }

    /**
     * Ends the connection attempt with {@code cause}: fails the result and the held writes.
     *
     * @param remoteFault whether the network or server caused it (teaches the backoff; a local close does not)
     * @param fire        whether to send {@code cause} down the pipeline as an exception
     * @param close       whether to close the channel
     */
    private void fail(Throwable cause, boolean remoteFault, boolean fire, boolean close) {
        if (state == State.DONE) {
            return;
        }
        state = State.DONE;
        cancelTimers();
        if (remoteFault && options != null && remote != null && !backoffSkipped) {
            options.backoff().record(remote, null);
        }
        HeldWrites h = held;
        held = null;
        if (h != null) {
            h.failAll(cause);
        }
        complete(null, cause);
        if (fire) {
            ctx.fireExceptionCaught(cause);
        }
        if (close) {
            ctx.close();
        }
    }

    private void cancelTimers() {
        Future<?> k = kick;
        if (k != null) {
            kick = null;
            k.cancel(false);
        }
        Future<?> t = timeout;
        if (t != null) {
            timeout = null;
            t.cancel(false);
        }
    }

    private String describeRemote() {
        SocketAddress r = remote != null ? remote : channel.remoteAddress();
        return String.valueOf(r);
    }
}
