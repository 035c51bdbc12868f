package dev.tfo.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The bytes a test's channel wrote, as HTTP/2 frames, and frames for the test to read to it. */
final class Wire {
    /** One frame as it left: type, flags, stream, payload length; how many writes it took to leave. */
    record Frame(int type, int flags, int stream, int length) {
        boolean ack() {
            return type == Frames.SETTINGS && (flags & Frames.FLAG_ACK) != 0;
        }
    }

    final List<Frame> frames = new ArrayList<>();
    final boolean preface;
    final int writes;
    final byte[] bytes;

    Wire(byte[] bytes, int writes) {
        this.bytes = bytes;
        this.writes = writes;
        this.preface = bytes.length >= 24 && Arrays.equals(Arrays.copyOf(bytes, 24), Frames.PREFACE);
        for (int i = preface ? 24 : 0; i + 9 <= bytes.length; ) {
            int length = (bytes[i] & 0xff) << 16 | (bytes[i + 1] & 0xff) << 8 | bytes[i + 2] & 0xff;
            int stream = (bytes[i + 5] & 0x7f) << 24 | (bytes[i + 6] & 0xff) << 16 | (bytes[i + 7] & 0xff) << 8
                    | bytes[i + 8] & 0xff;
            frames.add(new Frame(bytes[i + 3] & 0xff, bytes[i + 4] & 0xff, stream, length));
            i += 9 + length;
        }
    }

    /** The frames of a client's byte stream. */
    static Wire of(byte[] bytes) {
        return new Wire(bytes, 1);
    }

    /** Everything written and flushed so far (the outbound queue drained, each buffer released). */
    static Wire drain(EmbeddedChannel ch) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int writes = 0;
        for (Object m; (m = ch.readOutbound()) != null; writes++) {
            ByteBuf b = (ByteBuf) m;
            byte[] a = new byte[b.readableBytes()];
            b.readBytes(a);
            b.release();
            out.writeBytes(a);
        }
        return new Wire(out.toByteArray(), writes);
    }

    long count(int type) {
        return frames.stream().filter(f -> f.type() == type && !f.ack()).count();
    }

    long acks() {
        return frames.stream().filter(Frame::ack).count();
    }

    boolean endsStream(int stream) {
        return frames.stream().anyMatch(f -> f.stream() == stream && (f.flags() & Frames.FLAG_END_STREAM) != 0
                && (f.type() == Frames.DATA || f.type() == Frames.HEADERS));
    }

    @Override
    public String toString() {
        return (preface ? "preface " : "") + frames + " in " + writes + " write(s), " + bytes.length + " bytes";
    }

    /** A server's SETTINGS frame: pairs of (identifier, value). */
    static ByteBuf settings(long... idValue) {
        ByteBuf b = Unpooled.buffer();
        b.writeMedium(idValue.length / 2 * 6).writeByte(Frames.SETTINGS).writeByte(0).writeInt(0);
        for (int i = 0; i < idValue.length; i += 2) {
            b.writeShort((int) idValue[i]).writeInt((int) idValue[i + 1]);
        }
        return b;
    }
}
