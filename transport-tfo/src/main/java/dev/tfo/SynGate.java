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
import io.netty.channel.ChannelProgressivePromise;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.unix.Errors;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;
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
 * {@link TfoClientOptions#firstWriteWait()} (at once to a server that spoke first before), it sends a SYN
 * without data: a client that reads first still gets its handshake.
 *
 * <p>Once the SYN has left it polls {@code tcp_info} on the event loop (and at once on the first read) until
 * the handshake is over, then decides the {@link TfoResult}. A handshake that does not end within
 * {@code CONNECT_TIMEOUT_MILLIS} of the SYN, or a connection refused or reset before it ended, fails the
 * connection: the named cause goes down the pipeline as an exception and the channel is closed.
 *
 * <p>What plain Netty guarantees stays true: a write whose bytes rode in the SYN completes when the handshake
 * is over (not when the SYN left), and a {@code close()} while the kernel is still in {@code SYN_SENT} with
 * data out waits for the handshake (Linux turns a close in {@code SYN_SENT} into an instant {@code CLOSE}: the
 * SYN and its data would never be retransmitted). A framework that removes the gate while it guards a socket
 * the kernel will send a SYN for gets it back once, first in the pipeline; removed again, the gate sends a SYN
 * without data (nothing unguarded can ride in it) and keeps watching the handshake to decide the result.
 *
 * <p>States: {@code NEW} (nothing yet) → {@code CONNECTING} (connect called) → {@code DEFERRED} (connected,
 * no SYN sent: a cookie is cached) → {@code SYN_SENT} (handshake in flight) → {@code DONE} (decided or
 * failed). A connect the kernel did not defer goes from {@code CONNECTING} to {@code DONE} when Netty
 * completes it, which is at the end of the handshake.
 *
 * <p>The first flight of {@link TfoBootstraps#connect} ({@link Mode#FIRST_FLIGHT}) takes Netty's own way instead,
 * as hand-written Netty TFO does: the writes pass before the connect, Netty's {@code TCP_FASTOPEN_CONNECT} sends
 * the first of them in the SYN as it connects, and the gate holds the flush until the connect completed, counts
 * what rode (the write's progress) and watches the handshake as above.
 *
 * <p>A channel nobody set up for TFO is watched by a {@link HandshakeObserver} instead ({@link TfoResult#of}).
 */
@ChannelHandler.Sharable // only so that it can return to the pipeline it guards; never shared between channels
final class SynGate extends ChannelDuplexHandler implements ChannelFutureListener, Runnable {
    static final String NAME = "tfo";
    /** A channel's gate. */
    static final AttributeKey<SynGate> KEY = AttributeKey.valueOf("dev.tfo.gate");
    static final String REMOVED = "the TFO handler was removed from the pipeline before the SYN left: the "
            + "handshake started without data";

    private static final InternalLogger logger = InternalLoggerFactory.getInstance(SynGate.class);
    private static final long FIRST_POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
    private static final long MAX_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
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

    private final Channel channel;
    private final SocketOps ops;
    private final TfoClientOptions options;
    private final Verdict verdict;
    private final Mode mode;
    private ChannelHandlerContext ctx;
    /** While {@code ctx.connect} runs: a connect that completes inside it was deferred by the kernel (epoll). */
    private boolean inConnect;
    private State state = State.NEW;
    private InetSocketAddress remote;
    /** Why no data rides (or rode) in the SYN; {@code null} while it may. */
    private String notAttempted;
    private boolean backoffSkipped;
    private boolean flushPending;
    private boolean closeSeen;
    /** Came back once after a removal; {@link #detached}: removed for good. */
    private boolean returned;
    private boolean detached;
    /** Bytes of this connection are in the kernel while it may still be in SYN_SENT. */
    private boolean bytesOut;
    /** Who spoke first on this connection: 0 nobody yet, 1 this client, 2 the server. */
    private byte firstSpeaker;
    /** When the SYN left ({@code System.nanoTime()}). */
    private long synNanos;
    /** Cancelled by {@link TfoBootstraps#connect}'s caller: close at once, whatever is in flight. */
    private boolean aborting;
    private long startNanos;
    private long pollDelayNanos;
    private int synBytes = -1;
    private HeldWrites held;
    /** Writes whose bytes all rode in the SYN: they complete when the handshake does. */
    private List<ChannelPromise> carried;
    /** A close asked for while the kernel was in SYN_SENT with data out: done once the handshake is over. */
    private ChannelPromise pendingClose;
    private Future<?> kick;
    private Future<?> timeout;

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
        Verdict mine = new Verdict(channel);
        Verdict observed = channel.attr(Verdict.KEY).setIfAbsent(mine);
        SynGate gate = new SynGate(channel, options, ops, observed != null ? observed : mine, mode);
        channel.attr(KEY).set(gate);
        if (existing != null) {
            existing.detached = true; // steps aside for good: its handlerRemoved leaves the verdict to the new gate
            channel.pipeline().replace(existing, NAME, gate);
            return gate;
        }
        HandshakeObserver observer = channel.pipeline().get(HandshakeObserver.class);
        if (observer != null) {
            channel.pipeline().replace(observer, NAME, gate);
        } else {
            channel.pipeline().addFirst(NAME, gate);
        }
        return gate;
    }

    /** Nothing passed this gate yet: no write, no connect. */
    private boolean untouched() {
        return state == State.NEW && held == null && firstSpeaker == 0 && !detached;
    }

    /** The gate of a channel, or {@code null}. */
    static SynGate of(Channel channel) {
        return channel.attr(KEY).get();
    }

    /** Closes at once, even in SYN_SENT with data out (a cancelled {@link TfoBootstraps#connect}). */
    void abort() {
        aborting = true;
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
        if (state == State.DONE || detached) {
            return;
        }
        if (!channel.isOpen()) {
            fail(new ClosedChannelException(), Failure.LOCAL); // the pipeline is torn down on close
            return;
        }
        if (!returned && channel.isRegistered() && state.compareTo(State.DEFERRED) <= 0) {
            // A framework rebuilding its pipeline (Vert.x's HTTP client): the kernel will put the next write in
            // the SYN, whatever it is, and only the gate keeps unsafe bytes out of it. Back, first, once.
            returned = true;
            try {
                ctx.pipeline().addFirst(NAME, this);
                return;
            } catch (RuntimeException nameTaken) {
                // another handler took the name meanwhile: stay out, disarmed below
            }
        }
        detached = true; // from now on: timers and tcp_info only; exceptions and closes go through the channel
        switch (state) {
            case NEW:
                // Never armed: a plain connection, decided now since no connect will pass here.
                notAttempted = "the TFO handler was removed from the pipeline before the connect: a plain connection";
                decide(null);
                releaseHeld(flushPending);
                return;
            case DEFERRED:
                notAttempted = REMOVED;
                sendSyn(false);
                releaseHeld(flushPending);
                return;
            default:
                // CONNECTING: the connect's listener still comes (and disarms a deferred connect); SYN_SENT: the
                // polls decide.
        }
    }

    // ---- outbound ------------------------------------------------------------------------------------------

    @Override
    public void deregister(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (state == State.DEFERRED) {
            // Leaving the event loop whose timers guard it: start the handshake without data now.
            notAttempted = "the channel was deregistered before the SYN left: the handshake started without data";
            sendSyn(false);
            releaseHeld(flushPending);
        }
        cancelTimers(); // the polls resume where the channel registers again
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
        if (firstSpeaker == 1 && remote != null) {
            options.destinations().recordFirstSpeaker(remote, false); // written before the connect: a first flight
        }
        if (notAttempted == null && mode == Mode.FIRST_FLIGHT) {
            // Netty sends the first flight, already queued, in the SYN (sendto(MSG_FASTOPEN)) as it connects.
            ops.sendFirstWriteAtConnect(channel);
            ctx.connect(remoteAddress, localAddress, ctx.newPromise().addListener(
                    new NettyFastOpenConnect(remoteAddress, localAddress, promise)));
            return;
        }
        if (notAttempted == null) {
            notAttempted = ops.enableFastOpenConnect(channel, options.noCookie());
        }
        connectWatched(remoteAddress, localAddress, promise);
    }

    private void connectWatched(SocketAddress remoteAddress, SocketAddress localAddress, ChannelPromise promise) {
        promise.addListener(this);
        inConnect = true;
        try {
            ctx.connect(remoteAddress, localAddress, promise);
        } finally {
            inConnect = false;
        }
    }

    /**
     * The connect of {@link Mode#FIRST_FLIGHT}: a kernel whose client TFO was switched off since Netty looked fails
     * it ({@code EOPNOTSUPP}); the connect is then made again, plain, and its result says why. Else as any connect.
     */
    private final class NettyFastOpenConnect implements ChannelFutureListener {
        private final SocketAddress remoteAddress;
        private final SocketAddress localAddress;
        private final ChannelPromise promise;

        NettyFastOpenConnect(SocketAddress remoteAddress, SocketAddress localAddress, ChannelPromise promise) {
            this.remoteAddress = remoteAddress;
            this.localAddress = localAddress;
            this.promise = promise;
        }

        @Override
        public void operationComplete(ChannelFuture future) {
            if (!future.isSuccess() && state == State.CONNECTING && channel.isOpen()
                    && (notAttempted = ops.synDataRefusal(channel)) != null) {
                connectWatched(remoteAddress, localAddress, promise); // plain, this time
                return;
            }
            SynGate.this.operationComplete(future);
            if (future.isSuccess()) {
                promise.trySuccess();
            } else {
                promise.tryFailure(future.cause());
            }
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (firstSpeaker == 0) {
            spoke(false);
        }
        if (state.compareTo(State.DEFERRED) <= 0) {
            if (mode.holdsWrites()) {
                if (held == null) {
                    held = new HeldWrites();
                }
                held.add(msg, promise);
            } else {
                ctx.write(msg, namingFailures(promise)); // Netty sends the first buffer in the SYN as it connects
            }
            return;
        }
        if (state == State.SYN_SENT) {
            bytesOut = true;
            promise = namingFailures(promise);
        } else if (state == State.DONE && !channel.isActive() && channel.isOpen()) {
            // Netty would fail it with a bare NotYetConnectedException: name the server and why, and tell the pipeline.
            Throwable why = verdictFailure();
            ConnectException e = named("is not connected" + (why != null ? ": " + why.getMessage() : ""), why);
            io.netty.util.ReferenceCountUtil.release(msg);
            promise.tryFailure(e);
            ctx.fireExceptionCaught(e);
            return;
        }
        ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
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
        if (state == State.SYN_SENT && bytesOut && !aborting) {
            // Linux turns a close in SYN_SENT into an instant CLOSE: the data would be lost if its SYN was.
            if (pendingClose == null) {
                pendingClose = promise;
            } else {
                pendingClose.addListener(f -> promise.trySuccess());
            }
            return;
        }
        if (state != State.DONE) {
            // Closed by the application (or a cancelled connect): nothing learned about the path.
            fail(new ClosedChannelException(), Failure.LOCAL);
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
                run(); // a read that got only the server's FIN (epoll closes next): the handshake may be over
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
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (state != State.DONE && state != State.NEW) {
            // Nothing came from the server, and no local close: it refused or reset the connection.
            fail(named("closed before its handshake completed: refused or reset", null), Failure.INACTIVE);
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
            fail(future.cause(), Failure.CONNECT);
            if (!mode.holdsWrites()) {
                ctx.close(); // the first flight waits in Netty's outbound buffer: fail it, as Bootstrap would close
            }
            return;
        }
        if (synBytes > 0) {
            // Netty's sendto(MSG_FASTOPEN) put the first flight in the SYN: connected at once, the handshake in flight.
            bytesOut = true;
            startWatching();
            releaseHeld(flushPending);
            return;
        }
        // On epoll a connect completes inside ctx.connect only when the kernel deferred it (nothing sent yet);
        // elsewhere (io_uring) tcp_info tells: still SYN_SENT with no segment out.
        boolean defers = notAttempted == null && mode.holdsWrites();
        boolean deferredAtOnce = defers && inConnect && ops.immediateConnectIsDeferred(channel);
        TcpInfo info = deferredAtOnce ? null : ops.tcpInfo(channel);
        if (defers && (deferredAtOnce || info != null && info.synSent() && info.segsOut() == 0)) {
            state = State.DEFERRED;
            if (detached) {
                notAttempted = REMOVED; // nothing guards the next write any more: start the handshake now
                sendSyn(false);
                releaseHeld(flushPending);
            } else if (flushPending) {
                sendSyn(true);
                releaseHeld(true);
            } else if (options.firstWriteWaitNanos() == 0 || options.destinations().serverSpeaksFirst(remote)) {
                sendSyn(false); // the server speaks first: waiting for a write would only delay its answer
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
                offered = mode != Mode.CONNECT_THEN_WRITE ? length
                        : SynDataPolicies.admit(options.synDataPolicy(), data, data.readerIndex(), length);
                if (offered == 0) {
                    notAttempted = "the first write (" + length + " bytes) stayed out of the SYN: "
                            + options.synDataPolicy() + " does not admit it as safe to replay";
                }
            } else if (flushed) {
                notAttempted = h == null || h.isEmpty() ? "the first flush carried no data"
                        : "the first write is not a ByteBuf";
            } else if (notAttempted == null) {
                notAttempted = firstSpeaker == 2 || options.destinations().serverSpeaksFirst(remote)
                        ? "the server speaks first: the handshake started without data"
                        : "nothing was written within " + options.firstWriteWait().toMillis()
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
            fail(new IOException("connection to " + describeRemote() + ": the kernel refused to send the SYN ("
                    + e.getMessage() + ")", e), Failure.KERNEL);
            return;
        } finally {
            if (data != null && !h.holds(data)) {
                data.release(); // a gathered copy
            }
        }
        if (synBytes > 0) {
            h.skip(synBytes);
            bytesOut = true;
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
            h.drain(this::pass);
        }
        if (flush || flushPending) {
            flushPending = false;
            ctx.flush();
        }
    }

    /** Passes one held write on; a buffer the SYN carried whole completes with the handshake, as in plain Netty. */
    private void pass(Object msg, ChannelPromise promise) {
        if (state == State.SYN_SENT && synBytes > 0 && msg instanceof ByteBuf && !((ByteBuf) msg).isReadable()) {
            ((ByteBuf) msg).release();
            carry(promise);
            return;
        }
        if (state == State.SYN_SENT) {
            bytesOut = true;
            promise = namingFailures(promise);
        }
        ctx.write(msg, promise);
    }

    /** A write whose bytes rode in the SYN: it completes when the handshake does. */
    private void carry(ChannelPromise promise) {
        if (!promise.isVoid()) {
            if (carried == null) {
                carried = new ArrayList<>(2);
            }
            carried.add(promise);
        }
    }

    /**
     * A promise for a write passed on during the handshake. The kernel takes its bytes only once the handshake
     * is over, so the first of them taken (progress) makes the gate look at tcp_info while the socket is still
     * open (a reset may close it before anything else is seen); its completion settles the writes the SYN
     * carried first (promises complete in write order), and a failure names the server.
     */
    private ChannelPromise namingFailures(ChannelPromise user) {
        ChannelProgressivePromise mine = ctx.newProgressivePromise();
        mine.addListener(new HandshakeWrite(user));
        return mine;
    }

    /** Listens to one write passed on during the handshake; see {@link #namingFailures}. */
    private final class HandshakeWrite implements ChannelProgressiveFutureListener {
        private final ChannelPromise user;

        HandshakeWrite(ChannelPromise user) {
            this.user = user;
        }

        @Override
        public void operationProgressed(ChannelProgressiveFuture future, long progress, long total) {
            if (state == State.CONNECTING) {
                synBytes = (int) progress; // Netty's sendto(MSG_FASTOPEN) at connect: these rode in the SYN
            } else if (state == State.SYN_SENT && channel.isOpen()) {
                run(); // the kernel took bytes after the SYN: the handshake is over
            }
        }

        @Override
        public void operationComplete(ChannelProgressiveFuture f) {
            if (state == State.SYN_SENT && channel.isOpen()) {
                run(); // the kernel took (or refused) the bytes: tcp_info tells if the handshake is over
            }
            if (f.isSuccess()) {
                if (state == State.CONNECTING) {
                    carry(user); // it rode whole in the SYN of Netty's connect: done when the handshake is
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
        if (System.nanoTime() - synNanos >= SYN_RTO_NANOS) {
            notAttempted = null;
            decide(TcpInfo.of(TcpInfo.STATE_CLOSE, 0, TcpInfo.FAIL_SYN_RETRANSMITTED, -1));
        }
    }

    /** Completes the writes that rode in the SYN: the handshake is over ({@code cause == null}) or failed. */
    private void settleCarried(Throwable cause) {
        List<ChannelPromise> c = carried;
        carried = null;
        if (c != null) {
            for (ChannelPromise p : c) {
                if (cause == null) {
                    p.trySuccess();
                } else {
                    p.tryFailure(cause);
                }
            }
        }
    }

    /** Records who spoke first on this connection, for the next deferred connect to the same server. */
    private void spoke(boolean server) {
        firstSpeaker = (byte) (server ? 2 : 1);
        if (remote != null) {
            options.destinations().recordFirstSpeaker(remote, server);
        }
    }

    /**
     * The SYN is on its way: watch the handshake, starting with a look right now (on loopback the SYN-ACK is
     * usually in before sendto returns); only a handshake still in flight costs a timeout task.
     */
    private void startWatching() {
        state = State.SYN_SENT;
        synNanos = System.nanoTime();
        pollDelayNanos = FIRST_POLL_NANOS;
        run();
        int timeoutMillis = channel.config().getConnectTimeoutMillis();
        if (state == State.SYN_SENT && timeoutMillis > 0) {
            timeout = ctx.executor().schedule(this::handshakeTimedOut, timeoutMillis, TimeUnit.MILLISECONDS);
        }
    }

    private void handshakeTimedOut() {
        if (state == State.SYN_SENT) {
            fail(new ConnectTimeoutException("handshake with " + describeRemote() + " not completed within "
                    + channel.config().getConnectTimeoutMillis() + " ms of its SYN (CONNECT_TIMEOUT_MILLIS)"),
                    Failure.HANDSHAKE);
        }
    }

    /** Polls {@code tcp_info}: decides, fails, or looks again later. */
    @Override
    public void run() {
        if (state != State.SYN_SENT || !channel.isRegistered()) {
            return;
        }
        TcpInfo info = ops.tcpInfo(channel);
        if (info == null) {
            if (channel.isOpen()) {
                decide(null);
            } else if (detached) {
                fail(named("closed before its handshake completed", null), Failure.INACTIVE);
            } // else channelReadComplete (a FIN read on io_uring) or channelInactive decides
            return;
        }
        if (info.synSent()) {
            reschedule();
            return;
        }
        if (info.state() == TcpInfo.STATE_CLOSE && !info.synAckSeen()) {
            // Refused or reset after the SYN left. Read the error now: the transport may close the channel
            // without reporting it (io_uring does).
            String error = ops.socketError(channel);
            if (error != null || closeSeen) {
                fail(named("failed before its handshake completed: " + (error != null ? error : "refused or reset"),
                        null), Failure.HANDSHAKE);
                return;
            }
            closeSeen = true;
            reschedule();
            return;
        }
        decide(info); // over, even if reset since: a SYN-ACK came, or the server's data did
    }

    /**
     * The next look at {@code tcp_info}: where the last handshake with this server tells when the SYN-ACK is due,
     * just before that and then every 1/32 of it, so that a client that reads only once its write completed (the
     * write completes with the handshake) is not held up; else at doubling intervals up to 10 ms.
     */
    private void reschedule() {
        long expected = options.destinations().handshakeNanos(remote);
        long elapsed = System.nanoTime() - synNanos;
        long delay;
        if (expected > 0 && elapsed < 2 * expected) {
            long due = expected - expected / 16;
            delay = elapsed < due ? due - elapsed : Math.max(FIRST_POLL_NANOS, expected / 32);
        } else {
            delay = pollDelayNanos;
            pollDelayNanos = Math.min(pollDelayNanos * 2, MAX_POLL_NANOS);
        }
        ctx.executor().schedule(this, delay, TimeUnit.NANOSECONDS);
    }

    private void decide(TcpInfo info) {
        state = State.DONE;
        cancelTimers();
        if (info != null) {
            options.destinations().recordHandshake(remote, info.rttMicros());
        }
        TfoResult decided = options.cookieRequests().explain(remote, TfoResult.client(info, notAttempted, synBytes),
                startNanos);
        if (!backoffSkipped && remote != null) {
            options.backoff().record(remote, decided.outcome());
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
        ChannelPromise close = pendingClose;
        if (close != null) {
            // Asked for in SYN_SENT: now that the handshake is over, close after what is queued is written.
            pendingClose = null;
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> ctx.close(close));
        }
    }

    /** How a failure ends the attempt: what it teaches the backoff, and whether the gate tells and closes. */
    private enum Failure {
        /** Closed here (the application, a cancel, a torn-down pipeline): nothing learned about the path. */
        LOCAL(false, false),
        /** The connect future failed: it tells the caller, and Netty closes the channel. */
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

    /** Ends the connection attempt with {@code cause}: fails the result, the held writes and those the SYN carried. */
    private void fail(Throwable cause, Failure kind) {
        if (state == State.DONE) {
            return;
        }
        state = State.DONE;
        cancelTimers();
        if (kind.remote && remote != null && !backoffSkipped) {
            options.backoff().record(remote, null);
        }
        HeldWrites h = held;
        held = null;
        if (h != null) {
            h.failAll(cause);
        }
        verdict.fail(cause);
        settleCarried(cause);
        if (kind.tellAndClose) {
            if (detached) {
                channel.pipeline().fireExceptionCaught(cause);
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

    /** A {@link ConnectException} that names the server. */
    private ConnectException named(String what, Throwable cause) {
        ConnectException e = new ConnectException("connection to " + describeRemote() + " " + what);
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
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
