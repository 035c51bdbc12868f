package dev.tfo.internal;

import io.netty.channel.Channel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The fields of Linux {@code struct tcp_info} that prove or disprove TFO, decoded from the raw bytes of
 * {@code getsockopt(IPPROTO_TCP, TCP_INFO)}.
 *
 * <p>Layout (include/uapi/linux/tcp.h): byte 0 {@code tcpi_state}; byte 5 {@code tcpi_options}; byte 7
 * holds {@code tcpi_delivery_rate_app_limited:1} then {@code tcpi_fastopen_client_fail:2} (Linux 5.5+);
 * {@code tcpi_rtt} (u32, microseconds) at offset 68; {@code tcpi_total_retrans} (u32) at offset 100;
 * {@code tcpi_segs_out} (u32, Linux 4.2+) at offset 136.
 */
public final class TcpInfo {
    /** Length requested from the kernel: enough for every field decoded here. */
    public static final int LENGTH = 140;

    /** {@code TCP_ESTABLISHED}. */
    public static final int STATE_ESTABLISHED = 1;
    /** {@code TCP_SYN_SENT}: the handshake of a client socket is not over. */
    public static final int STATE_SYN_SENT = 2;
    /** {@code TCP_SYN_RECV}: a TFO child accepted before the handshake is over. */
    public static final int STATE_SYN_RECV = 3;

    /** {@code TCP_CLOSE}: e.g. a connect refused after the SYN left with data. */
    public static final int STATE_CLOSE = 7;

    /** {@code TCPI_OPT_SYN_DATA}: client: data in the SYN was acked; server: the SYN carried data. */
    public static final int OPT_SYN_DATA = 0x20;
    /** {@code TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE}: options a SYN-ACK negotiated. */
    public static final int OPT_FROM_SYN_ACK = 0x07;
    /** {@code TCPI_OPT_TFO_CHILD}: a server socket created by a TFO SYN. */
    public static final int OPT_TFO_CHILD = 0x80;

    /** {@code TFO_STATUS_UNSPEC}: nothing went wrong, or no TFO was attempted. */
    public static final int FAIL_UNSPEC = 0;
    /** {@code TFO_COOKIE_UNAVAILABLE}: no cookie was cached; the SYN requested one. */
    public static final int FAIL_COOKIE_UNAVAILABLE = 1;
    /** {@code TFO_DATA_NOT_ACKED}: the SYN-ACK did not acknowledge the SYN's data. */
    public static final int FAIL_DATA_NOT_ACKED = 2;
    /** {@code TFO_SYN_RETRANSMITTED}: the SYN with data was retransmitted (lost or dropped). */
    public static final int FAIL_SYN_RETRANSMITTED = 3;

    // Not final: NativeSocketOps decodes every read of a thread into one instance (no object per read).
    private int state;
    private int options;
    private int clientFail;
    private long rttMicros;
    private long totalRetrans;
    private long segsOut;
    private int length;

    private TcpInfo(int state, int options, int clientFail, long rttMicros, long totalRetrans, long segsOut,
                    int length) {
        this.state = state;
        this.options = options;
        this.clientFail = clientFail;
        this.rttMicros = rttMicros;
        this.totalRetrans = totalRetrans;
        this.segsOut = segsOut;
        this.length = length;
    }

    /**
     * Fields given directly, for tests of code that decides from {@code tcp_info}.
     *
     * @param state      {@code tcpi_state}
     * @param options    {@code tcpi_options}
     * @param clientFail {@code tcpi_fastopen_client_fail}
     * @param segsOut    {@code tcpi_segs_out}, or -1 when unknown
     * @return the fields
     */
    public static TcpInfo of(int state, int options, int clientFail, long segsOut) {
        return new TcpInfo(state, options, clientFail, -1, -1, segsOut, -1);
    }

    /**
     * Decodes raw {@code tcp_info} bytes in native (little-endian on every Linux target Netty ships) order,
     * from the buffer's position to its limit.
     *
     * @param raw the bytes the kernel returned; neither its position nor its byte order changes
     * @return the decoded fields
     * @throws IllegalArgumentException when fewer than 8 bytes are present
     */
    public static TcpInfo decode(ByteBuffer raw) {
        return decodeInPlace(raw.duplicate());
    }

    /** Decodes a buffer the caller owns, changing its byte order (no copy). */
    static TcpInfo decodeInPlace(ByteBuffer raw) {
        return decodeInto(raw, new TcpInfo(0, 0, 0, -1, -1, -1, 0));
    }

    /** Decodes a buffer the caller owns into {@code into} (no object is allocated); returns {@code into}. */
    static TcpInfo decodeInto(ByteBuffer raw, TcpInfo into) {
        ByteBuffer b = raw.order(ByteOrder.nativeOrder());
        int base = b.position();
        int len = b.remaining();
        if (len < 8) {
            throw new IllegalArgumentException("tcp_info: " + len + " bytes, need at least 8");
        }
        int state = b.get(base) & 0xff;
        int options = b.get(base + 5) & 0xff;
        int clientFail = (b.get(base + 7) >> 1) & 3;
        long rtt = len >= 72 ? Integer.toUnsignedLong(b.getInt(base + 68)) : -1;
        long retrans = len >= 104 ? Integer.toUnsignedLong(b.getInt(base + 100)) : -1;
        long segsOut = len >= 140 ? Integer.toUnsignedLong(b.getInt(base + 136)) : -1;
        into.state = state;
        into.options = options;
        into.clientFail = clientFail;
        into.rttMicros = rtt;
        into.totalRetrans = retrans;
        into.segsOut = segsOut;
        into.length = len;
        return into;
    }

    /**
     * Reads {@code tcp_info} of a native (epoll or io_uring) socket channel. The object is this thread's and is
     * overwritten by its next read: take what you need from it at once.
     *
     * @param channel a socket channel of any transport
     * @return the decoded fields, or {@code null} when the channel's transport cannot report them (NIO)
     *         or the socket is already closed
     */
    public static TcpInfo read(Channel channel) {
        return SocketOps.NATIVE.tcpInfo(channel);
    }

    /**
     * {@code tcpi_state}.
     *
     * @return the TCP state, e.g. {@link #STATE_ESTABLISHED}
     */
    public int state() {
        return state;
    }

    /**
     * {@code tcpi_options}.
     *
     * @return the option bits, e.g. {@link #OPT_SYN_DATA}
     */
    public int options() {
        return options;
    }

    /**
     * {@code tcpi_fastopen_client_fail}.
     *
     * @return 0..3, one of the {@code FAIL_*} constants
     */
    public int clientFail() {
        return clientFail;
    }

    /**
     * {@code tcpi_rtt}.
     *
     * @return the smoothed round-trip time in microseconds, or -1 when the kernel returned too few bytes
     */
    public long rttMicros() {
        return rttMicros;
    }

    /**
     * {@code tcpi_total_retrans}.
     *
     * @return the retransmitted segments of the connection, or -1 when the kernel returned too few bytes
     */
    public long totalRetrans() {
        return totalRetrans;
    }

    /**
     * {@code tcpi_segs_out}: segments sent so far; 0 on a client socket whose connect the kernel deferred
     * ({@code TCP_FASTOPEN_CONNECT} with a cookie) and that has not sent its SYN yet.
     *
     * @return the count, or -1 when the kernel returned too few bytes (before Linux 4.2)
     */
    public long segsOut() {
        return segsOut;
    }

    /**
     * Whether a SYN-ACK reached this client socket, whatever its state now (a socket reset after its handshake
     * is {@link #STATE_CLOSE} too): options only a SYN-ACK negotiates, or a TFO verdict only a SYN-ACK gives.
     *
     * @return whether the handshake got its answer
     */
    public boolean synAckSeen() {
        return (options & (OPT_FROM_SYN_ACK | OPT_SYN_DATA)) != 0
                || clientFail == FAIL_DATA_NOT_ACKED || clientFail == FAIL_SYN_RETRANSMITTED;
    }

    /**
     * Whether the client's handshake is still in progress.
     *
     * @return whether the state is {@link #STATE_SYN_SENT}
     */
    public boolean synSent() {
        return state == STATE_SYN_SENT;
    }

    /**
     * Whether {@code TCPI_OPT_SYN_DATA} is set.
     *
     * @return client: the SYN's data was acked; server: the SYN carried data
     */
    public boolean synData() {
        return (options & OPT_SYN_DATA) != 0;
    }

    @Override
    public String toString() {
        return "TcpInfo(state=" + state + ", options=0x" + Integer.toHexString(options) + ", fastopen_client_fail="
                + clientFail + ", rtt=" + rttMicros + "us, total_retrans=" + totalRetrans + ", bytes=" + length + ')';
    }
}
