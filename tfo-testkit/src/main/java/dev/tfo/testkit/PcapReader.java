package dev.tfo.testkit;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads TCP segments from a classic pcap file (as written by {@code tcpdump -w}). Link types: EN10MB
 * (with 802.1Q tags), LINUX_SLL, LINUX_SLL2, RAW (12, 14, 101), NULL/LOOP. Non-TCP packets are skipped;
 * a truncated last record (file still being written) is ignored. Internal.
 */
final class PcapReader {

    static final int LINKTYPE_NULL = 0;
    static final int LINKTYPE_EN10MB = 1;
    static final int LINKTYPE_RAW = 101;
    static final int LINKTYPE_LOOP = 108;
    static final int LINKTYPE_LINUX_SLL = 113;
    static final int LINKTYPE_LINUX_SLL2 = 276;

    private PcapReader() {
    }

    static List<Packet> read(byte[] file) {
        List<Packet> packets = new ArrayList<>();
        if (file.length < 24) {
            return packets;
        }
        ByteBuffer b = ByteBuffer.wrap(file);
        int magic = b.order(ByteOrder.LITTLE_ENDIAN).getInt(0);
        boolean nanos;
        if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
            b.order(ByteOrder.LITTLE_ENDIAN);
        } else {
            b.order(ByteOrder.BIG_ENDIAN);
            magic = b.getInt(0);
            if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
                throw new LabException("not a pcap file (magic " + Integer.toHexString(magic)
                        + "); pcapng is not supported");
            }
        }
        nanos = magic == 0xa1b23c4d;
        int linkType = b.getInt(20) & 0x0fffffff;
        int pos = 24;
        while (pos + 16 <= file.length) {
            long sec = b.getInt(pos) & 0xffffffffL;
            long frac = b.getInt(pos + 4) & 0xffffffffL;
            int caplen = b.getInt(pos + 8);
            if (caplen < 0 || pos + 16 + caplen > file.length) {
                break; // partial record at the end
            }
            Instant ts = Instant.ofEpochSecond(sec, nanos ? frac : frac * 1000);
            Packet p = parseFrame(linkType, Arrays.copyOfRange(file, pos + 16, pos + 16 + caplen), ts);
            if (p != null) {
                packets.add(p);
            }
            pos += 16 + caplen;
        }
        return packets;
    }

    static Packet parseFrame(int linkType, byte[] f, Instant ts) {
        int off;
        int etherType;
        switch (linkType) {
            case LINKTYPE_EN10MB -> {
                if (f.length < 14) {
                    return null;
                }
                off = 12;
                etherType = u16(f, off);
                off += 2;
                while ((etherType == 0x8100 || etherType == 0x88a8) && f.length >= off + 4) {
                    etherType = u16(f, off + 2);
                    off += 4;
                }
            }
            case LINKTYPE_LINUX_SLL -> {
                if (f.length < 16) {
                    return null;
                }
                etherType = u16(f, 14);
                off = 16;
            }
            case LINKTYPE_LINUX_SLL2 -> {
                if (f.length < 20) {
                    return null;
                }
                etherType = u16(f, 0);
                off = 20;
            }
            case LINKTYPE_RAW, 12, 14 -> {
                if (f.length < 1) {
                    return null;
                }
                etherType = (f[0] & 0xf0) == 0x60 ? 0x86dd : 0x0800;
                off = 0;
            }
            case LINKTYPE_NULL, LINKTYPE_LOOP -> {
                if (f.length < 5) {
                    return null;
                }
                off = 4;
                etherType = (f[4] & 0xf0) == 0x60 ? 0x86dd : 0x0800;
            }
            default -> throw new LabException("unsupported pcap link type " + linkType);
        }
        if (etherType == 0x0800) {
            return ipv4(f, off, ts);
        }
        if (etherType == 0x86dd) {
            return ipv6(f, off, ts);
        }
        return null;
    }

    private static Packet ipv4(byte[] f, int off, Instant ts) {
        if (f.length < off + 20 || (f[off] & 0xf0) != 0x40) {
            return null;
        }
        int ihl = (f[off] & 0x0f) * 4;
        int total = u16(f, off + 2);
        int proto = f[off + 9] & 0xff;
        int fragOffset = u16(f, off + 6) & 0x1fff;
        if (proto != 6 || fragOffset != 0) {
            return null;
        }
        InetAddress src = addr(f, off + 12, 4);
        InetAddress dst = addr(f, off + 16, 4);
        int end = Math.min(f.length, off + total);
        return tcp(f, off + ihl, end, src, dst, ts, total);
    }

    private static Packet ipv6(byte[] f, int off, Instant ts) {
        if (f.length < off + 40 || (f[off] & 0xf0) != 0x60) {
            return null;
        }
        int payloadLen = u16(f, off + 4);
        int next = f[off + 6] & 0xff;
        InetAddress src = addr(f, off + 8, 16);
        InetAddress dst = addr(f, off + 24, 16);
        int end = Math.min(f.length, off + 40 + payloadLen);
        int p = off + 40;
        // Skip hop-by-hop (0), routing (43), destination options (60); fragments (44) are not reassembled.
        while (next == 0 || next == 43 || next == 60) {
            if (p + 2 > end) {
                return null;
            }
            int n = f[p] & 0xff;
            p += (f[p + 1] & 0xff) * 8 + 8;
            next = n;
        }
        if (next != 6) {
            return null;
        }
        return tcp(f, p, end, src, dst, ts, 40 + payloadLen);
    }

    private static Packet tcp(byte[] f, int off, int end, InetAddress src, InetAddress dst, Instant ts,
            int ipLength) {
        if (end < off + 20) {
            return null;
        }
        int srcPort = u16(f, off);
        int dstPort = u16(f, off + 2);
        long seq = u32(f, off + 4);
        long ack = u32(f, off + 8);
        int dataOffset = ((f[off + 12] & 0xf0) >> 4) * 4;
        int flags = f[off + 13] & 0xff;
        int window = u16(f, off + 14);
        int optEnd = Math.min(end, off + Math.max(20, dataOffset));
        byte[] options = Arrays.copyOfRange(f, off + 20, optEnd);
        byte[] payload = off + dataOffset < end ? Arrays.copyOfRange(f, off + dataOffset, end) : new byte[0];
        return new Packet(ts, src, srcPort, dst, dstPort, flags, seq, ack, window, options, payload, ipLength);
    }

    private static int u16(byte[] f, int i) {
        return ((f[i] & 0xff) << 8) | (f[i + 1] & 0xff);
    }

    private static long u32(byte[] f, int i) {
        return ((long) u16(f, i) << 16) | u16(f, i + 2);
    }

    private static InetAddress addr(byte[] f, int off, int len) {
        try {
            return InetAddress.getByAddress(Arrays.copyOfRange(f, off, off + len));
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
