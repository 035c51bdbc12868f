package dev.tfo.frameworks;

import dev.tfo.testkit.Packet;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The HTTP/2 frames of one captured TCP connection, each tied to the packet its header travelled in. Loopback
 * does not reorder, so each direction's payloads are concatenated in capture order; retransmitted bytes are
 * dropped by sequence number, a gap fails.
 */
final class Http2Trace {
    /** The client connection preface, RFC 9113 section 3.4. */
    static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    static final int DATA = 0;
    static final int HEADERS = 1;
    static final int SETTINGS = 4;
    static final int FLAG_ACK = 1;

    /** One frame: who sent it, its type, flags and stream, and the packet that carried its first byte. */
    record Frame(boolean fromClient, int type, int flags, int stream, int length, Packet packet) {
        boolean is(int frameType) {
            return type == frameType;
        }

        @Override
        public String toString() {
            String[] names = {"DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING",
                    "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"};
            return (fromClient ? "client " : "server ") + (type < names.length ? names[type] : "type" + type)
                    + ((flags & FLAG_ACK) != 0 && (type == SETTINGS || type == 6) ? "(ACK)" : "")
                    + (stream != 0 ? " stream " + stream : "") + " len " + length;
        }
    }

    private final List<Packet> packets;
    private final List<Frame> frames = new ArrayList<>();
    private final boolean preface;

    /**
     * @param all        everything captured
     * @param clientPort the connection's client port (the server port is the other end)
     */
    Http2Trace(List<Packet> all, int clientPort) {
        this.packets = all.stream().filter(p -> p.srcPort() == clientPort || p.dstPort() == clientPort).toList();
        List<Packet> fromClient = packets.stream().filter(p -> p.srcPort() == clientPort).toList();
        List<Packet> fromServer = packets.stream().filter(p -> p.dstPort() == clientPort).toList();
        Stream client = new Stream(fromClient);
        Stream server = new Stream(fromServer);
        this.preface = startsWithPreface(client.bytes);
        parse(client, true, preface ? PREFACE.length : 0);
        parse(server, false, 0);
        frames.sort((a, b) -> Integer.compare(packets.indexOf(a.packet), packets.indexOf(b.packet)));
    }

    /** Whether the client's byte stream starts with the HTTP/2 connection preface. */
    boolean hasPreface() {
        return preface;
    }

    List<Frame> frames() {
        return frames;
    }

    /** The first frame of a type sent by one side (for SETTINGS: not an ACK). */
    Frame first(boolean fromClient, int type) {
        return frames.stream().filter(f -> f.fromClient == fromClient && f.type == type
                        && !(type == SETTINGS && (f.flags & FLAG_ACK) != 0))
                .findFirst().orElseThrow(() -> new AssertionError("no " + (fromClient ? "client " : "server ")
                        + "frame of type " + type + " in:\n" + render()));
    }

    /** The connection, one packet a line, time relative to its first packet, with the frames each carries. */
    String render() {
        StringBuilder s = new StringBuilder();
        Instant t0 = packets.isEmpty() ? Instant.EPOCH : packets.get(0).timestamp();
        for (Packet p : packets) {
            s.append(String.format("  %+9.1f us  %s", Duration.between(t0, p.timestamp()).toNanos() / 1000.0, p));
            List<Frame> in = frames.stream().filter(f -> f.packet == p).toList();
            if (!in.isEmpty()) {
                s.append("  ").append(in);
            }
            s.append('\n');
        }
        return s.toString();
    }

    /** Microseconds between two packets of the trace. */
    static double micros(Packet from, Packet to) {
        return Duration.between(from.timestamp(), to.timestamp()).toNanos() / 1000.0;
    }

    /** A frame written or read by a {@link FirstWriteProbe}, with the time of the write or read that began it. */
    record Seen(int type, int flags, int stream, long nanos) {
    }

    /**
     * The frames in one direction of a probe's log: {@code outbound} the client's writes (after the preface),
     * else its reads.
     */
    static List<Seen> seen(List<FirstWriteProbe.Event> events, boolean outbound) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<Long> when = new ArrayList<>();
        for (FirstWriteProbe.Event e : events) {
            if (e.outbound() == outbound) {
                out.writeBytes(e.bytes());
                for (int k = 0; k < e.bytes().length; k++) {
                    when.add(e.nanos());
                }
            }
        }
        byte[] b = out.toByteArray();
        int i = outbound && startsWithPreface(b) ? PREFACE.length : 0;
        List<Seen> seen = new ArrayList<>();
        for (; i + 9 <= b.length; i += 9 + length(b, i)) {
            seen.add(new Seen(b[i + 3] & 0xff, b[i + 4] & 0xff, streamId(b, i), when.get(i)));
        }
        return seen;
    }

    private void parse(Stream stream, boolean fromClient, int start) {
        byte[] b = stream.bytes;
        for (int i = start; i + 9 <= b.length; i += 9 + length(b, i)) {
            frames.add(new Frame(fromClient, b[i + 3] & 0xff, b[i + 4] & 0xff, streamId(b, i), length(b, i),
                    stream.origin.get(i)));
        }
    }

    /** The payload length in the 9-byte frame header at {@code i}. */
    private static int length(byte[] b, int i) {
        return ((b[i] & 0xff) << 16) | ((b[i + 1] & 0xff) << 8) | (b[i + 2] & 0xff);
    }

    /** The stream identifier in the 9-byte frame header at {@code i}. */
    private static int streamId(byte[] b, int i) {
        return ((b[i + 5] & 0x7f) << 24) | ((b[i + 6] & 0xff) << 16) | ((b[i + 7] & 0xff) << 8) | (b[i + 8] & 0xff);
    }

    private static boolean startsWithPreface(byte[] b) {
        return b.length >= PREFACE.length && Arrays.equals(Arrays.copyOf(b, PREFACE.length), PREFACE);
    }

    /** One direction's bytes, with the packet each byte came in. */
    private static final class Stream {
        final byte[] bytes;
        final List<Packet> origin = new ArrayList<>();

        Stream(List<Packet> sent) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            long next = -1;
            for (Packet p : sent) {
                long dataSeq = p.has(Packet.SYN) ? p.seq() + 1 : p.seq();
                if (p.has(Packet.SYN)) {
                    next = dataSeq;
                }
                if (p.payloadLength() == 0) {
                    continue;
                }
                int ahead = (int) (dataSeq - next); // sequence space wraps at 2^32
                if (ahead > 0) {
                    throw new AssertionError("a gap on loopback (segment missing from the capture): " + p
                            + " (expected seq " + next + ")");
                }
                // A retransmission (a tail loss probe, say) repeats bytes already placed: keep only the new ones.
                byte[] payload = p.payload();
                for (int k = -ahead; k < payload.length; k++) {
                    out.write(payload[k]);
                    origin.add(p);
                }
                if (payload.length + ahead > 0) {
                    next = (dataSeq + payload.length) & 0xffffffffL;
                }
            }
            this.bytes = out.toByteArray();
        }
    }
}
