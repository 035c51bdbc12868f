package dev.tfo.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The few socket operations the client state machine needs from the kernel, behind an interface so that the
 * state machine runs in-process tests on any laptop ({@code EmbeddedChannel} and a fake). {@link #NATIVE}
 * is the real thing, on Netty's epoll and io_uring channels.
 */
public interface SocketOps {
    /** The kernel, through Netty's native transports. */
    SocketOps NATIVE = NativeSocketOps.INSTANCE;

    /**
     * Why data can never ride in this channel's SYN, whatever the kernel says.
     *
     * @param channel a client channel
     * @return e.g. {@code "transport NioSocketChannel cannot send data in a SYN (use epoll or io_uring)"}, or
     *         {@code null} for an epoll or io_uring TCP channel
     */
    String unsupportedReason(Channel channel);

    /**
     * Sets {@code TCP_FASTOPEN_CONNECT} (and {@code TCP_FASTOPEN_NO_COOKIE} when asked) on a channel that has
     * not connected yet. The kernel checks its live {@code net.ipv4.tcp_fastopen} here.
     *
     * @param channel  an epoll or io_uring TCP channel, not connected yet
     * @param noCookie whether to send data in the SYN without a cookie
     * @return {@code null} when set, else why not in one human sentence fragment (nothing is logged)
     */
    String enableFastOpenConnect(Channel channel, boolean noCookie);

    /**
     * Whether Netty itself sends the first buffer written before the connect in the SYN once
     * {@link #sendFirstWriteAtConnect} is called: an epoll or io_uring channel whose transport found client TFO on
     * when it initialised (Netty reads {@code net.ipv4.tcp_fastopen} once). Asks nothing of the kernel.
     *
     * @param channel a client channel
     * @return whether Netty's own TFO connect is available for it
     */
    boolean nettySendsFirstWrite(Channel channel);

    /**
     * Sets Netty's own {@code ChannelOption.TCP_FASTOPEN_CONNECT} (a field of the channel's config, no system
     * call): at {@code connect} Netty then sends the first buffer queued before it with {@code sendto(MSG_FASTOPEN)}
     * (io_uring: {@code IORING_OP_SENDMSG}), which also starts the handshake; without a cookie the SYN asks for one
     * and the buffer stays queued.
     *
     * @param channel a channel for which {@link #nettySendsFirstWrite} is true, not connected yet
     */
    void sendFirstWriteAtConnect(Channel channel);

    /**
     * After a connect armed by {@link #sendFirstWriteAtConnect} failed: whether the kernel refuses data in a SYN now
     * (client TFO switched off since Netty looked, so {@code MSG_FASTOPEN} fails with {@code EOPNOTSUPP}). When it
     * does, Netty's option is switched off again, so that a plain connect can follow.
     *
     * @param channel the channel whose connect failed
     * @return why, in the words of {@link #enableFastOpenConnect}; {@code null} when the kernel allows client TFO
     */
    String synDataRefusal(Channel channel);

    /**
     * Whether, on this channel's transport, a connect that completes inside the connect call itself was
     * deferred by the kernel (nothing sent yet). True for epoll, whose non-blocking connect returns at once only
     * then; the state machine then saves a {@code tcp_info} read.
     *
     * @param channel a client channel
     * @return whether an immediate connect completion means a deferred connect
     */
    boolean immediateConnectIsDeferred(Channel channel);

    /**
     * Reads {@code tcp_info}.
     *
     * @param channel a channel
     * @return the decoded fields, or {@code null} when the channel cannot report them (NIO, closed); the object
     *         may be reused by the next call on the same thread (take what you need at once)
     */
    TcpInfo tcpInfo(Channel channel);

    /**
     * Reads and clears the socket's pending error ({@code SO_ERROR}), e.g. after a refused or reset handshake.
     *
     * @param channel a channel
     * @return the error, e.g. {@code "Connection refused"}, or {@code null} when there is none or it cannot be read
     */
    String socketError(Channel channel);

    /**
     * Makes a deferred connect ({@code TCP_FASTOPEN_CONNECT} with a cached cookie) send its SYN, carrying up
     * to {@code length} bytes of {@code data} from {@code index} ({@code length} 0: a SYN without data).
     * Neither the buffer's indexes nor its reference count change.
     *
     * @param channel the channel whose connect the kernel deferred
     * @param data    the bytes, or {@code null} when {@code length} is 0
     * @param index   the first byte
     * @param length  how many bytes may ride in the SYN
     * @param remote  the server
     * @return how many bytes the SYN carries (0: the SYN left without data, e.g. no cookie after all)
     * @throws IOException when the kernel refuses (e.g. {@code EOPNOTSUPP}: client TFO was switched off)
     */
    int sendSyn(Channel channel, ByteBuf data, int index, int length, InetSocketAddress remote) throws IOException;
}
