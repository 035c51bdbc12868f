package dev.tfo.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.io.ByteArrayOutputStream;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The two ends of the echo traffic the tests measure: a server handler that writes back what it reads, and a
 * client handler that collects the echo. Shared by every module's tests, so that each echo test differs only
 * in what it sets up around them.
 *
 * <pre>{@code
 * serverBootstrap.childHandler(EchoHandlers.echo());
 * CompletableFuture<byte[]> echoed = new CompletableFuture<>();
 * bootstrap.handler(EchoHandlers.collector(request.length, echoed));
 * }</pre>
 */
public final class EchoHandlers {
    private static final ChannelHandler ECHO = new Echo();

    private EchoHandlers() {
    }

    /**
     * A sharable handler that writes every message it reads back to its sender, flushed.
     *
     * @return the handler (one instance for every pipeline)
     */
    public static ChannelHandler echo() {
        return ECHO;
    }

    /**
     * A handler (one per channel) that collects the bytes it reads. When it has {@code expected} bytes or
     * more it completes {@code sink} with them and closes the channel; when the channel closes first it
     * completes {@code sink} with what it got; an exception completes {@code sink} exceptionally and closes the
     * channel. Every buffer it reads is released.
     *
     * @param expected how many bytes make the whole answer; {@code >= 0}
     * @param sink     completed with the bytes read
     * @return the handler
     * @throws IllegalArgumentException if {@code expected} is negative
     */
    public static ChannelHandler collector(int expected, CompletableFuture<byte[]> sink) {
        if (expected < 0) {
            throw new IllegalArgumentException("expected: " + expected + " (expected: >= 0)");
        }
        return new Collector(expected, Objects.requireNonNull(sink, "sink"));
    }

    @ChannelHandler.Sharable
    private static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.writeAndFlush(msg);
        }
    }

    private static final class Collector extends ChannelInboundHandlerAdapter {
        private final int expected;
        private final CompletableFuture<byte[]> sink;
        private final ByteArrayOutputStream got = new ByteArrayOutputStream();

        Collector(int expected, CompletableFuture<byte[]> sink) {
            this.expected = expected;
            this.sink = sink;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                ByteBuf buf = (ByteBuf) msg;
                byte[] bytes = new byte[buf.readableBytes()];
                buf.readBytes(bytes);
                got.writeBytes(bytes);
            } finally {
                ReferenceCountUtil.release(msg);
            }
            if (got.size() >= expected && sink.complete(got.toByteArray())) {
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            sink.complete(got.toByteArray());
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            sink.completeExceptionally(cause);
            ctx.close();
        }
    }
}
