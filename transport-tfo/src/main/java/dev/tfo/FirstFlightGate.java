package dev.tfo;

import dev.tfo.internal.Procfs;
import dev.tfo.internal.Transport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The handler, nearest the head of a client pipeline, that makes a first flight ride in the SYN safely.
 *
 * <ul>
 *   <li>Holds back every {@code flush()} until the connect has completed. Netty sends the first written
 *       {@code ByteBuf} with {@code sendto(MSG_FASTOPEN)} at connect; an earlier flush would fail the write
 *       with {@code NotYetConnectedException} (and on io_uring release memory the kernel still reads), and
 *       no flush at all would leave the data unsent when no cookie is cached.</li>
 *   <li>Bounds the handshake by {@code CONNECT_TIMEOUT_MILLIS}: with a cookie, Netty completes the connect
 *       before the SYN-ACK, so its own connect timeout no longer applies.</li>
 *   <li>Feeds the {@link HandshakeWatcher} that decides the {@link TfoResult}, and fails it when the
 *       connection dies before the handshake is over (e.g. refused after the data left in the SYN).</li>
 * </ul>
 */
final class FirstFlightGate extends ChannelDuplexHandler implements GenericFutureListener<Future<Object>>, Runnable {
    private ChannelHandlerContext ctx;
    private HandshakeWatcher watcher;
    private SocketAddress remote;
    private boolean connected;
    private String forcedReason;
    private ScheduledFuture<?> timeout;

    /** Why TFO will not be attempted whatever the channel says (backoff, retry); call before connecting. */
    void forceNotAttempted(String reason) {
        this.forcedReason = reason;
    }

    HandshakeWatcher watcher() {
        return watcher;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.watcher = HandshakeWatcher.forGate(ctx.channel());
    }

    @Override
    public void connect(ChannelHandlerContext ctx, SocketAddress remoteAddress, SocketAddress localAddress,
                        ChannelPromise promise) {
        this.remote = remoteAddress;
        watcher.notAttempted(forcedReason != null ? forcedReason : notAttemptedReason(ctx.channel()));
        int timeoutMillis = ctx.channel().config().getConnectTimeoutMillis();
        if (timeoutMillis > 0) {
            timeout = ctx.executor().schedule(this, timeoutMillis, TimeUnit.MILLISECONDS);
            watcher.result().addListener(this);
        }
        ctx.connect(remoteAddress, localAddress, promise);
        promise.addListener(this);
    }

    /** The verdict is in: the timeout is moot. The connect completed: release the held flush, start watching. */
    @Override
    public void operationComplete(Future<Object> future) {
        if ((Future<?>) future == watcher.result()) {
            timeout.cancel(false);
            return;
        }
        if (!future.isSuccess()) {
            watcher.fail(future.cause());
            return;
        }
        connected = true;
        // Always flush: it sends whatever earlier flushes were held back, and Netty marked the first flight
        // flushed when it tried MSG_FASTOPEN, so without a cookie that data waits for a flush nobody else issues.
        ctx.flush();
        watcher.start();
    }

    /** Before the connect has completed a flush is held back: the flush after the connect sends it all. */
    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (connected) {
            ctx.flush();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        watcher.poke();
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        watcher.closed();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        watcher.fail(cause);
        ctx.fireExceptionCaught(cause);
    }

    /** The handshake timeout fired. */
    @Override
    public void run() {
        if (!watcher.result().isDone()) {
            int millis = ctx.channel().config().getConnectTimeoutMillis();
            watcher.fail(new ConnectTimeoutException(
                    "handshake with " + remote + " not completed within " + millis + " ms (CONNECT_TIMEOUT_MILLIS)"));
            ctx.close();
        }
    }

    /** Why Netty will not send data in this channel's SYN, or {@code null} when it will try. */
    static String notAttemptedReason(Channel channel) {
        Transport transport = Transport.of(channel);
        if (!transport.isNative()) {
            return "transport " + channel.getClass().getSimpleName()
                    + " cannot send data in a SYN (use epoll or io_uring)";
        }
        if (!Boolean.TRUE.equals(channel.config().getOption(ChannelOption.TCP_FASTOPEN_CONNECT))) {
            return "TCP_FASTOPEN_CONNECT is not enabled on this channel (use TfoBootstraps.client)";
        }
        if (!transport.nettyClientTfo()) {
            return "Netty's " + transport.displayName() + " transport saw client TFO off (bit 0x1 of "
                    + "net.ipv4.tcp_fastopen) when it initialised; live value: "
                    + Procfs.readInt(Procfs.TCP_FASTOPEN).stream().mapToObj(Integer::toString).findFirst()
                            .orElse("unreadable");
        }
        ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
        if (out == null || out.totalPendingWriteBytes() == 0) {
            return "no data was written before the connect (write the first flight in initChannel, "
                    + "flush in channelActive)";
        }
        return null;
    }
}
