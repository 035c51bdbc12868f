package dev.tfo.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EchoHandlersTest {

    @Test
    void echoWritesBackWhatItReadsAndIsSharable() {
        assertSame(EchoHandlers.echo(), EchoHandlers.echo());
        EmbeddedChannel one = new EmbeddedChannel(EchoHandlers.echo());
        EmbeddedChannel two = new EmbeddedChannel(EchoHandlers.echo());
        ByteBuf sent = ascii("ping");
        one.writeInbound(sent);
        ByteBuf back = one.readOutbound();
        assertSame(sent, back, "the same buffer goes back");
        assertEquals("ping", back.toString(StandardCharsets.US_ASCII));
        back.release();
        assertNull(two.readOutbound());
        assertFalse(one.finish());
        assertFalse(two.finish());
    }

    @Test
    void collectorCompletesAtTheExpectedSizeAndCloses() throws Exception {
        CompletableFuture<byte[]> sink = new CompletableFuture<>();
        EmbeddedChannel ch = new EmbeddedChannel(EchoHandlers.collector(8, sink));
        ByteBuf first = ascii("abcd");
        ByteBuf second = ascii("efghij");
        ch.writeInbound(first);
        assertFalse(sink.isDone(), "4 of 8 bytes");
        assertTrue(ch.isOpen());
        ch.writeInbound(second);
        assertArrayEquals("abcdefghij".getBytes(StandardCharsets.US_ASCII), sink.get());
        assertFalse(ch.isOpen(), "closed once the answer is whole");
        assertEquals(0, first.refCnt());
        assertEquals(0, second.refCnt());
    }

    @Test
    void collectorCompletesWithWhatItGotWhenTheChannelCloses() throws Exception {
        CompletableFuture<byte[]> sink = new CompletableFuture<>();
        EmbeddedChannel ch = new EmbeddedChannel(EchoHandlers.collector(100, sink));
        ch.writeInbound(ascii("short"));
        ch.close();
        assertArrayEquals("short".getBytes(StandardCharsets.US_ASCII), sink.get());
    }

    @Test
    void collectorFailsTheSinkOnAnExceptionAndCloses() {
        CompletableFuture<byte[]> sink = new CompletableFuture<>();
        EmbeddedChannel ch = new EmbeddedChannel(EchoHandlers.collector(4, sink));
        IOException reset = new IOException("Connection reset by peer");
        ch.pipeline().fireExceptionCaught(reset);
        ExecutionException e = assertThrows(ExecutionException.class, sink::get);
        assertSame(reset, e.getCause());
        assertFalse(ch.isOpen());
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> EchoHandlers.collector(-1, new CompletableFuture<>()));
        assertTrue(negative.getMessage().startsWith("expected: -1"), negative.getMessage());
        NullPointerException nul = assertThrows(NullPointerException.class, () -> EchoHandlers.collector(1, null));
        assertEquals("sink", nul.getMessage());
        assertInstanceOf(io.netty.channel.ChannelHandler.class, EchoHandlers.collector(0, new CompletableFuture<>()));
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }
}
