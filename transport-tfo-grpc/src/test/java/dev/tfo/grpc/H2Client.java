package dev.tfo.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2ConnectionDecoder;
import io.netty.handler.codec.http2.DefaultHttp2ConnectionEncoder;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.StreamBufferingEncoder;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * An HTTP/2 client as grpc-netty builds one (Netty's codec, a {@code StreamBufferingEncoder} over the default
 * encoder), which writes its calls once the first SETTINGS frame was read, as grpc-netty's transport does when it
 * becomes ready. The handler under test sits before it, as it does before grpc's.
 */
final class H2Client {
    final Http2Connection connection = new DefaultHttp2Connection(false);
    final StreamBufferingEncoder encoder = new StreamBufferingEncoder(
            new DefaultHttp2ConnectionEncoder(connection, new DefaultHttp2FrameWriter()));
    final Http2ConnectionHandler handler;
    /** The calls to write once ready: each a header list and a message. */
    private final List<Object[]> calls = new ArrayList<>();
    final List<ChannelFuture> writes = new ArrayList<>();
    boolean endStream = true;
    int settingsRead;
    private ChannelHandlerContext ctx;

    H2Client() {
        DefaultHttp2ConnectionDecoder decoder = new DefaultHttp2ConnectionDecoder(connection, encoder,
                new DefaultHttp2FrameReader());
        decoder.frameListener(new Http2FrameAdapter() {
            @Override
            public void onSettingsRead(ChannelHandlerContext ctx, Http2Settings settings) {
                H2Client.this.ctx = ctx;
                if (settingsRead++ == 0) {
                    for (Object[] call : calls) {
                        write((Http2Headers) call[0], (byte[]) call[1]);
                    }
                    ctx.flush();
                }
            }
        });
        handler = new Http2ConnectionHandler(decoder, encoder, new Http2Settings()) {
        };
    }

    /** A call to write once ready. */
    H2Client call(String path, int extraHeaderBytes, String message) {
        Http2Headers headers = new DefaultHttp2Headers().method("POST").scheme("http").path(path)
                .authority("198.18.0.2:50051").set("content-type", "application/grpc").set("te", "trailers");
        if (extraHeaderBytes > 0) {
            headers.set("x-big", "x".repeat(extraHeaderBytes));
        }
        calls.add(new Object[] {headers, message.getBytes(StandardCharsets.UTF_8)});
        return this;
    }

    /** Writes one more call now (after the client is ready), flushed. */
    void writeNow(String path, String message) {
        call(path, 0, message);
        Object[] call = calls.get(calls.size() - 1);
        write((Http2Headers) call[0], (byte[]) call[1]);
        ctx.flush();
    }

    private void write(Http2Headers headers, byte[] message) {
        int id = connection.local().incrementAndGetNextStreamId();
        writes.add(encoder.writeHeaders(ctx, id, headers, 0, false, ctx.newPromise()));
        ByteBuf data = Unpooled.buffer(5 + message.length).writeByte(0).writeInt(message.length).writeBytes(message);
        writes.add(encoder.writeData(ctx, id, data, 0, endStream, ctx.newPromise()));
    }
}
