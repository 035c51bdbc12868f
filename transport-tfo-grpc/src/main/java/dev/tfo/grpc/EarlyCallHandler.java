package dev.tfo.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.PromiseNotifier;

import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Sends a gRPC call that is safe to replay with the HTTP/2 preface, ahead of the server's SETTINGS, so that with TCP
 * Fast Open it rides in the SYN. First in the client pipeline of a grpc-netty channel (below it only the TFO gate).
 *
 * <p>grpc-netty writes no call before the server's first SETTINGS frame has arrived (RFC 9113 section 3.4 lets a
 * client send frames right after its preface). Once grpc has written its preface, and if every call of the channel
 * in flight may ride ({@link EarlyCalls#mayRideEarly}), this handler reads grpc a SETTINGS frame of its own, allowing
 * ONE stream: grpc marks the transport ready and writes the call. It swallows grpc's ACK of that frame, the one
 * frame the server must never see, and holds every write until the call's END_STREAM: one flush, one SYN. The
 * server's own SETTINGS then apply as they arrive (a missing {@code MAX_CONCURRENT_STREAMS} is spelled out, since
 * the protocol's default, unlimited, is no longer grpc's view), and the handler leaves the pipeline.
 *
 * <p>Anything that does not fit waits for the server's SETTINGS, as without this handler: a first write that is not
 * the preface (TLS), a call that may not ride, a header list over {@link EarlyCalls#MAX_HEADER_LIST}, a second
 * stream. The hold is bounded by {@link #MAX_HOLD_MILLIS}; a close releases what is held.
 */
final class EarlyCallHandler extends ChannelDuplexHandler {
    static final String NAME = "tfo-grpc-early-call";
    /** How long writes wait for the call's END_STREAM before they leave anyway (a call that does not end at once). */
    static final long MAX_HOLD_MILLIS = 100;

    /** A write's promise and where its bytes end in {@link #flight}. */
    private record Held(ChannelPromise promise, int end) {
    }

    private final EarlyCalls calls;
    private ChannelHandlerContext ctx;

    /** Whether grpc's first write was seen. */
    private boolean decided;
    /** Bytes written by grpc since its preface (copies), grpc's ACK of our SETTINGS left out. */
    private ByteBuf flight;
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    /** {@link #flight} bytes already passed on. */
    private int released;
    /** Writes are held (until the call ends, the hold times out, or the server's SETTINGS arrive). */
    private boolean holding;
    /** Where the bytes begin that must wait for the server's SETTINGS; -1: none. */
    private int waitFrom = -1;
    /** The header list size of the waiting call (checked against the server's limit); 0 when none. */
    private long waitingHeaderList;
    private Future<?> holdTimer;

    /** Our SETTINGS were read to grpc; its ACK is still to be swallowed. */
    private boolean fired;
    private boolean ackOwed;
    /** The server's first frame was read (or its first bytes are no HTTP/2). */
    private boolean serverSpoke;
    /** The server's first bytes, until its first frame is whole. */
    private ByteBuf inbound;

    // The outbound frame scanner: the current frame's header, the first stream and its header block.
    private int prefaceLeft = Frames.PREFACE.length;
    private final byte[] head = new byte[Frames.HEADER_LENGTH];
    private int headFill;
    private int payloadLeft;
    private int frameStart;
    private int type;
    private int flags;
    private int stream;
    private int firstStream;
    private int firstHeadersStart;
    private ByteBuf headerBlock;
    private int skipLeft;
    private int padLength;
    private boolean collecting;
    private boolean firstEnded;
    /** Where the frame begins that the scan found must wait for the server's SETTINGS (-1: none), and its size. */
    private int waitAt = -1;
    private long waitSize;

    EarlyCallHandler(EarlyCalls calls) {
        this.calls = calls;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!decided) {
            decided = true;
            if (!(msg instanceof ByteBuf b) || !Frames.isPreface(b, b.readerIndex())) {
                // Not grpc's plaintext preface (TLS, or another grpc): nothing to do here.
                leave(ctx, msg, promise);
                return;
            }
            if (!calls.mayRideEarly()) {
                // No call in flight, or one that may not ride: every call waits for the server's SETTINGS, as without us.
                leave(ctx, msg, promise);
                return;
            }
            flight = ctx.alloc().buffer(512);
            holding = true;
            holdTimer = ctx.executor().schedule(this::holdExpired, MAX_HOLD_MILLIS, TimeUnit.MILLISECONDS);
            ctx.executor().execute(this::fireOneStreamSettings);
        }
        if (flight == null) {
            ctx.write(msg, promise); // closed meanwhile: Netty fails it
            return;
        }
        if (!(msg instanceof ByteBuf b)) {
            // grpc writes bytes only; what cannot be scanned cannot be ordered with what is held.
            ReferenceCountUtil.release(msg);
            promise.tryFailure(new IllegalStateException("not a ByteBuf: " + msg.getClass().getName()));
            return;
        }
        try {
            scan(b);
        } finally {
            b.release();
        }
        held.add(new Held(promise, flight.writerIndex()));
        if (waitAt >= 0) {
            waitForServer(waitAt, waitSize);
            waitAt = -1;
        }
        if (holding && firstEnded && !collecting) {
            stopHolding(ctx); // the call is whole: one flush, one SYN
        } else if (!holding) {
            release(waitFrom < 0 ? flight.writerIndex() : waitFrom); // the call left already: bytes follow it
        }
        maybeLeave(ctx);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (!holding) {
            ctx.flush(); // while holding, grpc's flushes (after its preface, after the call's HEADERS) wait
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (flight == null || serverSpoke || !(msg instanceof ByteBuf b)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (inbound == null) {
            inbound = ctx.alloc().buffer(64);
        }
        inbound.writeBytes(b);
        b.release();
        if (inbound.readableBytes() < Frames.HEADER_LENGTH) {
            return; // the server's first frame header is not whole yet
        }
        int length = Frames.length(inbound, 0);
        boolean settings = Frames.type(inbound, 0) == Frames.SETTINGS && Frames.flags(inbound, 0) == 0
                && Frames.stream(inbound, 0) == 0 && length % 6 == 0 && length <= Frames.MAX_BLOCK;
        if (settings && inbound.readableBytes() < Frames.HEADER_LENGTH + length) {
            return; // the server's SETTINGS are not whole yet
        }
        ByteBuf first = inbound;
        inbound = null;
        serverSpoke = true;
        long maxHeaderList = settings
                ? Frames.setting(first, Frames.HEADER_LENGTH, length, Frames.SETTINGS_MAX_HEADER_LIST_SIZE) : -1;
        if (settings && fired && Frames.setting(first, Frames.HEADER_LENGTH, length,
                Frames.SETTINGS_MAX_CONCURRENT_STREAMS) < 0) {
            // grpc took our limit of one stream; the server's SETTINGS leave the protocol's default: say it.
            first = withUnlimitedStreams(ctx, first, length);
        }
        // Not HTTP/2 at all: what is held goes (grpc fails the connection as it would have) with the bytes.
        serverSettled(ctx, maxHeaderList);
        ctx.fireChannelRead(first);
        maybeLeave(ctx);
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        failHeld(new ClosedChannelException()); // nothing held survives the channel
        ctx.close(promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        failHeld(new ClosedChannelException());
        if (inbound != null) {
            ByteBuf partial = inbound; // a server that said less than a frame: grpc judges it, as without us
            inbound = null;
            ctx.fireChannelRead(partial);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        failHeld(new ClosedChannelException());
        if (inbound != null) {
            inbound.release();
            inbound = null;
        }
    }

    /** Reads grpc a SETTINGS frame allowing one stream, as if the server had sent it. */
    private void fireOneStreamSettings() {
        if (serverSpoke || flight == null || !ctx.channel().isActive()) {
            return; // the server's own SETTINGS came first, or the channel is gone: grpc needs no help
        }
        fired = true;
        ackOwed = true;
        ctx.fireChannelRead(ctx.alloc().buffer(Frames.ONE_STREAM_SETTINGS.length)
                .writeBytes(Frames.ONE_STREAM_SETTINGS));
        ctx.fireChannelReadComplete();
    }

    private void holdExpired() {
        holdTimer = null;
        if (holding) {
            stopHolding(ctx); // the call did not end at once: what is held leaves now
        }
    }

    /** The server's first frame arrived: what waited for it leaves (or fails, if the server cannot take it). */
    private void serverSettled(ChannelHandlerContext ctx, long maxHeaderList) {
        if (flight == null) {
            return;
        }
        if (waitFrom >= 0 && maxHeaderList >= 0 && waitingHeaderList > maxHeaderList) {
            // grpc encoded this call before it knew the server's limit; sent, it would cost the connection.
            release(waitFrom);
            ctx.flush();
            // An HTTP/2 error, as Netty's encoder raises when it knows the limit: grpc fails the call INTERNAL, as
            // it does without this module.
            failHeld(Http2Exception.connectionError(Http2Error.PROTOCOL_ERROR, "a header list of %d bytes exceeds "
                    + "the server's SETTINGS_MAX_HEADER_LIST_SIZE %d", waitingHeaderList, maxHeaderList));
            ctx.close();
            return;
        }
        waitFrom = -1;
        stopHolding(ctx);
    }

    private void stopHolding(ChannelHandlerContext ctx) {
        holding = false;
        if (holdTimer != null) {
            holdTimer.cancel(false);
            holdTimer = null;
        }
        release(waitFrom < 0 ? flight.writerIndex() : waitFrom);
        ctx.flush();
    }

    /** Leaves the pipeline once the server has spoken and nothing is owed or held. */
    private void maybeLeave(ChannelHandlerContext ctx) {
        if (serverSpoke && !ackOwed && !holding && waitFrom < 0 && !ctx.isRemoved()) {
            ctx.pipeline().remove(this);
        }
    }

    private void leave(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        ctx.write(msg, promise);
        ctx.pipeline().remove(this);
    }

    /** Passes on the held bytes before {@code upTo} (a copy), completing their writes once it is written. */
    private void release(int upTo) {
        List<ChannelPromise> done = new ArrayList<>();
        while (!held.isEmpty() && held.peek().end() <= upTo) {
            done.add(held.poll().promise());
        }
        if (upTo <= released && done.isEmpty()) {
            return;
        }
        ChannelPromise written = ctx.newPromise();
        if (!done.isEmpty()) {
            written.addListener(new PromiseNotifier<>(false, done.toArray(new ChannelPromise[0])));
        }
        // An empty write (grpc writes some) completes in its turn, after the bytes before it.
        ByteBuf bytes = upTo <= released ? Unpooled.EMPTY_BUFFER
                : ctx.alloc().buffer(upTo - released).writeBytes(flight, released, upTo - released);
        ctx.write(bytes, written);
        released = Math.max(released, upTo);
    }

    private void failHeld(Throwable cause) {
        holding = false;
        if (holdTimer != null) {
            holdTimer.cancel(false);
            holdTimer = null;
        }
        while (!held.isEmpty()) {
            held.poll().promise().tryFailure(cause);
        }
        if (flight != null) {
            flight.release();
            flight = null;
        }
        if (headerBlock != null) {
            headerBlock.release();
            headerBlock = null;
        }
    }

    /** From {@code at} on, bytes wait for the server's SETTINGS; those before leave now. */
    private void waitForServer(int at, long headerList) {
        if (waitFrom >= 0) {
            return;
        }
        waitFrom = at;
        waitingHeaderList = headerList;
        release(at);
        ctx.flush();
    }

    /** Copies {@code b} into the flight, frame by frame, noting what each frame asks for as it passes. */
    private void scan(ByteBuf b) {
        int i = b.readerIndex();
        int end = b.writerIndex();
        while (i < end) {
            int n;
            if (prefaceLeft > 0) {
                n = Math.min(prefaceLeft, end - i);
                prefaceLeft -= n;
                flight.writeBytes(b, i, n);
            } else if (headFill < Frames.HEADER_LENGTH) {
                if (headFill == 0) {
                    frameStart = flight.writerIndex();
                }
                n = Math.min(Frames.HEADER_LENGTH - headFill, end - i);
                b.getBytes(i, head, headFill, n);
                flight.writeBytes(b, i, n);
                headFill += n;
                if (headFill == Frames.HEADER_LENGTH) {
                    frameHeader();
                }
            } else {
                n = Math.min(payloadLeft, end - i);
                flight.writeBytes(b, i, n);
                collect(b, i, n);
                payloadLeft -= n;
                if (payloadLeft == 0) {
                    frameEnd();
                }
            }
            i += n;
        }
    }

    private void frameHeader() {
        payloadLeft = (head[0] & 0xff) << 16 | (head[1] & 0xff) << 8 | head[2] & 0xff;
        type = head[3] & 0xff;
        flags = head[4] & 0xff;
        stream = ((head[5] & 0x7f) << 24) | ((head[6] & 0xff) << 16) | ((head[7] & 0xff) << 8) | (head[8] & 0xff);
        if (type == Frames.SETTINGS && (flags & Frames.FLAG_ACK) != 0 && ackOwed && frameStart >= released) {
            // grpc's ACK of our SETTINGS: the server never sent them, so it never sees this.
            ackOwed = false;
            flight.writerIndex(frameStart);
            headFill = 0;
            return;
        }
        if (type == Frames.HEADERS && stream != 0) {
            if (firstStream == 0) {
                firstStream = stream; // the call that rides
                firstHeadersStart = frameStart;
                collecting = true;
                headerBlock = ctx.alloc().heapBuffer(256);
                skipLeft = ((flags & Frames.FLAG_PADDED) != 0 ? 1 : 0) + ((flags & Frames.FLAG_PRIORITY) != 0 ? 5 : 0);
                padLength = 0;
            } else if (waitAt < 0) {
                // A second stream (the first was reset early): it waits for the server's SETTINGS.
                waitAt = frameStart;
                waitSize = 0;
            }
        }
        if (payloadLeft == 0) {
            frameEnd();
        }
    }

    /** Copies the header block fragment of the first stream's HEADERS and CONTINUATION frames. */
    private void collect(ByteBuf b, int i, int n) {
        if (!collecting || stream != firstStream || (type != Frames.HEADERS && type != Frames.CONTINUATION)) {
            return;
        }
        int skip = Math.min(skipLeft, n);
        if (skip > 0 && type == Frames.HEADERS && (flags & Frames.FLAG_PADDED) != 0
                && skipLeft == ((flags & Frames.FLAG_PRIORITY) != 0 ? 6 : 1)) {
            padLength = b.getUnsignedByte(i); // the Pad Length field comes first
        }
        skipLeft -= skip;
        int copy = Math.min(n - skip, Frames.MAX_BLOCK + 1 - headerBlock.readableBytes());
        headerBlock.writeBytes(b, i + skip, Math.max(0, copy));
    }

    private void frameEnd() {
        headFill = 0;
        if (stream != firstStream || stream == 0) {
            return;
        }
        if (type == Frames.HEADERS) {
            headerBlock.writerIndex(Math.max(0, headerBlock.writerIndex() - padLength)); // padding is no header
        }
        if (collecting && (type == Frames.HEADERS || type == Frames.CONTINUATION)
                && (flags & Frames.FLAG_END_HEADERS) != 0) {
            collecting = false;
            Http2Headers headers = headerBlock.readableBytes() > Frames.MAX_BLOCK ? null
                    : Frames.decodeFirstBlock(headerBlock);
            headerBlock.release();
            headerBlock = null;
            if (headers == null || !calls.rides(headers)) {
                // Not a call that may ride (too large, or a method nobody vouched for): it waits.
                waitAt = firstHeadersStart;
                waitSize = headers == null ? Long.MAX_VALUE : Frames.listSize(headers);
            }
        }
        if ((flags & Frames.FLAG_END_STREAM) != 0 && (type == Frames.HEADERS || type == Frames.DATA)
                || type == Frames.RST_STREAM) {
            firstEnded = true;
        }
    }

    /** The server's first SETTINGS frame with {@code MAX_CONCURRENT_STREAMS} set to the protocol's default. */
    private static ByteBuf withUnlimitedStreams(ChannelHandlerContext ctx, ByteBuf frame, int length) {
        ByteBuf out = ctx.alloc().buffer(frame.readableBytes() + 6);
        out.writeMedium(length + 6);
        out.writeBytes(frame, 3, Frames.HEADER_LENGTH - 3 + length);
        out.writeShort(Frames.SETTINGS_MAX_CONCURRENT_STREAMS).writeInt((int) Frames.UNLIMITED);
        out.writeBytes(frame, Frames.HEADER_LENGTH + length, frame.readableBytes() - Frames.HEADER_LENGTH - length);
        frame.release();
        return out;
    }
}
