package dev.tfo;

import dev.tfo.EchoFixture.Exchange;
import dev.tfo.testkit.TestTransport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Clients: configuration, bad input and the NIO fallback, in the build's own network namespace (whatever its
 * sysctl). Real TFO is proven in {@link TfoBootstrapsNetnsTest} and {@code FallbackMatrixTest}; servers are
 * {@link ServerChannelsTest}'s.
 */
class TfoBootstrapsTest {
    private static EventLoopGroup group;
    private static final ChannelHandler NOOP = new ChannelInboundHandlerAdapter() {
        @Override
        public boolean isSharable() {
            return true;
        }
    };

    @BeforeAll
    static void group() {
        group = TestTransport.EPOLL.newGroup(1);
    }

    @AfterAll
    static void shutdown() throws InterruptedException {
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
    }

    private static Bootstrap bootstrap() {
        return new Bootstrap().group(group).channel(EpollSocketChannel.class).handler(NOOP);
    }

    /** The channel factory changes nothing of the bootstrap but its channels; setters in any order. */
    @Test
    void aClientFactoryNeedsNoCallOrderAndLeavesTheRestAlone() throws Exception {
        TfoClientOptions mine = TfoClientOptions.builder().backoff(TfoBackoff.disabled()).build();
        Bootstrap b = new Bootstrap().channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new, mine))
                .handler(NOOP).group(group);
        assertSame(NOOP, b.config().handler(), "the user's handler, as set");
        assertTrue(b.config().attrs().isEmpty(), "no attribute of ours");
        assertNull(b.config().options().get(ChannelOption.TCP_FASTOPEN_CONNECT),
                "not Netty's option: the kernel's TCP_FASTOPEN_CONNECT is set per channel at its connect");
        Channel ch = b.register().sync().channel();
        try {
            assertEquals(TfoChannels.HANDLER_NAME, ch.pipeline().names().get(0), "the gate first");
            assertSame(NOOP, ch.pipeline().get(NOOP.getClass()), "then the bootstrap's own handler");
        } finally {
            ch.close().sync();
        }
    }

    /**
     * A first flight on a bootstrap whose channels come from TfoChannels: the factory makes the channel's one gate,
     * for the first flight, with the factory's options (no second gate replacing a connect-then-write one).
     */
    @Test
    void aFirstFlightOnTfoChannelsMakesItsOneGateForTheFirstFlight() throws Exception {
        TfoClientOptions mine = TfoClientOptions.builder().backoff(TfoBackoff.disabled()).build();
        ChannelFactory<EpollSocketChannel> tfo = TfoChannels.clientFactory(EpollSocketChannel::new, mine);
        java.util.List<SynGate> made = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.List<Channel> channels = new java.util.concurrent.CopyOnWriteArrayList<>();
        Bootstrap b = new Bootstrap().group(group).handler(NOOP).channelFactory(() -> {
            EpollSocketChannel ch = tfo.newChannel();
            made.add(Gates.of(ch));
            channels.add(ch);
            return ch;
        });
        ByteBuf data = Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII);
        TfoBootstraps.connect(b, new InetSocketAddress("127.0.0.1", 9), data).await();
        assertEquals(1, made.size());
        assertSame(made.get(0), Gates.of(channels.get(0)), "the factory's gate is the channel's, never replaced");
        assertNotEquals(SynGate.Mode.CONNECT_THEN_WRITE, made.get(0).mode, "made for the first flight");
        assertEquals(0, data.refCnt(), "the first flight released");
        // The same bootstrap's connect-then-write channels keep their mode.
        Channel plain = b.register().sync().channel();
        assertEquals(SynGate.Mode.CONNECT_THEN_WRITE, Gates.of(plain).mode);
        plain.close().sync();
    }

    /** A channel that is not TCP fails its connect, naming its class, as a bad channel class does in Netty. */
    @Test
    void aClientBootstrapOfANonTcpChannelFailsItsConnectNamingTheClass() throws Exception {
        Bootstrap udp = new Bootstrap().group(group).handler(NOOP)
                .channelFactory(TfoChannels.clientFactory(EpollDatagramChannel::new, TfoClientOptions.defaults()));
        ChannelFuture f = udp.connect(new InetSocketAddress("127.0.0.1", 9)).await();
        assertInstanceOf(IllegalArgumentException.class, f.cause());
        assertTrue(f.cause().getMessage().contains("EpollDatagramChannel is not a TCP SocketChannel"),
                f.cause().getMessage());
    }

    /** As in plain Netty: a non-@Sharable handler used for a second connection fails that connect. */
    @Test
    void aNonSharableHandlerFailsTheSecondConnectAsInPlainNetty() throws Exception {
        SocketAddress closedPort = new InetSocketAddress("127.0.0.1", 9);
        Bootstrap plain = new Bootstrap().group(group).channel(EpollSocketChannel.class)
                .handler(new ChannelInboundHandlerAdapter());
        Bootstrap tfo = TfoTestClients.tfo(new Bootstrap().group(group).channel(EpollSocketChannel.class)
                .handler(new ChannelInboundHandlerAdapter()));
        for (Bootstrap b : new Bootstrap[] {plain, tfo}) {
            ChannelFuture first = b.connect(closedPort).await();
            assertFalse(first.cause() instanceof io.netty.channel.ChannelPipelineException, String.valueOf(first.cause()));
            ChannelFuture second = b.connect(closedPort).await();
            assertInstanceOf(io.netty.channel.ChannelPipelineException.class, second.cause(), String.valueOf(second.cause()));
            assertTrue(second.cause().getMessage().contains("is not a @Sharable handler"), second.cause().getMessage());
            // (closeForcibly, as Netty closes a channel whose registration failed, completes no close future)
            group.submit(() -> { }).await(5, java.util.concurrent.TimeUnit.SECONDS); // one event loop: its queue drained
            assertFalse(second.channel().isOpen(), "closed");
        }
        ByteBuf data = Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII);
        Future<Channel> connect = TfoBootstraps.connect(tfo, closedPort, data).await();
        assertInstanceOf(io.netty.channel.ChannelPipelineException.class, connect.cause(), String.valueOf(connect.cause()));
        assertEquals(0, data.refCnt(), "the first flight released");
    }

    @Test
    void connectRejectsBadInputNamingTheArgumentAndReleasesTheBuffer() {
        SocketAddress somewhere = new InetSocketAddress("127.0.0.1", 9);
        assertEquals("firstFlight", assertThrows(NullPointerException.class,
                () -> TfoBootstraps.connect(bootstrap(), somewhere, null)).getMessage());

        ByteBuf forNullBootstrap = Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII);
        assertEquals("bootstrap", assertThrows(NullPointerException.class,
                () -> TfoBootstraps.connect(null, somewhere, forNullBootstrap)).getMessage());
        assertEquals(0, forNullBootstrap.refCnt());

        ByteBuf forNullAddress = Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII);
        assertEquals("remoteAddress", assertThrows(NullPointerException.class,
                () -> TfoBootstraps.connect(bootstrap(), null, forNullAddress)).getMessage());
        assertEquals(0, forNullAddress.refCnt());

        ByteBuf empty = Unpooled.buffer(8);
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TfoBootstraps.connect(bootstrap(), somewhere, empty)).getMessage().startsWith("firstFlight: empty"));
        assertEquals(0, empty.refCnt());

        ByteBuf released = Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII);
        released.release();
        assertEquals("firstFlight: already released", assertThrows(IllegalArgumentException.class,
                () -> TfoBootstraps.connect(bootstrap(), somewhere, released)).getMessage());

        ByteBuf forUdp = Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII);
        Bootstrap udp = new Bootstrap().group(group).channel(EpollDatagramChannel.class).handler(NOOP);
        assertThrows(IllegalArgumentException.class, () -> TfoBootstraps.connect(udp, somewhere, forUdp));
        assertEquals(0, forUdp.refCnt());
        assertSame(NOOP, udp.config().handler(), "the caller's bootstrap is not modified");
    }

    @Test
    void connectOnAnUnconfiguredBootstrapLeavesItUntouched() throws Exception {
        try (EchoFixture echo = new EchoFixture(TestTransport.EPOLL)) {
            SocketAddress server = echo.startServer("127.0.0.1", 0);
            CompletableFuture<byte[]> echoed = new CompletableFuture<>();
            Bootstrap plain = echo.clientBootstrap(5, echoed);
            ChannelHandler handler = plain.config().handler();
            TfoBootstraps.connect(plain, server, Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII))
                    .sync();
            assertArrayEquals("hello".getBytes(StandardCharsets.US_ASCII), echoed.get(10, java.util.concurrent.TimeUnit.SECONDS));
            assertSame(handler, plain.config().handler());
            assertNull(plain.config().attrs().get(Verdict.KEY));
        }
    }

    @Test
    void nioDeliversTheSameBytesAndSaysWhyThereWasNoTfo() throws Exception {
        try (EchoFixture echo = new EchoFixture(TestTransport.NIO)) {
            SocketAddress server = echo.startServer("127.0.0.1", 16);
            byte[] payload = EchoFixture.random(70_000, 7);
            for (int i = 0; i < 2; i++) {
                Exchange x = echo.exchange(server, payload);
                assertArrayEquals(payload, x.echoed);
                assertEquals(TfoOutcome.NOT_ATTEMPTED, x.client.outcome());
                assertTrue(x.client.reason().contains("NioSocketChannel cannot send data in a SYN"), x.client.reason());
                TfoResult accepted = echo.serverResults.take();
                assertEquals(TfoOutcome.NO_SYN_DATA, accepted.outcome());
            }
        }
    }

    @Test
    void refusedWithoutTfoFailsTheFutureAndReleasesTheBuffer() throws Exception {
        try (EchoFixture echo = new EchoFixture(TestTransport.NIO)) {
            // A port nobody listens on, on an address of its own (a port freed on 127.0.0.1 can be taken at once by
            // another process), closed by a blocking socket (NIO closes a registered listener only at its next select).
            SocketAddress server;
            try (java.net.ServerSocket once = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.3.7"))) {
                server = once.getLocalSocketAddress();
            }
            ByteBuf data = Unpooled.copiedBuffer("nobody listens", StandardCharsets.US_ASCII);
            Bootstrap b = TfoTestClients.tfo(echo.clientBootstrap(14, new CompletableFuture<>()));
            io.netty.util.concurrent.Future<?> f = TfoBootstraps.connect(b, server, data).await();
            assertTrue(String.valueOf(f.cause()).contains("refused"), "cause: " + f.cause());
            assertEquals(0, data.refCnt());
        }
    }
}
