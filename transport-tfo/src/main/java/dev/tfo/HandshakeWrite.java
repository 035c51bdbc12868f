package dev.tfo;

import io.netty.channel.ChannelProgressiveFuture;
import io.netty.channel.ChannelProgressiveFutureListener;
import io.netty.channel.ChannelPromise;
import io.netty.channel.unix.Errors;

import java.nio.channels.ClosedChannelException;

/**
 * One write that may reach the kernel before the handshake is over (made by the gate, possibly before its
 * connect made the attempt). During Netty's TFO connect its progress is what rode in the SYN, and its completion
 * means it rode whole (done with the handshake, as in plain Netty). During the handshake the kernel takes its
 * bytes only once the handshake is over: the first of them taken makes the attempt look at tcp_info while the
 * socket is still open (a reset may close it before anything else is seen); its completion settles the writes
 * the SYN carried first (promises complete in write order), and a failure names the server.
 */
final class HandshakeWrite implements ChannelProgressiveFutureListener {
    private final SynGate gate;
    private final ChannelPromise user;

    HandshakeWrite(SynGate gate, ChannelPromise user) {
        this.gate = gate;
        this.user = user;
    }

    @Override
    public void operationProgressed(ChannelProgressiveFuture future, long progress, long total) {
        SynGate g = gate;
        if (g.state == SynGate.State.CONNECTING) {
            g.attempt.synBytes = (int) progress; // Netty's sendto(MSG_FASTOPEN) at connect: these rode in the SYN
        } else if (g.state == SynGate.State.SYN_SENT && g.channel.isOpen()) {
            g.attempt.run(); // the kernel took bytes after the SYN: the handshake is over
        }
    }

    @Override
    public void operationComplete(ChannelProgressiveFuture f) {
        SynGate g = gate;
        Attempt a = g.attempt;
        if (g.state == SynGate.State.SYN_SENT && g.channel.isOpen()) {
            a.run(); // the kernel took (or refused) the bytes: tcp_info tells if the handshake is over
        }
        if (f.isSuccess()) {
            if (g.state == SynGate.State.CONNECTING) {
                a.carry(user); // it rode whole in the SYN of Netty's connect
                return;
            }
            if (a != null) {
                a.settleCarried(null);
            }
            user.trySuccess();
            return;
        }
        Throwable cause = f.cause();
        if (g.state == SynGate.State.SYN_SENT && resetAfterHandshake(cause)) {
            a.overAfterAll(); // the write failed on a reset that only an established connection gets
        }
        if (!(cause instanceof ClosedChannelException) && g.verdict.result() == null) {
            cause = g.named("failed before its handshake completed: " + cause.getMessage(), cause);
        }
        if (a != null) {
            a.settleCarried(cause);
        }
        user.tryFailure(cause);
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
}
