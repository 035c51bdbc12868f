package dev.tfo;

import dev.tfo.internal.SocketOps;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.Promise;

import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;

/**
 * One {@link TfoBootstraps#connect}: register a channel, make sure its pipeline starts with a first-flight
 * {@link SynGate}, write and flush the first flight, connect, and complete the caller's promise once the handshake
 * verdict and the write are both in. As hand-written Netty TFO does: the write is queued before the connect, Netty
 * sends it in the SYN as it connects (the gate holds the flush until the connect completed), and the gate adds one
 * look at {@code tcp_info}, the proof.
 *
 * <p>Ownership of the first flight: the connector's until it is written to the channel (it releases it when
 * registration fails or the caller cancels first), the channel's afterwards (the gate and Netty release it on
 * every path). A cancel of the returned future at any moment closes the channel, which fails whatever is
 * pending; a cancelled or locally closed connection teaches the backoff nothing.
 *
 * <p>One object listens to everything a connect waits for (the registration, the caller's cancel, the write, the
 * verdict): no listener object per future.
 */
final class FirstFlightConnector implements GenericFutureListener<Future<Object>>, Runnable {
    private final Channel channel;
    private final SocketAddress remote;
    private final TfoClientOptions options;
    private final Promise<Channel> promise;
    private ByteBuf firstFlight;
    private SynGate gate;
    private ChannelFuture write;
    private ChannelFuture connect;

    private FirstFlightConnector(Channel channel, SocketAddress remote, ByteBuf firstFlight, TfoClientOptions options,
                                 Promise<Channel> promise) {
        this.channel = channel;
        this.remote = remote;
        this.firstFlight = firstFlight;
        this.options = options;
        this.promise = promise;
    }

    /**
     * Set while {@link #connect} has the bootstrap make its channel (Netty calls the channel factory in the caller's
     * thread): a {@link TfoChannels#clientFactory} gate made then is made for a first flight, not made twice.
     */
    private static final FastThreadLocal<Boolean> MAKING_CHANNEL = new FastThreadLocal<>();

    /** Whether the channel being made now is for a first flight ({@link #connect} is registering it). */
    static boolean makingFirstFlightChannel() {
        return MAKING_CHANNEL.get() == Boolean.TRUE;
    }

    /**
     * Starts a connect; takes ownership of {@code firstFlight}.
     *
     * @throws IllegalArgumentException when the bootstrap's channel is not TCP (the buffer is released)
     */
    static Future<Channel> connect(Bootstrap bootstrap, SocketAddress remote, ByteBuf firstFlight,
                                   TfoClientOptions options) {
        ChannelFuture registration;
        MAKING_CHANNEL.set(Boolean.TRUE);
        try {
            registration = bootstrap.register(); // validates the bootstrap (group, channel, handler)
        } catch (RuntimeException e) {
            firstFlight.release();
            throw e;
        } finally {
            MAKING_CHANNEL.remove();
        }
        Channel channel = registration.channel();
        if (registration.isDone() && !registration.isSuccess()) {
            firstFlight.release();
            return GlobalEventExecutor.INSTANCE.<Channel>newPromise().setFailure(registration.cause());
        }
        if (!(channel instanceof SocketChannel)) {
            firstFlight.release();
            channel.close();
            throw new IllegalArgumentException("bootstrap: channel " + channel.getClass().getName()
                    + " is not a TCP SocketChannel");
        }
        Promise<Channel> promise = channel.eventLoop().newPromise();
        FirstFlightConnector connector = new FirstFlightConnector(channel, remote, firstFlight, options, promise);
        promise.addListener(connector);
        registration.addListener(connector);
        return promise;
    }

    @Override
    public void operationComplete(Future<Object> future) {
        Object f = future;
        if (f == promise) {
            if (future.isCancelled()) {
                cancelled();
            }
        } else if (f == write) {
            gate.verdict.whenDecided(this); // a gate removed from the pipeline may decide later
        } else {
            registered(future);
        }
    }

    /** The caller cancelled: close, which fails whatever is pending and releases what is held. */
    private void cancelled() {
        SynGate g = Gates.of(channel);
        if (g != null) {
            g.abort(); // at once, even with data out in a SYN
        } else {
            channel.close();
        }
    }

    private void registered(Future<?> registration) {
        if (!registration.isSuccess()) {
            releaseFirstFlight();
            promise.tryFailure(registration.cause());
            return;
        }
        if (promise.isDone()) { // cancelled before the registration completed
            releaseFirstFlight();
            channel.close();
            return;
        }
        try {
            gate = Gates.installForFirstFlight(channel, options, SocketOps.NATIVE);
        } catch (RuntimeException e) {
            releaseFirstFlight();
            channel.close();
            promise.tryFailure(e);
            return;
        }
        ByteBuf data = firstFlight;
        firstFlight = null; // the channel owns it now
        // Written before the connect (an SslHandler wraps its ClientHello now, which then rides in the SYN); the
        // gate keeps the flush until the connect completed.
        write = channel.writeAndFlush(data);
        connect = channel.connect(remote);
        // A write the SYN carried completes with the handshake, the rest once written: then the verdict is in.
        write.addListener(this);
    }

    /** The first flight is written and the verdict is in: the caller's promise completes. */
    @Override
    public void run() {
        Throwable cause = cause(gate.verdict.failure(), write, connect);
        if (cause == null) {
            if (!promise.trySuccess(channel)) {
                channel.close(); // cancelled at the last moment
            }
            return;
        }
        channel.close();
        promise.tryFailure(cause);
    }

    private void releaseFirstFlight() {
        ByteBuf data = firstFlight;
        firstFlight = null;
        if (data != null) {
            data.release();
        }
    }

    /**
     * The most telling failure: a bare ClosedChannelException only when nothing says more. None when the verdict
     * is in and the flight written, even if a first connect failed (the gate connected again, plain).
     */
    private static Throwable cause(Throwable v, Future<?> write, Future<?> connect) {
        if (v == null && write.isSuccess()) {
            return null;
        }
        Throwable c = connect.isDone() ? connect.cause() : null;
        if (c != null && !(c instanceof ClosedChannelException)) {
            return c; // e.g. a channel that could not be set up
        }
        Throwable w = write.isSuccess() ? null : write.cause();
        if (v == null) {
            return w;
        }
        if (v instanceof ClosedChannelException && w != null && !(w instanceof ClosedChannelException)) {
            return w;
        }
        return v;
    }
}
