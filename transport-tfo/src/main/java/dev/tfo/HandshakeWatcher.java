package dev.tfo;

import dev.tfo.internal.TcpInfo;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeUnit;

/**
 * Watches a client channel's handshake and decides its {@link TfoResult} once the kernel has the SYN-ACK's
 * verdict. Polls {@code tcp_info} on the channel's event loop with a growing interval (0.1 ms doubling to
 * 10 ms), and at once whenever the gate sees the first read; never blocks. One per channel.
 */
final class HandshakeWatcher implements Runnable {
    private static final AttributeKey<HandshakeWatcher> KEY = AttributeKey.valueOf(HandshakeWatcher.class, "watcher");
    private static final long FIRST_POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
    private static final long MAX_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final Channel channel;
    private final Promise<TfoResult> result;
    /** Whether a {@link FirstFlightGate} reports the close ({@link #closed()}); else a close listener does. */
    private final boolean gated;
    private final long createdNanos = System.nanoTime();
    private String notAttempted;
    private boolean started;
    private long nextDelayNanos = FIRST_POLL_NANOS;

    private HandshakeWatcher(Channel channel, boolean gated) {
        this.channel = channel;
        this.result = channel.eventLoop().newPromise();
        this.gated = gated;
    }

    /**
     * The channel's watcher: its gate's (kept in a channel attribute, as the gate leaves the pipeline when the
     * channel closes), or one created on first use and watching at once.
     */
    static HandshakeWatcher of(Channel channel) {
        HandshakeWatcher existing = channel.attr(KEY).get();
        if (existing != null) {
            return existing;
        }
        HandshakeWatcher created = new HandshakeWatcher(channel, false);
        HandshakeWatcher raced = channel.attr(KEY).setIfAbsent(created);
        if (raced != null) {
            return raced;
        }
        // A channel we did not connect: watch it from now on, the attempt being unknown.
        channel.eventLoop().execute(created::start);
        return created;
    }

    /** Only the gate: the watcher is owned by a gate that will call {@link #start()} after connecting. */
    static HandshakeWatcher forGate(Channel channel) {
        HandshakeWatcher created = new HandshakeWatcher(channel, true);
        HandshakeWatcher raced = channel.attr(KEY).setIfAbsent(created);
        return raced != null ? raced : created;
    }

    Future<TfoResult> result() {
        return result;
    }

    /** Records, before the connect, why TFO is not attempted ({@code null}: it is). */
    void notAttempted(String reason) {
        this.notAttempted = reason;
    }

    /** Starts watching; called on the event loop once the connect has completed. */
    void start() {
        if (started) {
            return;
        }
        started = true;
        if (!gated) {
            channel.closeFuture().addListener(f -> closed());
        }
        run();
    }

    /** The channel closed: if the handshake had no verdict yet, it never will. */
    void closed() {
        if (!result.isDone()) {
            fail(new ClosedChannelException());
        }
    }

    /** Something arrived from the peer: the handshake is surely over, decide now. */
    void poke() {
        if (started) {
            run();
        }
    }

    void fail(Throwable cause) {
        result.tryFailure(cause);
    }

    @Override
    public void run() {
        if (result.isDone()) {
            return;
        }
        if (!channel.isActive()) {
            if (!channel.isOpen()) {
                fail(new ClosedChannelException());
            } else {
                reschedule();
            }
            return;
        }
        TcpInfo info = TcpInfo.read(channel);
        if (info != null && (info.synSent() || info.state() == TcpInfo.STATE_CLOSE)) {
            // SYN_SENT: the handshake is not over. CLOSE: it failed (refused or reset after the data left in
            // the SYN); Netty is about to surface the error through exceptionCaught or the close, which fail
            // the result. Either way this is not yet a verdict.
            reschedule();
            return;
        }
        TfoResult verdict = TfoResult.client(info, notAttempted);
        result.trySuccess(CookieRequests.explain(channel.remoteAddress(), verdict, createdNanos));
    }

    private void reschedule() {
        channel.eventLoop().schedule(this, nextDelayNanos, TimeUnit.NANOSECONDS);
        nextDelayNanos = Math.min(nextDelayNanos * 2, MAX_POLL_NANOS);
    }
}
