package dev.tfo.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/** What this module reads of HTTP/2 (RFC 9113): the preface, frame headers, SETTINGS, a first header block. */
final class Frames {
    /** The client connection preface (section 3.4). */
    static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    static final int HEADER_LENGTH = 9;
    static final int DATA = 0x0;
    static final int HEADERS = 0x1;
    static final int RST_STREAM = 0x3;
    static final int SETTINGS = 0x4;
    static final int GOAWAY = 0x7;
    static final int CONTINUATION = 0x9;
    static final int FLAG_END_STREAM = 0x1;
    static final int FLAG_ACK = 0x1;
    static final int FLAG_END_HEADERS = 0x4;
    static final int FLAG_PADDED = 0x8;
    static final int FLAG_PRIORITY = 0x20;
    static final int SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
    static final int SETTINGS_MAX_HEADER_LIST_SIZE = 0x6;
    /**
     * The SETTINGS the client is told before the server's own: at most one stream (grpc-netty's
     * {@code StreamBufferingEncoder} keeps every further call until the server's SETTINGS raise the limit).
     */
    static final byte[] ONE_STREAM_SETTINGS = {0, 0, 6, SETTINGS, 0, 0, 0, 0, 0,
            0, SETTINGS_MAX_CONCURRENT_STREAMS, 0, 0, 0, 1};
    /** A SETTINGS frame without the setting, as RFC 9113 defines it: no limit. */
    static final long UNLIMITED = 0xffffffffL;
    /** A header block larger than this is not decoded: it is too large to ride anyway. */
    static final int MAX_BLOCK = 16 * 1024;

    private Frames() {
    }

    static int length(ByteBuf b, int i) {
        return b.getUnsignedMedium(i);
    }

    static int type(ByteBuf b, int i) {
        return b.getUnsignedByte(i + 3);
    }

    static int flags(ByteBuf b, int i) {
        return b.getUnsignedByte(i + 4);
    }

    static int stream(ByteBuf b, int i) {
        return b.getInt(i + 5) & 0x7fffffff;
    }

    /** Whether {@code b} holds the client preface at {@code i}. */
    static boolean isPreface(ByteBuf b, int i) {
        if (b.writerIndex() - i < PREFACE.length) {
            return false;
        }
        for (int k = 0; k < PREFACE.length; k++) {
            if (b.getByte(i + k) != PREFACE[k]) {
                return false;
            }
        }
        return true;
    }

    /**
     * The header block fragment of a HEADERS frame's payload {@code [i, i + length)}: without its padding and
     * priority fields; -1 for the offset when the fields do not fit.
     */
    static int fragmentStart(ByteBuf b, int i, int length, int flags) {
        int start = i + ((flags & FLAG_PADDED) != 0 ? 1 : 0) + ((flags & FLAG_PRIORITY) != 0 ? 5 : 0);
        return start - i > length ? -1 : start;
    }

    static int fragmentLength(ByteBuf b, int i, int length, int flags) {
        int pad = (flags & FLAG_PADDED) != 0 ? b.getUnsignedByte(i) : 0;
        int start = fragmentStart(b, i, length, flags);
        return start < 0 ? -1 : length - (start - i) - pad;
    }

    /**
     * The first header block of a connection, decoded with a fresh HPACK context (exact for the first block: it
     * can refer to no earlier one); null when it does not decode.
     */
    static Http2Headers decodeFirstBlock(ByteBuf block) {
        try {
            return new DefaultHttp2HeadersDecoder(false, Long.MAX_VALUE).decodeHeaders(1, block.duplicate());
        } catch (Http2Exception e) {
            return null;
        }
    }

    /** The header list size as RFC 9113 section 6.5.2 counts it: each name and value, plus 32 per field. */
    static long listSize(Http2Headers headers) {
        long size = 0;
        for (Map.Entry<CharSequence, CharSequence> e : headers) {
            size += e.getKey().length() + e.getValue().length() + 32;
        }
        return size;
    }

    /** The value of {@code id} in a SETTINGS payload {@code [i, i + length)}, or -1 when it is absent. */
    static long setting(ByteBuf b, int i, int length, int id) {
        long value = -1;
        for (int k = i; k + 6 <= i + length; k += 6) {
            if (b.getUnsignedShort(k) == id) {
                value = b.getUnsignedInt(k + 2); // the last occurrence wins (section 6.5.3)
            }
        }
        return value;
    }
}
