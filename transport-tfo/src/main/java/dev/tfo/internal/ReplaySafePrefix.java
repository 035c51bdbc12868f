package dev.tfo.internal;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/**
 * Finds how much of a connection's first bytes is safe to replay, i.e. may travel in a SYN (RFC 7413,
 * section 6: SYN data can be delivered twice and is processed before the handshake proves the client):
 *
 * <ul>
 *   <li>TLS: the leading handshake records (the ClientHello); a server answers a replayed ClientHello with
 *       a handshake nobody completes.</li>
 *   <li>HTTP/1.x: a request whose method is safe ({@code GET}, {@code HEAD}, {@code OPTIONS}), up to the end
 *       of its header block; never its body, never a request behind it.</li>
 *   <li>HTTP/2 (prior knowledge, e.g. gRPC over plaintext): the client preface and the connection-level frames
 *       after it ({@code SETTINGS}, {@code WINDOW_UPDATE}, {@code PING}, {@code PRIORITY}), up to the first
 *       frame that could carry a request ({@code HEADERS} and anything else).</li>
 *   <li>Anything else: nothing, as the bytes' meaning is unknown.</li>
 * </ul>
 */
public final class ReplaySafePrefix {
    private static final byte[] H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[][] SAFE_METHODS = {
            "GET ".getBytes(StandardCharsets.US_ASCII),
            "HEAD ".getBytes(StandardCharsets.US_ASCII),
            "OPTIONS ".getBytes(StandardCharsets.US_ASCII),
    };
    private static final int TLS_HANDSHAKE = 22;
    private static final int TLS_RECORD_HEADER = 5;
    private static final int H2_FRAME_HEADER = 9;

    private ReplaySafePrefix() {
    }

    /**
     * The length of the replay-safe prefix of {@code buf[index, index + length)}.
     *
     * @param buf    the bytes (indexes untouched)
     * @param index  the first byte
     * @param length how many bytes to consider
     * @return 0 ... {@code length}
     */
    public static int of(ByteBuf buf, int index, int length) {
        if (length <= 0) {
            return 0;
        }
        int first = buf.getUnsignedByte(index);
        if (first == TLS_HANDSHAKE) {
            return tlsHandshakeRecords(buf, index, length);
        }
        if (startsWith(buf, index, length, H2_PREFACE)) {
            return http2ConnectionPreface(buf, index, length);
        }
        for (byte[] method : SAFE_METHODS) {
            if (startsWith(buf, index, length, method)) {
                return http1HeaderBlock(buf, index, length);
            }
        }
        return 0;
    }

    /** Whole or trailing partial records of type handshake (22) with a TLS 1.x record version (3.x). */
    private static int tlsHandshakeRecords(ByteBuf buf, int index, int length) {
        int end = index + length;
        int i = index;
        while (i + TLS_RECORD_HEADER <= end && buf.getUnsignedByte(i) == TLS_HANDSHAKE
                && buf.getUnsignedByte(i + 1) == 3) {
            int recordEnd = i + TLS_RECORD_HEADER + buf.getUnsignedShort(i + 3);
            if (recordEnd >= end) {
                return length; // the rest of the bytes belong to this handshake record
            }
            i = recordEnd;
        }
        return i - index;
    }

    private static int http2ConnectionPreface(ByteBuf buf, int index, int length) {
        int end = index + length;
        int i = index + H2_PREFACE.length;
        while (i + H2_FRAME_HEADER <= end) {
            int type = buf.getUnsignedByte(i + 3);
            boolean connectionLevel = type == 0x4 || type == 0x8 || type == 0x6 || type == 0x2;
            if (!connectionLevel) {
                break;
            }
            int frameEnd = i + H2_FRAME_HEADER + buf.getUnsignedMedium(i);
            if (frameEnd > end) {
                return length; // a partial connection-level frame: all of it is safe
            }
            i = frameEnd;
        }
        return i - index;
    }

    /** Up to and including the first CRLF CRLF; all of it when the header block continues past the bytes. */
    private static int http1HeaderBlock(ByteBuf buf, int index, int length) {
        int end = index + length;
        for (int i = index; i + 3 < end; i++) {
            if (buf.getByte(i) == '\r' && buf.getByte(i + 1) == '\n' && buf.getByte(i + 2) == '\r'
                    && buf.getByte(i + 3) == '\n') {
                return i + 4 - index;
            }
        }
        return length;
    }

    private static boolean startsWith(ByteBuf buf, int index, int length, byte[] prefix) {
        if (length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (buf.getByte(index + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
