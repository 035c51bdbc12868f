package dev.tfo;

import dev.tfo.internal.SocketOps;
import dev.tfo.internal.TcpInfo;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;

/**
 * Watches the handshake of a client channel nobody set up for TFO, for {@link TfoResult#of}: it changes
 * nothing on the channel, reads {@code tcp_info} from the moment the channel is active until the handshake is
 * over (a {@link HandshakeWatch}), and decides the channel's {@link Verdict}. While the kernel holds a deferred
 * connect (no SYN sent yet: the application set {@code TCP_FASTOPEN_CONNECT} itself) it does not poll; the flush
 * that sends the SYN wakes it.
 * A {@link SynGate} installed before the connect takes its place and its verdict ({@link Gates}).
 */
final class HandshakeObserver extends ChannelDuplexHandler implements HandshakeWatch.Owner {
    private enum State { IDLE, WATCHING, DONE }

    private final Channel channel;
    private final SocketOps ops;
    private final Verdict verdict;
    private final HandshakeWatch watch;
    private State state = State.IDLE;

    private HandshakeObserver(Channel channel, SocketOps ops, Verdict verdict) {
        this.channel = channel;
        this.ops = ops;
        this.verdict = verdict;
        this.watch = new HandshakeWatch(channel, ops, this);
    }

    /** The channel's verdict: its gate's, else an observer's, put first in its pipeline when it has none. */
    static Verdict verdictOf(Channel channel, SocketOps ops) {
        Verdict existing = Verdict.of(channel);
        if (existing != null) {
            return existing; // the gate's (the usual case), or an observer's asked before
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
        if (channel.isActive()) {
            watch(); // asked after the connect: the handshake may be over, or still in flight
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (state != State.DONE && verdict.gate == null) {
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
        if (state == State.WATCHING && !watch.isWatching()) {
            watch.start(0); // the deferred connect's SYN leaves with this flush
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
        if (state == State.WATCHING) {
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

    @Override
    public void handshakeOver(TcpInfo info) {
        if (state == State.WATCHING) {
            decide(info);
        }
    }

    @Override
    public void handshakeFailed(String error) {
        if (state == State.WATCHING) {
            fail(new ConnectException("connection to " + channel.remoteAddress() + " failed before its handshake "
                    + "completed: " + (error != null ? error : "refused or reset")));
        }
    }

    @Override
    public void socketClosed() {
        // channelInactive decides
    }

    private void watch() {
        state = State.WATCHING;
        watch.start(0);
    }

    private void decide(TcpInfo info) {
        state = State.DONE;
        watch.stop();
        verdict.succeed(TfoResult.client(channel, info, null, -1));
    }

    private void fail(Throwable cause) {
        state = State.DONE;
        watch.stop();
        verdict.fail(cause);
    }
}
