package dev.tfo;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.unix.Errors;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.Promise;

import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;

/**
 * One {@link TfoBootstraps#connect}: register, write the first flight, connect (Netty sends the first
 * written buffer with {@code MSG_FASTOPEN}), let the gate flush once connected, and complete the caller's
 * promise once both the handshake verdict and the write are in.
 *
 * <p>Buffer ownership: the caller's reference goes to {@code write()}, which Netty releases once written or
 * on failure. The connector holds ONE extra reference until the attempt is over, so that a connect the
 * kernel refuses with {@code EOPNOTSUPP} (the sysctl was turned off after Netty initialised) can be retried
 * without TFO with the very same bytes. Every path releases that extra reference exactly once.
 */
final class FirstFlightConnector implements GenericFutureListener<Future<Object>> {
    /** -EOPNOTSUPP, as Netty's native layer reports it. */
    private static final int EOPNOTSUPP = -95;

    private final Bootstrap bootstrap;
    private final SocketAddress remote;
    private final ByteBuf data;
    private final int readerIndex;
    private final String notAttempted;
    private final boolean retry;
    private final TfoBackoff backoff;
    private final Promise<Channel> promise;
    private Channel channel;
    private ChannelFuture write;
    private Future<TfoResult> verdict;
    private int pending = 2;

    private FirstFlightConnector(Bootstrap bootstrap, SocketAddress remote, ByteBuf data, String notAttempted,
                                 boolean retry, TfoBackoff backoff, Promise<Channel> promise) {
        this.bootstrap = bootstrap;
        this.remote = remote;
        this.data = data;
        this.readerIndex = data.readerIndex();
        this.notAttempted = notAttempted;
        this.retry = retry;
        this.backoff = backoff;
        this.promise = promise;
    }

    /**
     * Starts a connect; takes ownership of {@code data}.
     *
     * @param notAttempted why TFO is deliberately not attempted ({@code null}: attempt it)
     * @param backoff      taught the outcome once the attempt is over
     */
    static Future<Channel> connect(Bootstrap bootstrap, SocketAddress remote, ByteBuf data, String notAttempted,
                                   TfoBackoff backoff) {
        return start(bootstrap, remote, data, notAttempted, false, backoff, null);
    }

    private static Future<Channel> start(Bootstrap bootstrap, SocketAddress remote, ByteBuf data,
                                         String notAttempted, boolean retry, TfoBackoff backoff,
                                         Promise<Channel> existing) {
        ChannelFuture registration = bootstrap.register();
        Promise<Channel> promise = existing;
        if (promise == null) {
            promise = registration.isDone() && !registration.isSuccess()
                    ? GlobalEventExecutor.INSTANCE.newPromise()
                    : registration.channel().eventLoop().newPromise();
        }
        registration.addListener(
                new FirstFlightConnector(bootstrap, remote, data, notAttempted, retry, backoff, promise));
        return promise;
    }

    private void registered(ChannelFuture registration) {
        if (!registration.isSuccess()) {
            data.release();
            promise.tryFailure(registration.cause());
            return;
        }
        channel = registration.channel();
        FirstFlightGate gate = channel.pipeline().get(FirstFlightGate.class);
        if (gate == null) {
            data.release();
            channel.close();
            promise.tryFailure(new IllegalStateException(
                    "bootstrap: its pipeline lost the first-flight handler installed by TfoBootstraps.client"));
            return;
        }
        if (notAttempted != null) {
            gate.forceNotAttempted(notAttempted);
        }
        data.retain(); // the connector's own reference, see the class comment
        write = channel.write(data);
        // Through the whole pipeline: an SslHandler wraps its ClientHello now, so that it is the first flight;
        // the gate holds this flush until the connect has completed.
        channel.flush();
        channel.connect(remote);
        verdict = gate.watcher().result();
        write.addListener(this);
        verdict.addListener(this);
    }

    /** Called once for the registration, then twice: when the write and when the handshake verdict are done. */
    @Override
    public void operationComplete(Future<Object> done) {
        if (channel == null) {
            registered((ChannelFuture) (Future<?>) done);
            return;
        }
        if (--pending > 0) {
            if (!done.isSuccess()) {
                // E.g. the connect failed (EOPNOTSUPP) while the first flight, already marked flushed, still
                // waits in the outbound buffer of an open channel: closing fails that write, so both are in.
                channel.close();
            }
            return;
        }
        Throwable cause = cause(verdict, write);
        if (cause == null) {
            data.release();
            backoff.record(remote, verdict.getNow().outcome());
            promise.trySuccess(channel);
            return;
        }
        channel.close();
        if (!retry && isEopnotsupp(cause)) {
            // The kernel refused MSG_FASTOPEN: client TFO was switched off after Netty read the sysctl.
            // Nothing was sent; our extra reference becomes the retry's own.
            data.readerIndex(readerIndex);
            Bootstrap plain = bootstrap.clone().option(ChannelOption.TCP_FASTOPEN_CONNECT, false);
            start(plain, remote, data, "the kernel refused data in the SYN (EOPNOTSUPP: net.ipv4.tcp_fastopen "
                    + "changed after Netty initialised); retried as a plain connect", true, backoff, promise);
            return;
        }
        data.release();
        backoff.record(remote, null);
        promise.tryFailure(cause);
    }

    /** The most telling failure: a bare ClosedChannelException only when nothing says more. */
    private static Throwable cause(Future<?> verdict, Future<?> write) {
        Throwable v = verdict.isSuccess() ? null : verdict.cause();
        Throwable w = write.isSuccess() ? null : write.cause();
        if (v == null) {
            return w;
        }
        if (v instanceof ClosedChannelException && w != null && !(w instanceof ClosedChannelException)) {
            return w;
        }
        return v;
    }

    private static boolean isEopnotsupp(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof Errors.NativeIoException && ((Errors.NativeIoException) t).expectedErr() == EOPNOTSUPP) {
                return true;
            }
        }
        return false;
    }
}
