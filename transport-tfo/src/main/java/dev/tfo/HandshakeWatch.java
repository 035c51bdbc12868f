package dev.tfo;

import dev.tfo.internal.SocketOps;
import dev.tfo.internal.TcpInfo;
import io.netty.channel.Channel;

import java.util.concurrent.TimeUnit;

/**
 * Reads a client socket's {@code tcp_info} on its event loop until its handshake is decided, and tells its
 * {@link Owner} once: over (a SYN-ACK came, even if the connection was reset since), failed (refused or reset
 * before it), or the socket closed before {@code tcp_info} could say. The one place that decides from
 * {@code tcp_info}, for the {@link SynGate} and the {@link HandshakeObserver}.
 *
 * <p>It looks at once when started (on loopback the SYN-ACK is usually in before the connect returned), then, where
 * the last handshake with the server tells when the SYN-ACK is due, just before that and every 1/32 of it (a client
 * that reads only once its write completed hears of the handshake from nothing else); else at doubling intervals
 * from 100 us up to 10 ms. A socket that has sent nothing yet (a deferred connect) is not polled: its owner starts
 * the watch again when the SYN leaves. (Not final: a {@link SynGate}'s connection attempt is its watch.)
 */
class HandshakeWatch implements Runnable {
    private static final long FIRST_POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
    private static final long MAX_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    /** Told what the watch found, once per start, on the channel's event loop. */
    interface Owner {
        /** The handshake is over; {@code info} is {@code null} when the transport cannot report it (NIO). */
        void handshakeOver(TcpInfo info);

        /** Refused or reset before the handshake was over; {@code error} is the socket's error, or {@code null}. */
        void handshakeFailed(String error);

        /** The socket closed before {@code tcp_info} could say (io_uring closes on a reset without telling). */
        void socketClosed();
    }

    private final Channel channel;
    private final SocketOps ops;
    /** Whom the watch tells; a {@link SynGate}'s attempt reaches its gate through it. */
    final Owner owner;
    private boolean watching;
    private long startNanos;
    /** When the last handshake with this server says the SYN-ACK is due (0: unknown). */
    private long expectedNanos;
    /** The next backoff poll's delay; at most {@link #MAX_POLL_NANOS}, an int (a smaller watch per connection). */
    private int delayNanos;
    /** tcp_info said CLOSE without an error once: the next look decides (the error may come late). */
    private boolean closeSeen;

    HandshakeWatch(Channel channel, SocketOps ops, Owner owner) {
        this.channel = channel;
        this.ops = ops;
        this.owner = owner;
    }

    /** Starts watching now, with a look right away. */
    void start(long expectedHandshakeNanos) {
        watching = true;
        startNanos = System.nanoTime();
        expectedNanos = expectedHandshakeNanos;
        delayNanos = (int) FIRST_POLL_NANOS;
        closeSeen = false;
        run();
    }

    /** No more looks; a poll already scheduled does nothing. */
    void stop() {
        watching = false;
    }

    boolean isWatching() {
        return watching;
    }

    /**
     * Whether a socket that has sent nothing yet is watched all the same: its owner will not start the watch again
     * when the SYN leaves (a gate already in {@code SYN_SENT} passes the write that sends it).
     */
    boolean watchesUnsentSyn() {
        return false;
    }

    /** Since {@link #start}. */
    long elapsedNanos() {
        return System.nanoTime() - startNanos;
    }

    /** Looks at {@code tcp_info}: tells the owner, or looks again later. */
    @Override
    public void run() {
        if (!watching || !channel.isRegistered()) {
            return; // decided, or deregistered: the owner starts again where the channel registers
        }
        TcpInfo info = ops.tcpInfo(channel);
        if (info == null) {
            watching = false;
            if (channel.isOpen()) {
                owner.handshakeOver(null); // a transport without tcp_info: nothing more to learn
            } else {
                owner.socketClosed();
            }
            return;
        }
        if (info.synSent()) {
            if (info.segsOut() == 0 && !watchesUnsentSyn()) {
                watching = false; // a deferred connect: its SYN leaves with a write, and the owner starts again
            } else {
                schedule();
            }
            return;
        }
        if (info.state() == TcpInfo.STATE_CLOSE && !info.synAckSeen()) {
            // Refused or reset before the handshake was over. Read the error now: the transport may close the
            // channel without reporting it (io_uring does).
            String error = ops.socketError(channel);
            if (error != null || closeSeen) {
                watching = false;
                owner.handshakeFailed(error);
                return;
            }
            closeSeen = true;
            schedule();
            return;
        }
        watching = false;
        owner.handshakeOver(info); // over, even if reset since: a SYN-ACK came, or the server's data did
    }

    private void schedule() {
        long elapsed = elapsedNanos();
        long delay;
        if (expectedNanos > 0 && elapsed < 2 * expectedNanos) {
            // Just before the SYN-ACK is due, then every 1/32 of a handshake.
            long due = expectedNanos - expectedNanos / 16;
            delay = elapsed < due ? due - elapsed : Math.max(FIRST_POLL_NANOS, expectedNanos / 32);
        } else {
            delay = delayNanos;
            delayNanos = (int) Math.min(delayNanos * 2L, MAX_POLL_NANOS);
        }
        channel.eventLoop().schedule(this, delay, TimeUnit.NANOSECONDS);
    }
}
