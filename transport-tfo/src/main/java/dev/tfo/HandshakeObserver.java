package dev.tfo;

import dev.tfo.internal.SocketOps;
import dev.tfo.internal.TcpInfo;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeUnit;

/**
 * Watches the handshake of a client channel nobody set up for TFO, for {@link TfoResult#of}: it changes
 * nothing on the channel, reads {@code tcp_info} from the moment the channel is active until the handshake is
 * over, and decides the channel's {@link Verdict}. While the kernel holds a deferred connect (no SYN sent yet: the
 * application set {@code TCP_FASTOPEN_CONNECT} itself) it does not poll; the flush that sends the SYN wakes it.
 * A {@link SynGate} installed before the connect takes its place and its verdict ({@link SynGate#install}).
 */
final class HandshakeObserver extends ChannelDuplexHandler implements Runnable {
    private static final long FIRST_POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
    private static final long MAX_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private enum State { IDLE, DEFERRED, WATCHING, DONE }

    private final Channel channel;
    private final SocketOps ops;
    private final Verdict verdict;
    private ChannelHandlerContext ctx;
    private State state = State.IDLE;
    private long pollDelayNanos = FIRST_POLL_NANOS;
    private boolean closeSeen;

    private HandshakeObserver(Channel channel, SocketOps ops, Verdict verdict) {
        this.channel = channel;
        this.ops = ops;
        this.verdict = verdict;
    }

    /** The channel's verdict: its gate's, else an observer's, put first in its pipeline when it has none. */
    static Verdict verdictOf(Channel channel, SocketOps ops) {
        Verdict existing = channel.attr(Verdict.KEY).get();
        if (existing != null) {
            return existing;
        }
        Verdict mine = new Verdict(channel);
        existing = channel.attr(Verdict.KEY).setIfAbsent(mine);
        if (existing != null) {
            return existing;
        }
        channel.pipeline().addFirst(SynGate.NAME, new HandshakeObserver(channel, ops, mine));
        return mine;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (channel.isActive()) {
            watch(); // asked after the connect: the handshake may be over, or still in flight
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (state != State.DONE && channel.attr(SynGate.KEY).get() == null) {
            // Removed for good (a gate taking over keeps the verdict going): nothing watches any more.
            fail(channel.isOpen() ? new IllegalStateException("the TFO observer was removed from the pipeline of "
                    + channel + " before the handshake completed") : new ClosedChannelException());
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (state == State.IDLE) {
            watch();
        }
        ctx.fireChannelActive();
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        ctx.flush();
        if (state == State.DEFERRED) {
            watch(); // the deferred connect's SYN leaves with this flush
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.WATCHING) {
            decide(ops.tcpInfo(channel)); // the peer's data came: its handshake is over
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (state == State.WATCHING || state == State.DEFERRED) {
            fail(new ConnectException("connection to " + channel.remoteAddress() + " closed before its handshake "
                    + "completed: refused or reset"));
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (state != State.DONE) {
            fail(new ClosedChannelException()); // closed by the application: no verdict
        }
        ctx.close(promise);
    }

    private void watch() {
        state = State.WATCHING;
        pollDelayNanos = FIRST_POLL_NANOS;
        run();
    }

    /** Polls {@code tcp_info}: decides, fails, or looks again later. */
    @Override
    public void run() {
        if (state != State.WATCHING || !channel.isRegistered()) {
            return;
        }
        TcpInfo info = ops.tcpInfo(channel);
        if (info == null) {
            if (channel.isOpen()) {
                decide(null); // a transport without tcp_info (NIO)
            }
            return; // closed: channelInactive decides
        }
        if (info.synSent()) {
            if (info.segsOut() == 0) {
                state = State.DEFERRED; // a deferred connect: its SYN leaves with a flush
                return;
            }
            reschedule();
            return;
        }
        if (info.state() == TcpInfo.STATE_CLOSE && !info.synAckSeen()) {
            String error = ops.socketError(channel);
            if (error != null || closeSeen) {
                fail(new ConnectException("connection to " + channel.remoteAddress() + " failed before its "
                        + "handshake completed: " + (error != null ? error : "refused or reset")));
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
        verdict.succeed(TfoResult.client(channel, info, null, -1));
    }

    private void fail(Throwable cause) {
        state = State.DONE;
        verdict.fail(cause);
    }
}
