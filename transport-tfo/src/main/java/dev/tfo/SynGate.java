package dev.tfo;

import dev.tfo.internal.SocketOps;
import dev.tfo.internal.TcpInfo;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;

import java.net.ConnectException;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeUnit;

/**
 * The handler, first in a client pipeline, that makes TCP Fast Open work for a channel and proves what happened.
 *
 * <p>Connect, then write ({@link Mode#CONNECT_THEN_WRITE}): at {@code connect} it consults the {@link TfoBackoff}
 * and sets the kernel's {@code TCP_FASTOPEN_CONNECT}. With a cookie cached the kernel completes the connect at once
 * without sending anything (a <i>deferred</i> connect). The gate holds every write until then and sends the SYN
 * itself at the first flush, with the bytes the {@link TfoSynDataPolicy} admits (the socket's first write); the
 * rest follows through Netty. Nothing flushed within {@link TfoClientOptions#firstWriteWait()} (at once to a server
 * that spoke first before): a SYN without data, so that a client that reads first gets its handshake.
 *
 * <p>A first flight ({@link Mode#FIRST_FLIGHT}, {@link TfoBootstraps#connect}) takes Netty's own way, as hand-written
 * Netty TFO does: the writes pass before the connect, Netty's {@code TCP_FASTOPEN_CONNECT} sends the first of them in
 * the SYN as it connects, and the gate holds the flush until the connect completed.
 *
 * <p>From the connect to the verdict the connection is an {@link Attempt}, to which the gate dispatches: it sends a
 * deferred connect's SYN, watches the handshake, and decides the {@link TfoResult}, or fails the connection (refused,
 * reset, or not over within {@code CONNECT_TIMEOUT_MILLIS} of its SYN: the named cause goes down the pipeline and the
 * channel is closed). As in plain Netty, a write whose bytes rode in the SYN completes when the handshake is over,
 * and a {@code close()} in {@code SYN_SENT} with data out waits for it. Removed from the pipeline before its SYN
 * left, the gate comes back once, first; removed again it sends a SYN without data and still decides the result.
 *
 * <p>States: {@code NEW} → {@code CONNECTING} → {@code DEFERRED} (connected, no SYN sent) → {@code SYN_SENT} →
 * {@code DONE}; a connect that was not deferred skips {@code DEFERRED} (and {@code SYN_SENT} unless Netty's SYN
 * carried data). A channel nobody set up for TFO is watched by a {@link HandshakeObserver} ({@link TfoResult#of}).
 */
@ChannelHandler.Sharable // only so that it can return to the pipeline it guards; never shared between channels
final class SynGate extends ChannelDuplexHandler implements HandshakeWatch.Owner {
    static final String NAME = "tfo";
    static final String REMOVED = "the TFO handler was removed from the pipeline before the SYN left: the "
            + "handshake started without data";

    enum State { NEW, CONNECTING, DEFERRED, SYN_SENT, DONE }

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

    // Package-private: the Attempt, the gate's side of one connection attempt, reads and ends them.
    final Channel channel;
    final SocketOps ops;
    final TfoClientOptions options;
    final Verdict verdict;
    final Mode mode;
    ChannelHandlerContext ctx;
    State state = State.NEW;
    /** 1: removed once and back, first; 2: removed for good (timers and tcp_info only from then on). */
    byte removals;
    /** Who spoke first on this connection: 0 nobody yet, 1 this client, 2 the server. */
    private byte firstSpeaker;
    /** A flush before the connect completed (it would fail the writes): done once it has. */
    private boolean flushPending;
    private HeldWrites held;
    Attempt attempt;

    SynGate(Channel channel, TfoClientOptions options, SocketOps ops, Verdict verdict, Mode mode) {
        this.channel = channel;
        this.options = options;
        this.ops = ops;
        this.verdict = verdict;
        this.mode = mode;
    }

    /** Nothing passed this gate yet: no write, no flush, no connect. */
    boolean untouched() {
        return state == State.NEW && held == null && firstSpeaker == 0 && !flushPending && removals == 0;
    }

    /** Closes at once, even in SYN_SENT with data out (a cancelled {@link TfoBootstraps#connect}). */
    void abort() {
        fail(new ClosedChannelException());
        channel.close();
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
            fail(new ClosedChannelException()); // the pipeline is torn down on close
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
            attempt.decide(null);
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
        if (attempt != null) {
            attempt.cancelTimers(); // the watch starts again where the channel registers
        }
        ctx.deregister(promise);
    }

    @Override
    public void channelRegistered(ChannelHandlerContext ctx) {
        if (state == State.SYN_SENT) {
            attempt.startWatching(); // registered again after a deregister in the middle of the handshake
        }
        ctx.fireChannelRegistered();
    }

    @Override
    public void connect(ChannelHandlerContext ctx, SocketAddress remoteAddress, SocketAddress localAddress,
                        ChannelPromise promise) {
        if (state != State.NEW) {
            ctx.connect(remoteAddress, localAddress, promise); // one attempt per channel: Netty answers any other
            return;
        }
        state = State.CONNECTING;
        Attempt a = attempt = new Attempt(channel, ops, this, remoteAddress, localAddress);
        if (firstSpeaker == 1 && a.remote != null) {
            options.destinations().recordFirstSpeaker(a.remote, false); // written before the connect: a first flight
        }
        a.connect(remoteAddress, promise); // TFO as far as the backoff and the kernel allow; it hears the outcome
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (firstSpeaker == 0) {
            spoke(false); // the client spoke first: the next connect to this server waits for its write
        }
        if (state.compareTo(State.DEFERRED) <= 0 && mode.holdsWrites()) {
            // Until the SYN has left: the kernel would put any write in it, whatever the policy says.
            if (held == null) {
                held = new HeldWrites();
            }
            held.add(msg, promise);
        } else if (state == State.DONE && !channel.isActive() && channel.isOpen()) {
            // Netty would fail it with a bare NotYetConnectedException: name the server and why, and tell the pipeline.
            Throwable why = verdict.failure();
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
            attempt.bytesOut = true; // in the kernel before the handshake is over: a close waits for it
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
            ctx.flush(); // the SYN has left: nothing to hold any more
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        Attempt a = attempt;
        if (state == State.SYN_SENT && a.bytesOut) {
            // Linux turns a close in SYN_SENT into an instant CLOSE: the data would be lost if its SYN was.
            a.closeAfterHandshake(promise);
            return;
        }
        if (state != State.DONE) {
            fail(new ClosedChannelException()); // the application (or a cancel): nothing learned
        }
        ctx.close(promise);
    }

    // ---- inbound -------------------------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (firstSpeaker == 0) {
            spoke(true); // the server spoke first: the next connect to it sends its SYN at once
        }
        if (state == State.SYN_SENT) {
            attempt.decide(ops.tcpInfo(channel)); // the peer's data came: its handshake is over, even if reset
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (state == State.SYN_SENT) {
            if (channel.isOpen()) {
                attempt.run(); // a read that got only the server's FIN (epoll closes next): look now
            } else {
                attempt.overAfterAll(); // io_uring closed on the server's FIN, which comes only after the handshake
            }
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (state == State.SYN_SENT || state == State.DEFERRED) {
            // E.g. "recvAddress(..) failed: Connection refused" after the SYN left with data: name the server.
            attempt.fail(named("failed before its handshake completed: " + cause.getMessage(), cause),
                    Attempt.Failure.HANDSHAKE);
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (state != State.DONE && state != State.NEW) {
            // Nothing came from the server, and no local close: it refused or reset the connection.
            attempt.fail(named("closed before its handshake completed: refused or reset", null),
                    Attempt.Failure.INACTIVE);
        }
        ctx.fireChannelInactive();
    }

    // ---- the held writes and the SYN -----------------------------------------------------------------------

    /** The connect completed without sending anything (deferred): the held writes decide when the SYN leaves. */
    void deferred() {
        Attempt a = attempt;
        state = State.DEFERRED;
        if (removals == 2) {
            startWithoutData(REMOVED); // nothing guards the next write any more
        } else if (flushPending) {
            sendSynWithHeld(); // written and flushed before the connect completed
        } else if (options.firstWriteWaitNanos() == 0 || options.destinations().serverSpeaksFirst(a.remote)) {
            startWithoutData(null); // the server speaks first: waiting for a write would only delay its answer
        } else {
            a.timer = ctx.executor().schedule(this::firstWriteWaitOver, options.firstWriteWaitNanos(),
                    TimeUnit.NANOSECONDS);
        }
    }

    private void firstWriteWaitOver() {
        if (state == State.DEFERRED) {
            startWithoutData(null);
        }
    }

    /** The first flush of a deferred connect: its SYN carries what the policy admits of the held writes. */
    private void sendSynWithHeld() {
        attempt.sendSynWith(held);
        releaseHeld();
    }

    /** Sends a deferred connect's SYN without data, {@code why} (or the wait that ran out) in the result. */
    private void startWithoutData(String why) {
        attempt.sendSynWithout(why, firstSpeaker == 2, held);
        releaseHeld();
    }

    /** Writes what was held (minus what rode in the SYN), then the flush that waited, if any. */
    void releaseHeld() {
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

    /** Releases the held writes and fails their promises: the attempt is over. */
    void failHeld(Throwable cause) {
        HeldWrites h = held;
        held = null;
        if (h != null) {
            h.failAll(cause);
        }
    }

    /** A promise of our own for a write that may reach the kernel before the handshake is over. */
    private ChannelPromise watched(ChannelPromise user) {
        return ctx.newProgressivePromise().addListener(new HandshakeWrite(this, user));
    }

    /** Records who spoke first on this connection, for the next deferred connect to the same server. */
    private void spoke(boolean server) {
        firstSpeaker = (byte) (server ? 2 : 1);
        if (attempt != null && attempt.remote != null) {
            options.destinations().recordFirstSpeaker(attempt.remote, server);
        }
    }

    // ---- the handshake, as the attempt's watch tells it ----------------------------------------------------

    @Override
    public void handshakeOver(TcpInfo info) {
        if (state == State.SYN_SENT) {
            attempt.decide(info); // else decided meanwhile (a read, a close): the watch's word comes late
        }
    }

    @Override
    public void handshakeFailed(String error) {
        if (state == State.SYN_SENT) {
            attempt.fail(named("failed before its handshake completed: " + (error != null ? error
                    : "refused or reset"), null), Attempt.Failure.HANDSHAKE);
        }
    }

    @Override
    public void socketClosed() {
        if (state == State.SYN_SENT && removals == 2) {
            // No channelInactive comes here any more.
            attempt.fail(named("closed before its handshake completed", null), Attempt.Failure.INACTIVE);
        } // else channelReadComplete (a FIN read on io_uring) or channelInactive decides
    }

    /** Closed here (the application, a cancel, a torn-down pipeline): the attempt ends, or the gate before any. */
    private void fail(Throwable cause) {
        if (attempt != null) {
            attempt.fail(cause, Attempt.Failure.LOCAL);
        } else if (state != State.DONE) {
            state = State.DONE; // closed before the connect: no attempt, only the held writes and the verdict
            failHeld(cause);
            verdict.fail(cause);
        }
    }

    /** A {@link ConnectException} that names the server. */
    ConnectException named(String what, Throwable cause) {
        ConnectException e = new ConnectException("connection to " + describeRemote() + " " + what);
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    String describeRemote() {
        SocketAddress r = attempt != null && attempt.remote != null ? attempt.remote : channel.remoteAddress();
        return String.valueOf(r);
    }
}
