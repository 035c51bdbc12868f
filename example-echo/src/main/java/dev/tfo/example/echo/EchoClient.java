package dev.tfo.example.echo;

import dev.tfo.TfoBootstraps;
import dev.tfo.TfoChannels;
import dev.tfo.TfoClientOptions;
import dev.tfo.TfoCounters;
import dev.tfo.TfoResult;
import dev.tfo.TfoResultListener;
import dev.tfo.TfoSynDataPolicy;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A TCP Fast Open echo client: each connection sends the payload (in the SYN when the kernel holds a cookie for
 * the server), reads until every byte is echoed, compares them, and closes. Two ways, as a Netty user writes
 * them: {@link Mode#FIRST_FLIGHT} hands the payload to {@code TfoBootstraps.connect}; {@link
 * Mode#CONNECT_THEN_WRITE} connects, then writes the payload once the channel is active, with the library's
 * handler put on each channel at its init (as a framework hook would).
 *
 * <pre>{@code
 * EchoClient client = new EchoClient(group, NettyTransport.EPOLL, new InetSocketAddress("198.18.42.10", 2222),
 *         Duration.ofSeconds(10));
 * ConnectionResult first = client.echo(1, "hello".getBytes(StandardCharsets.UTF_8));  // COOKIE_REQUESTED
 * ConnectionResult second = client.echo(2, "hello".getBytes(StandardCharsets.UTF_8)); // SYN_DATA_ACKED
 * }</pre>
 */
public final class EchoClient {
    /** How a connection sends its payload. */
    public enum Mode {
        /** {@code TfoBootstraps.connect(bootstrap, server, payload)}: the payload is the first flight. */
        FIRST_FLIGHT,
        /** {@code connect()}, then {@code writeAndFlush(payload)} in {@code channelActive}. */
        CONNECT_THEN_WRITE
    }

    private final Bootstrap bootstrap;
    private final InetSocketAddress server;
    private final Duration timeout;
    private final Mode mode;
    /** The options of {@link Mode#CONNECT_THEN_WRITE}: one object for all connections (its cookie memory). */
    private final TfoClientOptions connectThenWriteOptions;
    /** Its channels from TfoChannels, with the first flight's options. */
    private final Bootstrap firstFlightBootstrap;

    /**
     * A client that sends each payload as a first flight ({@link Mode#FIRST_FLIGHT}).
     *
     * @param group     the event loops (of {@code transport})
     * @param transport the transport, whose socket channel is used
     * @param server    the echo server
     * @param timeout   for the connect, and again for the whole echo
     */
    public EchoClient(EventLoopGroup group, NettyTransport transport, InetSocketAddress server, Duration timeout) {
        this(group, transport, server, timeout, Mode.FIRST_FLIGHT);
    }

    /**
     * A client that sends each payload the given way.
     *
     * @param group     the event loops (of {@code transport})
     * @param transport the transport, whose socket channel is used
     * @param server    the echo server
     * @param timeout   for the connect, and again for the whole echo
     * @param mode      how each connection sends its payload
     */
    public EchoClient(EventLoopGroup group, NettyTransport transport, InetSocketAddress server, Duration timeout,
                      Mode mode) {
        this(group, transport, server, timeout, mode, null);
    }

    /**
     * A client that sends each payload the given way and tells each connection's result to {@code results}.
     *
     * @param group     the event loops (of {@code transport})
     * @param transport the transport, whose socket channel is used
     * @param server    the echo server
     * @param timeout   for the connect, and again for the whole echo
     * @param mode      how each connection sends its payload
     * @param results   told the result of every connection (e.g. a {@link dev.tfo.micrometer.TfoMetrics}), or
     *                  {@code null}
     */
    public EchoClient(EventLoopGroup group, NettyTransport transport, InetSocketAddress server, Duration timeout,
                      Mode mode, TfoResultListener results) {
        TfoClientOptions.Builder firstFlight = TfoClientOptions.builder();
        // The echo payload is safe to replay (an echo), which the example vouches for: any first write may ride
        // in the SYN. A client of a real protocol keeps the default TfoSynDataPolicy.replaySafe().
        TfoClientOptions.Builder laterWrite = TfoClientOptions.builder().synDataPolicy(TfoSynDataPolicy.any());
        if (results != null) {
            firstFlight.resultListener(results);
            laterWrite.resultListener(results);
        }
        int connectTimeout = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        // The handler is set per connection: clone().handler(check).
        ChannelHandler none = new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
            }
        };
        this.bootstrap = new Bootstrap().group(group).channel(transport.socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeout).handler(none);
        this.firstFlightBootstrap = new Bootstrap().group(group)
                .channelFactory(TfoChannels.clientFactory(new ReflectiveChannelFactory<>(transport.socketChannel()),
                        firstFlight.build()))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeout).handler(none);
        this.server = server;
        this.timeout = timeout;
        this.mode = mode;
        this.connectThenWriteOptions = laterWrite.build();
    }

    /**
     * One connection: connect with {@code payload} as the first flight, read the echo, compare, close.
     *
     * @param index   the connection's number, for the result
     * @param payload the bytes to send, not empty
     * @throws EchoException when the connection fails, or the server closes or stalls before echoing everything
     */
    public ConnectionResult echo(int index, byte[] payload) throws EchoException {
        EchoCheck check = new EchoCheck(payload);
        TfoCounters before = countersOrNull();
        long start = System.nanoTime();
        Future<Channel> connect = mode == Mode.FIRST_FLIGHT
                ? TfoBootstraps.connect(firstFlightBootstrap.clone().handler(check), server,
                        Unpooled.wrappedBuffer(payload))
                : connectThenWrite(check, payload);
        String where = "connection " + index + " to " + Main.hostPort(server);
        if (!connect.awaitUninterruptibly(timeout.toMillis() + 1000)) {
            connect.cancel(false);
            throw new EchoException(where + ": no connection within " + timeout.toSeconds() + " s");
        }
        if (!connect.isSuccess()) {
            throw new EchoException(where + " failed: " + EchoException.describe(connect.cause()), connect.cause());
        }
        Channel channel = connect.getNow();
        try {
            // Decided once the handshake is over, which the connect future already waited for.
            Future<TfoResult> tfo = TfoResult.of(channel).awaitUninterruptibly();
            check.done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            channel.close().syncUninterruptibly();
            if (!tfo.isSuccess()) {
                throw new EchoException(where + ": no TFO outcome: " + EchoException.describe(tfo.cause()));
            }
            TfoCounters after = countersOrNull();
            return new ConnectionResult(index, payload.length, check.received, check.firstMismatch,
                    tfo.getNow().outcome(), tfo.getNow().reason(), check.lastByteNanos - start,
                    before == null || after == null ? null : after.minus(before));
        } catch (ExecutionException e) {
            throw new EchoException(where + ": " + EchoException.describe(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            throw new EchoException(where + ": only " + check.received + " of " + payload.length
                    + " bytes echoed within " + timeout.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EchoException(where + ": interrupted");
        } finally {
            channel.close();
        }
    }

    /** Connects, and writes the payload once the channel is active: the pattern every Netty user writes. */
    private Future<Channel> connectThenWrite(EchoCheck check, byte[] payload) {
        ChannelFuture connect = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                TfoChannels.client(ch, connectThenWriteOptions);
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelActive(ChannelHandlerContext ctx) {
                        ctx.writeAndFlush(Unpooled.wrappedBuffer(payload));
                        ctx.fireChannelActive();
                    }
                }, check);
            }
        }).connect(server);
        Promise<Channel> connected = connect.channel().eventLoop().newPromise();
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                connected.tryFailure(f.cause());
                return;
            }
            // With a cookie the connect completes before the handshake: wait for the verdict, as the
            // first-flight path does, so that both modes report the same way.
            TfoResult.of(connect.channel()).addListener(r -> {
                if (r.isSuccess()) {
                    connected.trySuccess(connect.channel());
                } else {
                    connected.tryFailure(r.cause());
                }
            });
        });
        return connected;
    }

    /** The namespace's TFO counters, or {@code null} where there are none (not Linux). */
    static TfoCounters countersOrNull() {
        try {
            return TfoCounters.snapshot();
        } catch (UncheckedIOException | IllegalArgumentException e) {
            return null;
        }
    }

    /** Compares every echoed byte with the one sent; completes {@link #done} once all came back. */
    private static final class EchoCheck extends ChannelInboundHandlerAdapter {
        final CompletableFuture<Void> done = new CompletableFuture<>();
        private final byte[] expected;
        volatile int received;
        volatile int firstMismatch = -1;
        volatile long lastByteNanos;

        EchoCheck(byte[] expected) {
            this.expected = expected;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                int offset = received;
                for (int i = buf.readerIndex(); i < buf.writerIndex(); i++, offset++) {
                    if (firstMismatch < 0 && (offset >= expected.length || buf.getByte(i) != expected[offset])) {
                        firstMismatch = offset;
                    }
                }
                received = offset;
                lastByteNanos = System.nanoTime();
            } finally {
                buf.release();
            }
            if (received >= expected.length) {
                done.complete(null);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done.completeExceptionally(new EchoException("the server closed the connection after echoing "
                    + received + " of " + expected.length + " bytes"));
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.completeExceptionally(new EchoException(EchoException.describe(cause), cause));
            ctx.close();
        }
    }
}
