package dev.tfo.internal;

import dev.tfo.testkit.TestTransport;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TransportTest {
    @Test
    void detectsTheTransportFromTheChannelClass() {
        assertEquals(Transport.EPOLL, Transport.ofClass(EpollSocketChannel.class));
        assertEquals(Transport.EPOLL, Transport.ofClass(EpollServerSocketChannel.class));
        assertEquals(Transport.OTHER, Transport.ofClass(NioSocketChannel.class));
        assertTrue(Transport.EPOLL.isNative());
        assertFalse(Transport.OTHER.isNative());
        assertFalse(Transport.OTHER.nettyClientTfo());
        assertEquals("io_uring", Transport.IO_URING.displayName());
    }

    @Test
    void detectsIoUringChannelsWithoutLinkingThem() {
        assertEquals(Transport.IO_URING, Transport.ofClass(TestTransport.IO_URING.channel()));
        assertEquals(Transport.IO_URING, Transport.ofClass(TestTransport.IO_URING.serverChannel()));
    }

    @Test
    void aNonNativeChannelHasNoTcpInfo() {
        EmbeddedChannel ch = new EmbeddedChannel();
        try {
            assertEquals(Transport.OTHER, Transport.of(ch));
            assertNull(TcpInfo.read(ch));
        } finally {
            ch.finishAndReleaseAll();
        }
    }
}
