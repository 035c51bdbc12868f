package dev.tfo.example.echo;

import io.netty.channel.epoll.Epoll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class NettyTransportTest {

    @Test
    void namesAsOnTheCommandLine() {
        assertEquals("epoll", NettyTransport.EPOLL.toString());
        assertEquals("io_uring", NettyTransport.IO_URING.toString());
        assertEquals("nio", NettyTransport.NIO.toString());
    }

    @Test
    void bestPrefersEpollAndIsAlwaysUsable() {
        NettyTransport best = NettyTransport.best();
        assertNull(best.unavailabilityCause());
        assertEquals(Epoll.isAvailable(), best == NettyTransport.EPOLL);
        assertNull(NettyTransport.NIO.unavailabilityCause());
    }
}
