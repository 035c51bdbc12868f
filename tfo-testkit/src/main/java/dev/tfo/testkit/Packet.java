package dev.tfo.testkit;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;

/**
 * One captured TCP segment (IPv4 or IPv6), parsed from a {@link Capture}'s pcap file.
 */
public final class Packet {

    /** TCP flag FIN. */
    public static final int FIN = 0x01;
    /** TCP flag SYN. */
    public static final int SYN = 0x02;
    /** TCP flag RST. */
    public static final int RST = 0x04;
    /** TCP flag PSH. */
    public static final int PSH = 0x08;
    /** TCP flag ACK. */
    public static final int ACK = 0x10;
    /** TCP flag URG. */
    public static final int URG = 0x20;

    private static final int OPT_FASTOPEN = 34;
    private static final int OPT_EXPERIMENTAL = 254;

    private final Instant timestamp;
    private final InetSocketAddress source;
    private final InetSocketAddress destination;
    private final int flags;
    private final long seq;
    private final long ack;
    private final int window;
    private final byte[] options;
    private final byte[] payload;
    private final int ipLength;

    Packet(Instant timestamp, InetAddress src, int srcPort, InetAddress dst, int dstPort, int flags, long seq,
            long ack, int window, byte[] options, byte[] payload, int ipLength) {
        this.timestamp = timestamp;
        this.source = new InetSocketAddress(src, srcPort);
        this.destination = new InetSocketAddress(dst, dstPort);
        this.flags = flags;
        this.seq = seq;
        this.ack = ack;
        this.window = window;
        this.options = options;
        this.payload = payload;
        this.ipLength = ipLength;
    }

    /**
     * Returns the capture time stamp.
     *
     * @return when the packet was captured
     */
    public Instant timestamp() {
        return timestamp;
    }

    /**
     * Returns the source address and port.
     *
     * @return the sender's socket address
     */
    public InetSocketAddress source() {
        return source;
    }

    /**
     * Returns the destination address and port.
     *
     * @return the receiver's socket address
     */
    public InetSocketAddress destination() {
        return destination;
    }

    /**
     * Returns the source IP address.
     *
     * @return the sender's address
     */
    public InetAddress srcAddress() {
        return source.getAddress();
    }

    /**
     * Returns the source port.
     *
     * @return the sender's port
     */
    public int srcPort() {
        return source.getPort();
    }

    /**
     * Returns the destination IP address.
     *
     * @return the receiver's address
     */
    public InetAddress dstAddress() {
        return destination.getAddress();
    }

    /**
     * Returns the destination port.
     *
     * @return the receiver's port
     */
    public int dstPort() {
        return destination.getPort();
    }

    /**
     * Returns the TCP flags byte (see the constants {@link #SYN}, {@link #ACK}, ...).
     *
     * @return the flags
     */
    public int flags() {
        return flags;
    }

    /**
     * Tells whether all the given flags are set.
     *
     * @param mask flags, e.g. {@code Packet.SYN | Packet.ACK}
     * @return {@code true} if every flag in the mask is set
     */
    public boolean has(int mask) {
        return (flags & mask) == mask;
    }

    /**
     * Tells whether this is a connection request: SYN without ACK.
     *
     * @return {@code true} for a SYN
     */
    public boolean isSyn() {
        return has(SYN) && !has(ACK);
    }

    /**
     * Tells whether this is a SYN-ACK.
     *
     * @return {@code true} for a SYN with ACK
     */
    public boolean isSynAck() {
        return has(SYN | ACK);
    }

    /**
     * Tells whether the ACK flag is set.
     *
     * @return {@code true} if ACK is set
     */
    public boolean isAck() {
        return has(ACK);
    }

    /**
     * Tells whether the FIN flag is set.
     *
     * @return {@code true} if FIN is set
     */
    public boolean isFin() {
        return has(FIN);
    }

    /**
     * Tells whether the RST flag is set.
     *
     * @return {@code true} if RST is set
     */
    public boolean isRst() {
        return has(RST);
    }

    /**
     * Tells whether the PSH flag is set.
     *
     * @return {@code true} if PSH is set
     */
    public boolean isPsh() {
        return has(PSH);
    }

    /**
     * Returns the sequence number.
     *
     * @return the 32-bit sequence number
     */
    public long seq() {
        return seq;
    }

    /**
     * Returns the acknowledgment number.
     *
     * @return the 32-bit acknowledgment number
     */
    public long ack() {
        return ack;
    }

    /**
     * Returns the advertised (unscaled) window.
     *
     * @return the window field
     */
    public int window() {
        return window;
    }

    /**
     * Returns the IP total length (header + TCP header + payload), as the length-matching iptables rules
     * see it.
     *
     * @return the IP packet length in bytes
     */
    public int ipLength() {
        return ipLength;
    }

    /**
     * Returns a copy of the TCP payload that was captured (captures run with snaplen 0 = whole packet).
     *
     * @return the payload bytes, empty for a bare SYN/ACK
     */
    public byte[] payload() {
        return payload.clone();
    }

    /**
     * Returns the payload length.
     *
     * @return bytes of TCP payload
     */
    public int payloadLength() {
        return payload.length;
    }

    /**
     * Tells whether this is a SYN (without ACK) that carries data: the TFO first flight.
     *
     * @return {@code true} for a SYN with payload
     */
    public boolean isSynWithData() {
        return isSyn() && payload.length > 0;
    }

    /**
     * Returns a copy of the raw TCP options.
     *
     * @return the option bytes, empty if none
     */
    public byte[] options() {
        return options.clone();
    }

    /**
     * Returns the TCP Fast Open option (kind 34, or the experimental kind 254 with magic 0xF989).
     * An empty array means a cookie request; a non-empty one is the cookie.
     *
     * @return the cookie (possibly empty), or empty if the segment has no TFO option
     */
    public Optional<byte[]> fastOpenCookie() {
        int i = 0;
        while (i < options.length) {
            int kind = options[i] & 0xff;
            if (kind == 0) {
                break;
            }
            if (kind == 1) {
                i++;
                continue;
            }
            if (i + 1 >= options.length) {
                break;
            }
            int len = options[i + 1] & 0xff;
            if (len < 2 || i + len > options.length) {
                break;
            }
            if (kind == OPT_FASTOPEN) {
                return Optional.of(Arrays.copyOfRange(options, i + 2, i + len));
            }
            if (kind == OPT_EXPERIMENTAL && len >= 4 && (options[i + 2] & 0xff) == 0xF9
                    && (options[i + 3] & 0xff) == 0x89) {
                return Optional.of(Arrays.copyOfRange(options, i + 4, i + len));
            }
            i += len;
        }
        return Optional.empty();
    }

    /**
     * Renders the segment like tcpdump does, e.g.
     * {@code 198.18.1.1:40312 > 198.18.1.2:7 [S] seq 123 len 5 tfo-cookie-request}.
     *
     * @return a one-line description
     */
    @Override
    public String toString() {
        StringBuilder f = new StringBuilder();
        if (has(SYN)) {
            f.append('S');
        }
        if (has(FIN)) {
            f.append('F');
        }
        if (has(RST)) {
            f.append('R');
        }
        if (has(PSH)) {
            f.append('P');
        }
        if (has(URG)) {
            f.append('U');
        }
        if (has(ACK)) {
            f.append('.');
        }
        StringBuilder s = new StringBuilder();
        s.append(addr(source)).append(" > ").append(addr(destination)).append(" [").append(f).append("] seq ")
                .append(seq);
        if (has(ACK)) {
            s.append(" ack ").append(ack);
        }
        s.append(" win ").append(window).append(" len ").append(payload.length);
        fastOpenCookie().ifPresent(c -> s.append(c.length == 0 ? " tfo-cookie-request"
                : " tfo-cookie " + HexFormat.of().formatHex(c)));
        return s.toString();
    }

    private static String addr(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
