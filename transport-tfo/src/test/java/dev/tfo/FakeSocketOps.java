package dev.tfo;

import dev.tfo.internal.SocketOps;
import dev.tfo.internal.TcpInfo;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A scripted kernel for in-process tests of {@link SynGate}: what {@code tcp_info} says now, whether the
 * option is accepted, how much of a SYN's offer the kernel takes, and a record of every call.
 */
final class FakeSocketOps implements SocketOps {
    static {
        io.netty.channel.epoll.Epoll.ensureAvailability(); // Errors' constants (EISCONN) come from the native library
    }

    static final int ESTABLISHED = TcpInfo.STATE_ESTABLISHED;
    static final int SYN_SENT = TcpInfo.STATE_SYN_SENT;
    static final int CLOSE = TcpInfo.STATE_CLOSE;

    /** What the next tcp_info reads return; {@code null}: unavailable. */
    volatile TcpInfo tcpInfo = deferred();
    /** {@code null}: TCP_FASTOPEN_CONNECT accepted; else the reason it was not. */
    String optionRefusal;
    /** How many bytes a SYN takes at most; -1: all offered. */
    int synCapacity = -1;
    /** Thrown by sendSyn when set. */
    IOException sendFailure;
    /** SO_ERROR. */
    String socketError;

    /** Whether a connect completing inside the connect call means it was deferred (as on epoll). */
    boolean immediateConnectIsDeferred;

    /** Whether Netty's own TFO connect is available (its view of the sysctl at startup). */
    boolean nettyClientTfo = true;
    /** Set by sendFirstWriteAtConnect, read by {@link NettyConnect}. */
    boolean nettyArmed;
    /** Whether a cookie is cached: Netty's sendto(MSG_FASTOPEN) then carries data. */
    boolean cookie = true;
    /** Thrown by Netty's sendto(MSG_FASTOPEN) in {@link NettyConnect} when set (e.g. EOPNOTSUPP). */
    IOException nettySendFailure;
    /** Fails the plain handshake {@link NettyConnect} falls back to without a cookie, when set. */
    java.net.ConnectException refusal;
    /** What synDataRefusal says: the kernel refuses client TFO now. */
    String synDataRefusal;

    int optionCalls;
    final List<String> synsSent = new ArrayList<>();

    /** A connect the kernel deferred: SYN_SENT, nothing sent. */
    static TcpInfo deferred() {
        return TcpInfo.of(SYN_SENT, 0, 0, 0);
    }

    /** A handshake in flight. */
    static TcpInfo synInFlight() {
        return TcpInfo.of(SYN_SENT, 0, 0, 1);
    }

    static TcpInfo established(int options, int clientFail) {
        return TcpInfo.of(ESTABLISHED, options, clientFail, 3);
    }

    static TcpInfo closed() {
        return TcpInfo.of(CLOSE, 0, 0, 2);
    }

    @Override
    public String unsupportedReason(Channel channel) {
        return null;
    }

    @Override
    public String enableFastOpenConnect(Channel channel, boolean noCookie) {
        optionCalls++;
        return optionRefusal;
    }

    @Override
    public boolean nettySendsFirstWrite(Channel channel) {
        return nettyClientTfo;
    }

    @Override
    public void sendFirstWriteAtConnect(Channel channel) {
        nettyArmed = true;
    }

    @Override
    public String synDataRefusal(Channel channel) {
        if (synDataRefusal != null) {
            nettyArmed = false;
        }
        return synDataRefusal;
    }

    @Override
    public boolean immediateConnectIsDeferred(Channel channel) {
        return immediateConnectIsDeferred;
    }

    @Override
    public TcpInfo tcpInfo(Channel channel) {
        return channel.isOpen() ? tcpInfo : null;
    }

    @Override
    public String socketError(Channel channel) {
        return socketError;
    }

    @Override
    public int sendSyn(Channel channel, ByteBuf data, int index, int length, InetSocketAddress remote)
            throws IOException {
        if (sendFailure != null) {
            throw sendFailure;
        }
        if (tcpInfo != null && tcpInfo.state() == ESTABLISHED) {
            // As the kernel does: sendto(MSG_FASTOPEN) on a connected socket.
            throw new io.netty.channel.unix.Errors.NativeIoException("sendToAddress",
                    io.netty.channel.unix.Errors.ERROR_EISCONN_NEGATIVE, false);
        }
        int taken = synCapacity < 0 ? length : Math.min(length, synCapacity);
        synsSent.add(taken == 0 ? "" : data.toString(index, taken, java.nio.charset.StandardCharsets.US_ASCII));
        tcpInfo = synInFlight();
        return taken;
    }

    /**
     * Netty's connect with its own {@code TCP_FASTOPEN_CONNECT}, as {@code EpollSocketChannel.doConnect0} does it:
     * everything written so far is flushed, the first buffer goes to {@code sendto(MSG_FASTOPEN)}, and with a
     * cookie the bytes the SYN took leave the outbound buffer and the connect completes at once. Put between the
     * transport and the gate of an {@code EmbeddedChannel} (whose own connect always succeeds at once).
     */
    final class NettyConnect extends ChannelOutboundHandlerAdapter {
        @Override
        public void connect(ChannelHandlerContext ctx, SocketAddress remote, SocketAddress local,
                            ChannelPromise promise) {
            if (!nettyArmed) {
                ctx.connect(remote, local, promise);
                return;
            }
            ChannelOutboundBuffer outbound = ctx.channel().unsafe().outboundBuffer();
            outbound.addFlush();
            Object first = outbound.current();
            if (!(first instanceof ByteBuf)) {
                ctx.connect(remote, local, promise);
                return;
            }
            if (nettySendFailure != null) {
                promise.setFailure(nettySendFailure); // Netty fails the connect; the channel stays open
                return;
            }
            ByteBuf data = (ByteBuf) first;
            int taken = !cookie ? 0 : synCapacity < 0 ? data.readableBytes() : Math.min(data.readableBytes(), synCapacity);
            if (taken == 0 && refusal != null) {
                promise.setFailure(refusal); // EINPROGRESS, then the handshake that asked for a cookie was refused
                return;
            }
            if (taken == 0) {
                tcpInfo = established(0, TcpInfo.FAIL_COOKIE_UNAVAILABLE); // a plain handshake that asked for a cookie
                ctx.connect(remote, local, promise);
                return;
            }
            synsSent.add(data.toString(data.readerIndex(), taken, StandardCharsets.US_ASCII));
            tcpInfo = synInFlight();
            outbound.removeBytes(taken);
            ctx.connect(remote, local, promise);
        }
    }
}
