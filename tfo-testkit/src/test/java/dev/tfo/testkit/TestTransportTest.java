package dev.tfo.testkit;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TestTransportTest {
    @Test
    void namesAsUsersWriteThem() {
        for (TestTransport t : TestTransport.values()) {
            assertSame(t, TestTransport.of(t.displayName()));
            assertSame(t, TestTransport.of(t.displayName().toUpperCase(java.util.Locale.ROOT)));
        }
        assertEquals("transport: expected epoll, io_uring or nio, got kqueue",
                assertThrows(IllegalArgumentException.class, () -> TestTransport.of("kqueue")).getMessage());
        assertEquals(List.of(TestTransport.EPOLL, TestTransport.IO_URING), TestTransport.tfoCapable());
        assertTrue(TestTransport.EPOLL.isTfoCapable());
        assertTrue(TestTransport.IO_URING.isTfoCapable());
        assertFalse(TestTransport.NIO.isTfoCapable());
    }

    @Test
    void eachTransportHasLoopbackAddressesOfItsOwn() {
        assertEquals("127.0.0.31", TestTransport.EPOLL.loopbackAddress(31));
        assertEquals("127.0.1.31", TestTransport.IO_URING.loopbackAddress(31));
        assertEquals("127.0.2.254", TestTransport.NIO.loopbackAddress(254));
        assertEquals(TestTransport.values().length, java.util.Arrays.stream(TestTransport.values())
                .map(t -> t.loopbackAddress(1)).distinct().count());
        assertThrows(IllegalArgumentException.class, () -> TestTransport.EPOLL.loopbackAddress(0));
        assertThrows(IllegalArgumentException.class, () -> TestTransport.EPOLL.loopbackAddress(255));
    }

    @Test
    void theNettyLineOfTheClassPathIsTheOneTheBuildAskedFor() {
        String expected = System.getProperty("tfo.expectedNettyVersion");
        assertEquals(expected, TestTransport.nettyVersion());
        assertEquals(!expected.startsWith("4.1."), TestTransport.ioHandlerApi());
    }

    @Test
    void onlyIoUringOnNetty41IsADeclaredAbsence() {
        assertEquals(Optional.empty(), TestTransport.EPOLL.declaredAbsence());
        assertEquals(Optional.empty(), TestTransport.NIO.declaredAbsence());
        assertEquals(TestTransport.ioHandlerApi() ? Optional.empty()
                        : Optional.of("declared: Netty 4.1 has no io_uring transport"),
                TestTransport.IO_URING.declaredAbsence());
        assertTrue(TestTransport.NO_IO_URING_ON_41.startsWith(TestTransport.DECLARED));
    }

    @ParameterizedTest
    @EnumSource(TestTransport.class)
    void makesGroupsAndNamesChannelClasses(TestTransport transport) throws InterruptedException {
        EventLoopGroup group = transport.newGroup(1); // io_uring on Netty 4.1: the declared skip
        try {
            String expectedGroup = TestTransport.ioHandlerApi() ? "MultiThreadIoEventLoopGroup"
                    : transport == TestTransport.NIO ? "NioEventLoopGroup" : "EpollEventLoopGroup";
            assertEquals(expectedGroup, group.getClass().getSimpleName());
            Class<? extends ServerSocketChannel> server = transport.serverChannel();
            Class<? extends SocketChannel> client = transport.channel();
            String prefix = transport == TestTransport.EPOLL ? "Epoll" : transport == TestTransport.NIO ? "Nio" : "IoUring";
            assertEquals(prefix + "ServerSocketChannel", server.getSimpleName());
            assertEquals(prefix + "SocketChannel", client.getSimpleName());
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
