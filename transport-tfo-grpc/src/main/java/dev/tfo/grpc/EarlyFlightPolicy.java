package dev.tfo.grpc;

import dev.tfo.TfoSynDataPolicy;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http2.Http2Headers;

/**
 * Admits into the SYN what the application's policy admits (by default the HTTP/2 preface and the connection-level
 * frames after it) and, after those, one whole call of a method that may ride ({@link EarlyCalls#rides}): its
 * HEADERS, any CONTINUATION, its DATA, up to and including the frame that ends the stream. Anything else in the
 * first write (another stream, a call not yet ended, an unknown method) is left to the application's policy.
 */
final class EarlyFlightPolicy implements TfoSynDataPolicy {
    private final TfoSynDataPolicy base;
    private final EarlyCalls calls;

    EarlyFlightPolicy(TfoSynDataPolicy base, EarlyCalls calls) {
        this.base = base;
        this.calls = calls;
    }

    @Override
    public int admit(ByteBuf firstWrite) {
        return Math.max(base.admit(firstWrite), earlyCall(firstWrite, calls));
    }

    /** The bytes up to the end of the first write's one riding call, after the preface; 0 when there is none. */
    static int earlyCall(ByteBuf b, EarlyCalls calls) {
        int start = b.readerIndex();
        int end = b.writerIndex();
        if (!Frames.isPreface(b, start)) {
            return 0;
        }
        int stream = 0;
        boolean collecting = false;
        boolean ended = false;
        ByteBuf block = null;
        try {
            for (int i = start + Frames.PREFACE.length; i + Frames.HEADER_LENGTH <= end; ) {
                int length = Frames.length(b, i);
                int type = Frames.type(b, i);
                int flags = Frames.flags(b, i);
                int id = Frames.stream(b, i);
                int payload = i + Frames.HEADER_LENGTH;
                if (payload + length > end) {
                    return 0; // a frame cut short: the call is not whole
                }
                if (collecting != (type == Frames.CONTINUATION)) {
                    return 0; // a header block is followed by its CONTINUATIONs, and by nothing else (section 6.10)
                }
                if (id == 0) {
                    i = payload + length; // connection-level: the base policy's business
                    continue;
                }
                if (type == Frames.HEADERS && stream == 0) {
                    stream = id;
                    int at = Frames.fragmentStart(b, payload, length, flags);
                    int n = Frames.fragmentLength(b, payload, length, flags);
                    if (at < 0 || n < 0 || n > Frames.MAX_BLOCK) {
                        return 0;
                    }
                    block = ByteBufAllocator.DEFAULT.heapBuffer(n).writeBytes(b, at, n);
                    ended = (flags & Frames.FLAG_END_STREAM) != 0;
                    collecting = (flags & Frames.FLAG_END_HEADERS) == 0;
                } else if (id == stream && type == Frames.CONTINUATION) {
                    if (block.readableBytes() + length > Frames.MAX_BLOCK) {
                        return 0;
                    }
                    block.writeBytes(b, payload, length);
                    collecting = (flags & Frames.FLAG_END_HEADERS) == 0;
                } else if (id == stream && type == Frames.DATA) {
                    ended = (flags & Frames.FLAG_END_STREAM) != 0;
                } else {
                    return 0; // another stream, or a frame a call does not open with
                }
                i = payload + length;
                if (!collecting && ended) {
                    Http2Headers headers = Frames.decodeFirstBlock(block);
                    return headers != null && calls.rides(headers) ? i - start : 0;
                }
            }
            return 0;
        } finally {
            if (block != null) {
                block.release();
            }
        }
    }

    @Override
    public String toString() {
        return "EarlyFlightPolicy{" + base + " + one riding call}";
    }
}
