package dev.tfo;

import dev.tfo.internal.SocketOps;
import dev.tfo.internal.TcpInfo;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelProgressiveFuture;
import io.netty.channel.ChannelProgressiveFutureListener;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.unix.Errors;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeUnit;

/**
 * The handler, first in a client pipeline, that makes TCP Fast Open work for a channel and proves what happened.
 *
 * <p>Connect, then write ({@link Mode#CONNECT_THEN_WRITE}): at {@code connect} it consults the {@link TfoBackoff}
 * and sets the kernel's {@code TCP_FASTOPEN_CONNECT}. With a cookie cached the kernel completes the connect at once
 * without sending anything (a <i>deferred</i> connect). The gate holds every write until then and sends the SYN
 * itself at the first flush, with the bytes the {@link TfoSynDataPolicy} admits ({@code sendto(MSG_FASTOPEN)}); the
 * rest follows through Netty. Nothing flushed within {@link TfoClientOptions#firstWriteWait()} (at once to a server
 * that spoke first before): a SYN without data, so that a client that reads first gets its handshake.
 *
 * <p>A first flight ({@link Mode#FIRST_FLIGHT}, {@link TfoBootstraps#connect}) takes Netty's own way, as hand-written
 * Netty TFO does: the writes pass before the connect, Netty's {@code TCP_FASTOPEN_CONNECT} sends the first of them in
 * the SYN as it connects, and the gate holds the flush until the connect completed.
 *
 * <p>Once the SYN has left a {@link HandshakeWatch} reads {@code tcp_info} until the handshake is over; the
 * {@link TfoResult} is decided then. A handshake not over within {@code CONNECT_TIMEOUT_MILLIS} of its SYN, or
 * refused or reset, fails the connection: the named cause goes down the pipeline and the channel is closed. As in
 * plain Netty, a write whose bytes rode in the SYN completes when the handshake is over, and a {@code close()} in
 * {@code SYN_SENT} with data out waits for it (Linux turns it into an instant {@code CLOSE}: the SYN would never be
 * retransmitted). Removed from the pipeline before its SYN left, the gate comes back once, first; removed again it
 * sends a SYN without data (nothing unguarded can ride) and still decides the result.
 *
 * <p>States: {@code NEW} → {@code CONNECTING} → {@code DEFERRED} (connected, no SYN sent) → {@code SYN_SENT} →
 * {@code DONE}; a connect that was not deferred goes from {@code CONNECTING} to {@code DONE} (or {@code SYN_SENT}
 * when Netty's SYN carried data). Each holds its own data: the {@link HeldWrites} until the SYN, the
 * {@link Attempt} from the connect, which from the SYN on is the {@link HandshakeWatch}.
 *
 * <p>A channel nobody set up for TFO is watched by a {@link HandshakeObserver} instead ({@link TfoResult#of}).
 */
@ChannelHandler.Sharable // only so that it can return to the pipeline it guards; never shared between channels
final class SynGate extends ChannelDuplexHandler implements ChannelFutureListener, HandshakeWatch.Owner {
    static final String NAME = "tfo";
    /** A channel's gate. */
    static final AttributeKey<SynGate> KEY = AttributeKey.valueOf("dev.tfo.gate");
    static final String REMOVED = "the TFO handler was removed from the pipeline before the SYN left: the "
            + "handshake started without data";

    private static final InternalLogger logger = InternalLoggerFactory.getInstance(SynGate.class);
    /** The kernel's first SYN retransmission timeout ({@code TCP_TIMEOUT_INIT}). */
    private static final long SYN_RTO_NANOS = TimeUnit.SECONDS.toNanos(1);

    private enum State { NEW, CONNECTING, DEFERRED, SYN_SENT, DONE }

    /** What a gate does with the writes before its SYN; fixed when the gate is made. */
    enum Mode {
        /** Connect, then write: the writes wait for the SYN of a deferred connect, which carries what the policy admits. */
        CONNECT_THEN_WRITE,
        /** A first flight Netty sends in the SYN at connect (its own TCP_FASTOPEN_CONNECT): the writes pass at once. */
        FIRST_FLIGHT,
        /** A first flight Netty cannot send (its client TFO was off at startup, or no cookie): a deferred connect. */
        FIRST_FLIGHT_DEFERRED;

        boolean holdsWrites() {
            return this != FIRST_FLIGHT;
        }
    }

    /** How a failure ends the attempt: what it teaches the backoff, and whether the gate tells and closes. */
    private enum Failure {
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

    private final Channel channel;
    private final SocketOps ops;
    private final TfoClientOptions options;
    private final Verdict verdict;
    private final Mode mode;
    private ChannelHandlerContext ctx;
    private State state = State.NEW;
    /** 1: removed once and back, first; 2: removed for good (timers and tcp_info only from then on). */
    private byte removals;
    /** Who spoke first on this connection: 0 nobody yet, 1 this client, 2 the server. */
    private byte firstSpeaker;
    /** A flush before the connect completed (it would fail the writes): done once it has. */
    private boolean flushPending;
    private HeldWrites held;
    private Attempt attempt;

    SynGate(Channel channel, TfoClientOptions options, SocketOps ops, Mode mode) {
        this(channel, options, ops, new Verdict(channel), mode);
    }

    private SynGate(Channel channel, TfoClientOptions options, SocketOps ops, Verdict verdict, Mode mode) {
        this.channel = channel;
        this.options = options;
        this.ops = ops;
        this.verdict = verdict;
        this.mode = mode;
    }

    /**
     * The one place a channel gets its gate: first in its pipeline, with {@code options}, unless it has one. A
     * {@link HandshakeObserver} that {@link TfoResult#of} put there before the connect gives way to it, and its
     * verdict becomes the gate's.
     *
     * @throws IllegalArgumentException when the channel is not a TCP {@link SocketChannel}
     * @throws IllegalStateException    when the channel is already connected
     */
    static SynGate install(Channel channel, TfoClientOptions options, SocketOps ops) {
        return install(channel, options, ops, Mode.CONNECT_THEN_WRITE);
    }

    /**
     * The gate of a {@link TfoBootstraps#connect}, whose first flight the caller vouched for: Netty's own TFO connect
     * where it can. A connect-then-write gate that has seen nothing yet (the bootstrap's) gives way to it.
     */
    static SynGate installForFirstFlight(Channel channel, TfoClientOptions options, SocketOps ops) {
        boolean netty = ops.nettySendsFirstWrite(channel) && !options.noCookie();
        return install(channel, options, ops, netty ? Mode.FIRST_FLIGHT : Mode.FIRST_FLIGHT_DEFERRED);
    }

    private static SynGate install(Channel channel, TfoClientOptions options, SocketOps ops, Mode mode) {
        if (!(channel instanceof SocketChannel)) {
            throw new IllegalArgumentException("channel: " + channel.getClass().getName()
                    + " is not a TCP SocketChannel");
        }
        SynGate existing = channel.attr(KEY).get();
        if (existing != null && (mode == Mode.CONNECT_THEN_WRITE || existing.mode != Mode.CONNECT_THEN_WRITE
                || !existing.untouched())) {
            return existing;
        }
        if (channel.isActive()) {
            throw new IllegalStateException("channel: already connected: enable TFO before the connect "
                    + "(e.g. in initChannel)");
        }
        if (existing != null) {
            SynGate gate = new SynGate(channel, options, ops, existing.verdict, mode);
            channel.attr(KEY).set(gate);
            existing.removals = 2; // steps aside for good: its verdict is the new gate's to decide
            channel.pipeline().replace(existing, NAME, gate);
            return gate;
        }
        Verdict mine = new Verdict(channel);
        Verdict observed = channel.attr(Verdict.KEY).setIfAbsent(mine);
        SynGate gate = new SynGate(channel, options, ops, observed != null ? observed : mine, mode);
        channel.attr(KEY).set(gate);
        HandshakeObserver observer = channel.pipeline().get(HandshakeObserver.class);
        if (observer != null) {
            channel.pipeline().replace(observer, NAME, gate);
        } else {
            channel.pipeline().addFirst(NAME, gate);
        }
        return gate;
    }

    /** The mode the gate was made in. */
    Mode mode() {
        return mode;
    }

    /** Nothing passed this gate yet: no write, no flush, no connect. */
    private boolean untouched() {
        return state == State.NEW && held == null && firstSpeaker == 0 && !flushPending && removals == 0;
    }

    /** The gate of a channel, or {@code null}. */
    static SynGate of(Channel channel) {
        return channel.attr(KEY).get();
    }

    /** Closes at once, even in SYN_SENT with data out (a cancelled {@link TfoBootstraps#connect}). */
    void abort() {
        fail(new ClosedChannelException(), Failure.LOCAL);
        channel.close();
    }

    /** The result of this connection, decided once the handshake is over. */
    Future<TfoResult> result() {
        return verdict.future();
    }

    /** Runs {@code callback} once the verdict is in (at once if it is); one callback per gate. */
    void whenDecided(Runnable callback) {
        verdict.whenDecided(callback);
    }

    /** Why there is no verdict, once the attempt failed; else {@code null}. */
    Throwable verdictFailure() {
        return verdict.failure();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (state == State.DONE || removals == 2) {
            return;
        }
        if (!channel.isOpen()) {
            fail(new ClosedChannelException(), Failure.LOCAL); // the pipeline is torn down on close
            return;
        }
        if (removals == 0 && channel.isRegistered() && state.compareTo(State.DEFERRED) <= 0) {
            // A framework rebuilding its pipeline (Vert.x's HTTP client): the kernel will put the next write in
            // the SYN, whatever it is, and only the gate keeps unsafe bytes out of it. Back, first, once.
            removals = 1;
            try {
                ctx.pipeline().addFirst(NAME, this);
                return;
            } catch (RuntimeException nameTaken) {
                // another handler took the name meanwhile: stay out, disarmed below
            }
        }
        removals = 2;
        if (state == State.NEW) {
            // Never armed: a plain connection, decided now since no connect will pass here.
            attempt = new Attempt(channel, ops, this, null, null);
            attempt.notAttempted = "the TFO handler was removed from the pipeline before the connect: a plain "
                    + "connection";
            decide(null);
            releaseHeld();
        } else if (state == State.DEFERRED) {
            startWithoutData(REMOVED); // nothing guards the next write any more
        } // CONNECTING: the connect's listener still comes; SYN_SENT: the watch decides
    }

    // ---- outbound ------------------------------------------------------------------------------------------

    @Override
    public void deregister(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (state == State.DEFERRED) {
            // Leaving the event loop whose timers guard it.
            startWithoutData("the channel was deregistered before the SYN left: the handshake started without data");
        }
        cancelTimers(); // the watch starts again where the channel registers
        ctx.deregister(promise);
    }

    @Override
    public void channelRegistered(ChannelHandlerContext ctx) {
        if (state == State.SYN_SENT) {
            startWatching(); // registered again after a deregister in the middle of the handshake
        }
        ctx.fireChannelRegistered();
    }

    @Override
    public void connect(ChannelHandlerContext ctx, SocketAddress remoteAddress, SocketAddress localAddress,
                        ChannelPromise promise) {
        if (state != State.NEW) {
            ctx.connect(remoteAddress, localAddress, promise);
            return;
        }
        state = State.CONNECTING;
        Attempt a = attempt = new Attempt(channel, ops, this, remoteAddress, localAddress);
        String why = ops.unsupportedReason(channel);
        if (why == null && a.remote == null) {
            why = "the remote address " + remoteAddress + " is not a resolved IP socket address";
        }
        if (why == null) {
            why = options.backoff().skipReason(a.remote);
            a.backoffSkipped = why != null;
        }
        if (firstSpeaker == 1 && a.remote != null) {
            options.destinations().recordFirstSpeaker(a.remote, false); // written before the connect: a first flight
        }
        if (why == null && mode == Mode.FIRST_FLIGHT) {
            ops.sendFirstWriteAtConnect(channel); // Netty sends the queued first flight in the SYN as it connects
        } else {
            a.notAttempted = why != null ? why : ops.enableFastOpenConnect(channel, options.noCookie());
        }
        connectWatched(remoteAddress, localAddress, promise);
    }

    private void connectWatched(SocketAddress remoteAddress, SocketAddress localAddress, ChannelPromise promise) {
        promise.addListener(this);
        attempt.inConnect = true;
        try {
            ctx.connect(remoteAddress, localAddress, promise);
        } finally {
            attempt.inConnect = false;
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (firstSpeaker == 0) {
            spoke(false);
        }
        if (state.compareTo(State.DEFERRED) <= 0 && mode.holdsWrites()) {
            // Until the SYN has left: the kernel would put any write in it, whatever the policy says.
            if (held == null) {
                held = new HeldWrites();
            }
            held.add(msg, promise);
        } else if (state == State.DONE && !channel.isActive() && channel.isOpen()) {
            // Netty would fail it with a bare NotYetConnectedException: name the server and why, and tell the pipeline.
            Throwable why = verdictFailure();
            ConnectException e = named("is not connected" + (why != null ? ": " + why.getMessage() : ""), why);
            ReferenceCountUtil.release(msg);
            promise.tryFailure(e);
            ctx.fireExceptionCaught(e);
        } else {
            pass(msg, promise);
        }
    }

    /** Passes a write on; one that can reach the kernel before the handshake is over is watched. */
    void pass(Object msg, ChannelPromise promise) {
        if (state == State.SYN_SENT) {
            attempt.bytesOut = true;
            promise = watched(promise);
        } else if (state != State.DONE) {
            promise = watched(promise); // FIRST_FLIGHT before its connect completed: Netty's SYN may carry it
        }
        ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (state == State.NEW || state == State.CONNECTING) {
            flushPending = true; // before the connect completed it would fail the writes (io_uring: in flight)
        } else if (state == State.DEFERRED) {
            flushPending = true;
            sendSynWithHeld(); // the first flush: the held writes ride in the SYN as far as the policy admits
        } else {
            ctx.flush();
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        Attempt a = attempt;
        if (state == State.SYN_SENT && a.bytesOut) {
            // Linux turns a close in SYN_SENT into an instant CLOSE: the data would be lost if its SYN was.
            if (a.pendingClose == null) {
                a.pendingClose = promise;
            } else {
                a.pendingClose.addListener(f -> promise.trySuccess());
            }
            return;
        }
        if (state != State.DONE) {
            fail(new ClosedChannelException(), Failure.LOCAL); // the application (or a cancel): nothing learned
        }
        ctx.close(promise);
    }

    // ---- inbound -------------------------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (firstSpeaker == 0) {
            spoke(true);
        }
        if (state == State.SYN_SENT) {
            decide(ops.tcpInfo(channel)); // the peer's data came: its handshake is over, even if reset since
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (state == State.SYN_SENT) {
            if (channel.isOpen()) {
                attempt.run(); // a read that got only the server's FIN (epoll closes next): look now
            } else {
                overAfterAll(); // io_uring closed on the server's FIN, which comes only after the handshake
            }
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (state == State.SYN_SENT || state == State.DEFERRED) {
            // E.g. "recvAddress(..) failed: Connection refused" after the SYN left with data: name the server.
            fail(named("failed before its handshake completed: " + cause.getMessage(), cause), Failure.HANDSHAKE);
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (state != State.DONE && state != State.NEW) {
            // Nothing came from the server, and no local close: it refused or reset the connection.
            fail(named("closed before its handshake completed: refused or reset", null), Failure.INACTIVE);
        }
        ctx.fireChannelInactive();
    }

    // ---- the connect and the SYN ---------------------------------------------------------------------------

    /** Netty's connect completed: at once when the kernel deferred it or Netty's SYN carried data, else at the end of the handshake. */
    @Override
    public void operationComplete(ChannelFuture future) {
        if (state != State.CONNECTING) {
            return; // closed meanwhile
        }
        Attempt a = attempt;
        if (!future.isSuccess()) {
            if (mode == Mode.FIRST_FLIGHT && a.notAttempted == null && channel.isOpen()
                    && (a.notAttempted = ops.synDataRefusal(channel)) != null) {
                // Client TFO switched off since Netty looked (EOPNOTSUPP): connect again, plain, and say why.
                connectWatched(a.remote, a.local, ctx.newPromise());
                return;
            }
            fail(future.cause(), Failure.CONNECT); // the connect future tells the caller; the held writes fail with it
            if (!mode.holdsWrites()) {
                ctx.close(); // the first flight waits in Netty's outbound buffer: fail it, as Bootstrap would close
            }
            return;
        }
        if (a.synBytes > 0) {
            a.bytesOut = true; // Netty's SYN carried the first flight: the handshake is in flight
            startWatching();
            releaseHeld();
            return;
        }
        // On epoll a connect completes inside ctx.connect only when the kernel deferred it (nothing sent yet);
        // elsewhere (io_uring) tcp_info tells: still SYN_SENT with no segment out.
        boolean defers = a.notAttempted == null && mode.holdsWrites();
        boolean deferredAtOnce = defers && a.inConnect && ops.immediateConnectIsDeferred(channel);
        TcpInfo info = deferredAtOnce ? null : ops.tcpInfo(channel);
        if (defers && (deferredAtOnce || info != null && info.synSent() && info.segsOut() == 0)) {
            state = State.DEFERRED;
            if (removals == 2) {
                startWithoutData(REMOVED); // nothing guards the next write any more
            } else if (flushPending) {
                sendSynWithHeld(); // written and flushed before the connect completed
            } else if (options.firstWriteWaitNanos() == 0 || options.destinations().serverSpeaksFirst(a.remote)) {
                startWithoutData(null); // the server speaks first: waiting for a write would only delay its answer
            } else {
                a.firstWriteWait = ctx.executor().schedule(this::firstWriteWaitOver, options.firstWriteWaitNanos(),
                        TimeUnit.NANOSECONDS);
            }
            return;
        }
        if (info != null && info.synSent()) {
            startWatching(); // not expected after a completed connect, but never decide on a SYN_SENT socket
        } else {
            decide(info);
        }
        releaseHeld();
    }

    private void firstWriteWaitOver() {
        if (state == State.DEFERRED) {
            startWithoutData(null);
        }
    }

    /** The first flush of a deferred connect: its SYN carries what the policy admits of the held writes. */
    private void sendSynWithHeld() {
        Attempt a = attempt;
        HeldWrites h = held;
        ByteBuf data = h != null ? h.leadingBytes(ctx.alloc()) : null;
        boolean gathered = data != null && !h.holds(data); // a copy of several buffers, ours to release
        try {
            int offered = 0;
            if (data != null && data.isReadable()) {
                int length = data.readableBytes();
                offered = mode != Mode.CONNECT_THEN_WRITE ? length // the caller vouched for a first flight
                        : SynDataPolicies.admit(options.synDataPolicy(), data, data.readerIndex(), length);
                if (offered == 0) {
                    a.notAttempted = "the first write (" + length + " bytes) stayed out of the SYN: "
                            + options.synDataPolicy() + " does not admit it as safe to replay";
                }
            } else {
                a.notAttempted = h == null || h.isEmpty() ? "the first flush carried no data"
                        : "the first write is not a ByteBuf";
            }
            sendSyn(data, offered);
        } finally {
            if (gathered) {
                data.release();
            }
        }
        releaseHeld();
    }

    /** Sends a deferred connect's SYN without data, {@code why} (or the wait that ran out) in the result. */
    private void startWithoutData(String why) {
        Attempt a = attempt;
        if (why != null) {
            a.notAttempted = why;
        } else if (a.notAttempted == null) {
            a.notAttempted = firstSpeaker == 2 || options.destinations().serverSpeaksFirst(a.remote)
                    ? "the server speaks first: the handshake started without data"
                    : "nothing was written within " + options.firstWriteWait().toMillis()
                    + " ms of the connect (firstWriteWait): the handshake started without data";
        }
        sendSyn(null, 0);
        releaseHeld();
    }

    /** Makes the kernel send a deferred connect's SYN with {@code offered} bytes of {@code data}, then watches. */
    private void sendSyn(ByteBuf data, int offered) {
        cancelTimers();
        Attempt a = attempt;
        state = State.SYN_SENT;
        try {
            a.synBytes = ops.sendSyn(channel, data, data == null ? 0 : data.readerIndex(), offered, a.remote);
        } catch (IOException e) {
            if (e instanceof Errors.NativeIoException
                    && ((Errors.NativeIoException) e).expectedErr() == Errors.ERROR_EISCONN_NEGATIVE) {
                // The connect was not deferred after all: the handshake is over, the bytes go through Netty.
                a.synBytes = -1;
                startWatching();
                return;
            }
            fail(new IOException("connection to " + describeRemote() + ": the kernel refused to send the SYN ("
                    + e.getMessage() + ")", e), Failure.KERNEL);
            return;
        }
        if (a.synBytes > 0) {
            held.sent(a.synBytes, a);
            a.bytesOut = true;
        } else if (a.notAttempted == null) {
            a.notAttempted = "the kernel sent the SYN without data (its cookie for this server was gone)";
        }
        startWatching();
    }

    /** Writes what was held (minus what rode in the SYN), then the flush that waited, if any. */
    private void releaseHeld() {
        HeldWrites h = held;
        held = null;
        if (h != null) {
            h.drainInto(this);
        }
        if (flushPending) {
            flushPending = false;
            ctx.flush();
        }
    }

    // ---- the handshake -------------------------------------------------------------------------------------

    /** The SYN is on its way: watch the handshake, bounded by CONNECT_TIMEOUT_MILLIS from now. */
    private void startWatching() {
        state = State.SYN_SENT;
        Attempt a = attempt;
        a.start(options.destinations().handshakeNanos(a.remote));
        int timeoutMillis = channel.config().getConnectTimeoutMillis();
        if (state == State.SYN_SENT && timeoutMillis > 0) {
            a.timeout = ctx.executor().schedule(this::handshakeTimedOut, timeoutMillis, TimeUnit.MILLISECONDS);
        }
    }

    private void handshakeTimedOut() {
        if (state == State.SYN_SENT) {
            fail(new ConnectTimeoutException("handshake with " + describeRemote() + " not completed within "
                    + channel.config().getConnectTimeoutMillis() + " ms of its SYN (CONNECT_TIMEOUT_MILLIS)"),
                    Failure.HANDSHAKE);
        }
    }

    @Override
    public void handshakeOver(TcpInfo info) {
        if (state == State.SYN_SENT) {
            decide(info);
        }
    }

    @Override
    public void handshakeFailed(String error) {
        if (state == State.SYN_SENT) {
            fail(named("failed before its handshake completed: " + (error != null ? error : "refused or reset"),
                    null), Failure.HANDSHAKE);
        }
    }

    @Override
    public void socketClosed() {
        if (state == State.SYN_SENT && removals == 2) {
            // No channelInactive comes here any more.
            fail(named("closed before its handshake completed", null), Failure.INACTIVE);
        } // else channelReadComplete (a FIN read on io_uring) or channelInactive decides
    }

    /** Completes the writes that rode in the SYN: the handshake is over ({@code cause == null}) or failed. */
    private void settleCarried(Throwable cause) {
        if (attempt != null) {
            attempt.settleCarried(cause);
        }
    }

    /** A promise of our own for a write that may reach the kernel before the handshake is over. */
    private ChannelPromise watched(ChannelPromise user) {
        return ctx.newProgressivePromise().addListener(new WatchedWrite(user));
    }

    /**
     * One write that may reach the kernel before the handshake is over. During Netty's TFO connect its progress
     * is what rode in the SYN, and its completion means it rode whole (done with the handshake, as in plain Netty).
     * During the handshake the kernel takes its bytes only once the handshake is over: the first of them taken
     * makes the gate look at tcp_info while the socket is still open (a reset may close it before anything else is
     * seen); its completion settles the writes the SYN carried first (promises complete in write order), and a
     * failure names the server.
     */
    private final class WatchedWrite implements ChannelProgressiveFutureListener {
        private final ChannelPromise user;

        WatchedWrite(ChannelPromise user) {
            this.user = user;
        }

        @Override
        public void operationProgressed(ChannelProgressiveFuture future, long progress, long total) {
            if (state == State.CONNECTING) {
                attempt.synBytes = (int) progress; // Netty's sendto(MSG_FASTOPEN) at connect: these rode in the SYN
            } else if (state == State.SYN_SENT && channel.isOpen()) {
                attempt.run(); // the kernel took bytes after the SYN: the handshake is over
            }
        }

        @Override
        public void operationComplete(ChannelProgressiveFuture f) {
            if (state == State.SYN_SENT && channel.isOpen()) {
                attempt.run(); // the kernel took (or refused) the bytes: tcp_info tells if the handshake is over
            }
            if (f.isSuccess()) {
                if (state == State.CONNECTING) {
                    attempt.carry(user); // it rode whole in the SYN of Netty's connect
                    return;
                }
                settleCarried(null);
                user.trySuccess();
                return;
            }
            Throwable cause = f.cause();
            if (state == State.SYN_SENT && resetAfterHandshake(cause)) {
                overAfterAll(); // the write failed on a reset that only an established connection gets
            }
            if (!(cause instanceof ClosedChannelException) && verdict.result() == null) {
                cause = named("failed before its handshake completed: " + cause.getMessage(), cause);
            }
            settleCarried(cause);
            user.tryFailure(cause);
        }
    }

    /**
     * The kernel reports a reset as {@code ECONNREFUSED} in {@code SYN_SENT} and as {@code ECONNRESET} (or
     * {@code EPIPE}) once established: the latter proves the handshake completed.
     */
    private static boolean resetAfterHandshake(Throwable cause) {
        if (cause instanceof Errors.NativeIoException) {
            int err = ((Errors.NativeIoException) cause).expectedErr();
            return err == Errors.ERRNO_ECONNRESET_NEGATIVE || err == Errors.ERRNO_EPIPE_NEGATIVE;
        }
        return false;
    }

    /**
     * The handshake completed, but the socket closed before tcp_info could say how (io_uring closes on a FIN
     * before the pipeline hears of it; a write error closes at once): a handshake that took the kernel's first
     * SYN timeout (1 s) retransmitted its SYN, which is what the kernel would have said. Faster ones stay
     * unproven, and the failure the channel's close brings stands.
     */
    private void overAfterAll() {
        if (attempt.elapsedNanos() >= SYN_RTO_NANOS) {
            attempt.notAttempted = null;
            decide(TcpInfo.of(TcpInfo.STATE_CLOSE, 0, TcpInfo.FAIL_SYN_RETRANSMITTED, -1));
        }
    }

    /** Records who spoke first on this connection, for the next deferred connect to the same server. */
    private void spoke(boolean server) {
        firstSpeaker = (byte) (server ? 2 : 1);
        if (attempt != null && attempt.remote != null) {
            options.destinations().recordFirstSpeaker(attempt.remote, server);
        }
    }

    // ---- the verdict ---------------------------------------------------------------------------------------

    private void decide(TcpInfo info) {
        Attempt a = attempt;
        state = State.DONE;
        cancelTimers();
        if (info != null) {
            options.destinations().recordHandshake(a.remote, info.rttMicros());
        }
        TfoResult decided = options.cookieRequests().explain(a.remote,
                TfoResult.client(channel, info, a.notAttempted, a.synBytes), a.startNanos);
        if (!a.backoffSkipped && a.remote != null) {
            options.backoff().record(a.remote, decided.outcome());
        }
        TfoResultListener listener = options.listener();
        if (listener != null) {
            try {
                listener.onResult(channel, decided);
            } catch (RuntimeException e) {
                logger.warn("TfoResultListener {} threw", listener, e);
            }
        }
        verdict.succeed(decided);
        settleCarried(null);
        ChannelPromise close = a.pendingClose;
        if (close != null) {
            // Asked for in SYN_SENT: now that the handshake is over, close after what is queued is written.
            a.pendingClose = null;
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> ctx.close(close));
        }
    }

    /** Ends the connection attempt with {@code cause}: fails the result, the held writes and those the SYN carried. */
    private void fail(Throwable cause, Failure kind) {
        if (state == State.DONE) {
            return;
        }
        state = State.DONE;
        cancelTimers();
        Attempt a = attempt;
        if (kind.remote && a != null && a.remote != null && !a.backoffSkipped) {
            options.backoff().record(a.remote, null);
        }
        HeldWrites h = held;
        held = null;
        if (h != null) {
            h.failAll(cause);
        }
        verdict.fail(cause);
        settleCarried(cause);
        if (kind.tellAndClose) {
            if (removals == 2) {
                channel.pipeline().fireExceptionCaught(cause); // out of the pipeline: from its head
            } else {
                ctx.fireExceptionCaught(cause);
            }
        }
        ChannelPromise pending = a == null ? null : a.pendingClose;
        if (pending != null) {
            a.pendingClose = null;
        }
        if (kind.tellAndClose || pending != null) {
            ctx.close(pending != null ? pending : ctx.newPromise());
        }
    }

    /** A {@link ConnectException} that names the server. */
    private ConnectException named(String what, Throwable cause) {
        ConnectException e = new ConnectException("connection to " + describeRemote() + " " + what);
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    private void cancelTimers() {
        if (attempt != null) {
            attempt.cancelTimers();
        }
    }

    private String describeRemote() {
        SocketAddress r = attempt != null && attempt.remote != null ? attempt.remote : channel.remoteAddress();
        return String.valueOf(r);
    }
}
