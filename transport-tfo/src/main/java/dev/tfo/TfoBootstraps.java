package dev.tfo;

import dev.tfo.internal.NettyVersion;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;

import java.net.SocketAddress;

import static java.util.Objects.requireNonNull;

/**
 * The first flight: a connect whose first bytes ride in the SYN, on any client {@code Bootstrap}. It is for a
 * client that has its request in hand as it connects; everything else of TFO (servers, and clients that connect,
 * then write, Netty's usual pattern) comes from the channel factories of {@link TfoChannels}.
 *
 * <pre>{@code
 * // a bootstrap whose channels come from TfoChannels (its options apply), or any client bootstrap (the defaults)
 * Bootstrap b = new Bootstrap().group(group)
 *         .channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new))
 *         .handler(new ReplyHandler());
 *
 * // the future completes once the handshake is over and the bytes are written
 * TfoBootstraps.connect(b, server, Unpooled.wrappedBuffer(request))
 *         .addListener(f -> TfoResult.of((Channel) f.getNow()).addListener(r -> log.info("{}", r.getNow())));
 * }</pre>
 *
 * <p>Works on Netty's epoll and io_uring transports (whichever the bootstrap's channels use), on Netty 4.1 and
 * 4.2. On NIO, kqueue, a kernel without client TFO, or with no cookie cached yet, the same bytes are delivered by
 * a plain connect and write; {@link TfoResult} says which happened and why.
 *
 * <p>Needs Netty 4.1.76.Final or later (every 4.2 release): on an older Netty {@link #connect} throws an
 * {@link IllegalStateException} naming the version found and the version needed.
 *
 * <p>Data in a SYN may be delivered twice and is processed before the handshake completes (RFC 7413, section
 * 6). A first flight given to {@link #connect} always rides in the SYN: it must be idempotent. A client from
 * {@link TfoChannels} lets only what its {@link TfoSynDataPolicy} admits ride (by default bytes known to be safe
 * to replay: a TLS ClientHello, an HTTP {@code GET}).
 */
public final class TfoBootstraps {
    private TfoBootstraps() {
    }

    /**
     * Connects and sends {@code firstFlight}, in the SYN whenever the kernel has a cookie for the server.
     *
     * <p>The returned future succeeds with the channel once the handshake is over and the first flight has
     * been written to the socket; {@link TfoResult#of(Channel)} is then already decided. It fails when the
     * connect fails, when the connection is refused or reset even after the data left in the SYN, or when the
     * handshake does not end within {@code CONNECT_TIMEOUT_MILLIS} of its SYN; the channel is then closed.
     * Cancelling it closes the channel, at any moment.
     *
     * <p>Any client bootstrap works, with no per-call cost: the options are those of its channel factory when
     * it is a {@link TfoChannels#clientFactory TfoChannels.clientFactory}, else {@link TfoClientOptions#defaults()}. Their {@link TfoBackoff} is consulted first: while it backs off
     * from the destination, the connection is a plain connect with the same bytes and its {@link TfoResult}
     * is {@link TfoOutcome#NOT_ATTEMPTED} with the backoff as reason. Every outcome is then recorded into it.
     * The {@link TfoSynDataPolicy} does not apply: the caller vouches that the first flight is safe to replay.
     *
     * <p>Ownership of {@code firstFlight} passes to this method: it is released exactly once, on success
     * and on every failure (including invalid arguments), except when it is {@code null} or already released.
     *
     * <pre>{@code
     * TfoBootstraps.connect(bootstrap, server, Unpooled.wrappedBuffer(request)).sync();
     * }</pre>
     *
     * @param bootstrap     a client bootstrap with group, channel (or channel factory) and handler set
     * @param remoteAddress the server
     * @param firstFlight   the first bytes to send, not empty; e.g. a request, or with TLS any application data
     * @return a future of the connected channel
     * @throws NullPointerException     when an argument is {@code null}
     * @throws IllegalArgumentException when {@code firstFlight} is empty or released, or the channel is not TCP
     * @throws IllegalStateException    when the bootstrap lacks its group, channel or handler
     */
    public static Future<Channel> connect(Bootstrap bootstrap, SocketAddress remoteAddress, ByteBuf firstFlight) {
        requireNonNull(firstFlight, "firstFlight");
        if (firstFlight.refCnt() == 0) {
            throw new IllegalArgumentException("firstFlight: already released");
        }
        try {
            requireNonNull(bootstrap, "bootstrap");
            requireNonNull(remoteAddress, "remoteAddress");
            NettyVersion.requireSupported();
            if (!firstFlight.isReadable()) {
                throw new IllegalArgumentException("firstFlight: empty (nothing to send in the SYN)");
            }
        } catch (RuntimeException e) {
            ReferenceCountUtil.safeRelease(firstFlight);
            throw e;
        }
        return FirstFlightConnector.connect(bootstrap, remoteAddress, firstFlight, TfoClientOptions.defaults());
    }
}
