package dev.tfo.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pcap parser on hand-made files: each link type, IPv4 and IPv6, TFO option, truncated tail. */
class PcapReaderTest {

    private static final byte[] DATA = "hello".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TFO_REQUEST = {34, 2, 1, 1};
    private static final byte[] TFO_COOKIE = {34, 10, 1, 2, 3, 4, 5, 6, 7, 8};

    @Test
    void ethernetIpv4SynWithDataAndCookie() throws Exception {
        byte[] ip = ipv4(tcp(40000, 7, Packet.SYN, pad(TFO_COOKIE), DATA), "198.18.1.1", "198.18.1.2");
        byte[] eth = concat(new byte[12], new byte[] {0x08, 0x00}, ip, new byte[6]); // trailing padding
        List<Packet> ps = PcapReader.read(pcap(1, false, eth));
        assertEquals(1, ps.size());
        Packet p = ps.get(0);
        assertEquals(InetAddress.getByName("198.18.1.1"), p.srcAddress());
        assertEquals(40000, p.srcPort());
        assertEquals(7, p.dstPort());
        assertTrue(p.isSyn());
        assertTrue(p.isSynWithData());
        assertFalse(p.isSynAck());
        assertArrayEquals(DATA, p.payload());
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, p.fastOpenCookie().orElseThrow());
        assertEquals(20 + 20 + 12 + 5, p.ipLength());
        assertTrue(p.toString().contains("198.18.1.1:40000 > 198.18.1.2:7 [S]"), p.toString());
        assertTrue(p.toString().contains("tfo-cookie 0102030405060708"), p.toString());
    }

    @Test
    void sllIpv4SynAckWithCookieRequestBigEndianNanos() throws Exception {
        byte[] ip = ipv4(tcp(7, 40000, Packet.SYN | Packet.ACK, TFO_REQUEST, new byte[0]), "198.18.1.2",
                "198.18.1.1");
        byte[] sll = concat(new byte[14], new byte[] {0x08, 0x00}, ip);
        Packet p = PcapReader.read(pcap(113, true, sll)).get(0);
        assertTrue(p.isSynAck());
        assertFalse(p.isSyn());
        assertEquals(0, p.fastOpenCookie().orElseThrow().length);
        assertTrue(p.toString().contains("tfo-cookie-request"), p.toString());
    }

    @Test
    void sll2Ipv6Data() throws Exception {
        byte[] seg = tcp(50000, 80, Packet.PSH | Packet.ACK, new byte[0], DATA);
        byte[] ip6 = concat(new byte[] {0x60, 0, 0, 0, 0, (byte) seg.length, 6, 64},
                InetAddress.getByName("::1").getAddress(), InetAddress.getByName("::1").getAddress(), seg);
        byte[] sll2 = concat(new byte[] {(byte) 0x86, (byte) 0xdd}, new byte[18], ip6);
        Packet p = PcapReader.read(pcap(276, false, sll2)).get(0);
        assertEquals(InetAddress.getByName("::1"), p.dstAddress());
        assertTrue(p.isPsh() && p.isAck());
        assertArrayEquals(DATA, p.payload());
        assertTrue(p.toString().startsWith("[0:0:0:0:0:0:0:1]:50000 > "), p.toString());
    }

    @Test
    void rawIpv4AndTruncatedTailAndNonTcp() throws Exception {
        byte[] ip = ipv4(tcp(1, 2, Packet.FIN | Packet.ACK, new byte[0], new byte[0]), "198.18.3.1", "198.18.3.2");
        byte[] udp = ip.clone();
        udp[9] = 17;
        byte[] file = pcap(101, false, ip, udp, ip);
        byte[] truncated = java.util.Arrays.copyOf(file, file.length - 3);
        List<Packet> ps = PcapReader.read(truncated);
        assertEquals(1, ps.size()); // UDP skipped, partial last record ignored
        assertTrue(ps.get(0).isFin());
        assertEquals(0, ps.get(0).payloadLength());
    }

    static byte[] tcp(int src, int dst, int flags, byte[] options, byte[] payload) {
        int hl = 20 + options.length;
        ByteBuffer b = ByteBuffer.allocate(hl + payload.length);
        b.putShort((short) src).putShort((short) dst).putInt(1000).putInt(flags == Packet.SYN ? 0 : 2000);
        b.put((byte) ((hl / 4) << 4)).put((byte) flags).putShort((short) 65535).putShort((short) 0)
                .putShort((short) 0);
        b.put(options).put(payload);
        return b.array();
    }

    static byte[] ipv4(byte[] segment, String src, String dst) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(20 + segment.length);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + segment.length)).putInt(0x4000 << 0);
        b.put((byte) 64).put((byte) 6).putShort((short) 0);
        b.put(InetAddress.getByName(src).getAddress()).put(InetAddress.getByName(dst).getAddress());
        b.put(segment);
        byte[] a = b.array();
        a[6] = 0x40; // DF, fragment offset 0
        a[7] = 0;
        return a;
    }

    static byte[] pad(byte[] options) {
        int n = (options.length + 3) / 4 * 4;
        byte[] p = java.util.Arrays.copyOf(options, n);
        for (int i = options.length; i < n; i++) {
            p[i] = 1; // NOP
        }
        return p;
    }

    static byte[] pcap(int linkType, boolean bigEndianNanos, byte[]... frames) {
        ByteOrder order = bigEndianNanos ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        ByteBuffer h = ByteBuffer.allocate(24).order(order);
        h.putInt(bigEndianNanos ? 0xa1b23c4d : 0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0)
                .putInt(0).putInt(262144).putInt(linkType);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(h.array());
        for (byte[] f : frames) {
            ByteBuffer r = ByteBuffer.allocate(16).order(order);
            r.putInt(1_700_000_000).putInt(5).putInt(f.length).putInt(f.length);
            out.writeBytes(r.array());
            out.writeBytes(f);
        }
        return out.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
