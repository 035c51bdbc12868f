package dev.tfo;

import dev.tfo.EchoFixture.Exchange;
import dev.tfo.testkit.Capture;
import dev.tfo.testkit.EchoHandlers;
import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.Packet;
import dev.tfo.testkit.TestTransport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real TFO, in a JVM inside a fresh network namespace with {@code net.ipv4.tcp_fastopen=3} (the testkit's
 * netns-java): cookies, data in the SYN on both sides, proven by outcome, counters and packets.
 *
 * <p>The kernel caches cookies per destination IP, per namespace: every test serves on its own loopback
 * address so that its first connection really is the first to that server.
 */
@FreshNetns
class TfoBootstrapsNetnsTest {
    private static final AtomicInteger NEXT_IP = new AtomicInteger(10);

    private static String freshIp() {
        return "127.0.0." + NEXT_IP.getAndIncrement();
    }

    @ParameterizedTest
    @MethodSource("dev.tfo.testkit.TestTransport#tfoCapable")
    void firstConnectionRequestsACookieThenEveryFirstFlightRidesInTheSyn(TestTransport transport) throws Exception {
        try (EchoFixture echo = new EchoFixture(transport)) {
            SocketAddress server = echo.startServer(freshIp(), 64);
            for (int i = 0; i < 5; i++) {
                byte[] payload = ("request " + i + " over " + transport).getBytes(StandardCharsets.US_ASCII);
                TfoCounters before = TfoCounters.snapshot();
                Exchange x = echo.exchange(server, payload);
                TfoCounters delta = TfoCounters.snapshot().minus(before);
                TfoResult accepted = echo.serverResults.poll(10, TimeUnit.SECONDS);

                assertArrayEquals(payload, x.echoed, "echo of connection " + i);
                assertNotNull(accepted, "server result of connection " + i);
                if (i == 0) {
                    assertEquals(TfoOutcome.COOKIE_REQUESTED, x.client.outcome(), x.client.toString());
                    assertEquals(TfoOutcome.NO_SYN_DATA, accepted.outcome(), accepted.toString());
                    assertTrue(delta.cookieReqd() >= 1, "CookieReqd delta: " + delta);
                    assertEquals(0, delta.active(), "Active delta: " + delta);
                } else {
                    assertEquals(TfoOutcome.SYN_DATA_ACKED, x.client.outcome(), x.client.toString());
                    assertEquals(TfoOutcome.SYN_DATA_ACCEPTED, accepted.outcome(), accepted.toString());
                    assertEquals(1, delta.active(), "Active delta of connection " + i + ": " + delta);
                    assertEquals(1, delta.passive(), "Passive delta of connection " + i + ": " + delta);
                    assertEquals(0, delta.activeFail() + delta.passiveFail(), "failures: " + delta);
                }
            }
        }
    }

    @Test
    void theSynOnTheWireCarriesThePayload() throws Exception {
        try (EchoFixture echo = new EchoFixture(TestTransport.EPOLL)) {
            InetSocketAddress server = (InetSocketAddress) echo.startServer(freshIp(), 64);
            byte[] payload = "GET /the-first-flight-travels-in-the-syn".getBytes(StandardCharsets.US_ASCII);
            try (Capture capture = Capture.here("lo", "tcp port " + server.getPort())) {
                assertEquals(TfoOutcome.COOKIE_REQUESTED, echo.exchange(server, payload).client.outcome());
                assertEquals(TfoOutcome.SYN_DATA_ACKED, echo.exchange(server, payload).client.outcome());
                Packet syn = capture.await(p -> p.isSynWithData() && p.dstPort() == server.getPort(),
                        Duration.ofSeconds(10));
                assertArrayEquals(payload, syn.payload(), "payload of " + syn);
                List<Packet> packets = capture.stop();
                long plainSynsWithCookieRequest = packets.stream()
                        .filter(p -> p.isSyn() && !p.isSynAck() && p.payloadLength() == 0).count();
                assertEquals(1, plainSynsWithCookieRequest, "one cookie-request SYN:\n" + Capture.render(packets));
                Packet cookieRequest = packets.stream().filter(p -> p.isSyn() && !p.isSynAck()).findFirst()
                        .orElseThrow();
                assertEquals(0, cookieRequest.fastOpenCookie().orElseThrow().length,
                        "the first SYN asks for a cookie: " + cookieRequest);
            }
        }
    }

    static Stream<Object[]> sizes() {
        return TestTransport.tfoCapable().stream().flatMap(transport -> Stream.of(1, 1420, 64 * 1024, 1024 * 1024)
                .map(size -> new Object[] {transport, size}));
    }

    @ParameterizedTest(name = "{0} {1} bytes")
    @MethodSource("sizes")
    void firstFlightsOfEverySizeArriveIntact(TestTransport transport, int size) throws Exception {
        try (EchoFixture echo = new EchoFixture(transport)) {
            SocketAddress server = echo.startServer(freshIp(), 64);
            echo.exchange(server, new byte[] {1}); // caches the cookie
            byte[] payload = EchoFixture.random(size, size);
            Exchange x = echo.exchange(server, payload);
            assertTrue(Arrays.equals(payload, x.echoed), size + " bytes echoed intact (got " + x.echoed.length + ")");
            assertEquals(TfoOutcome.SYN_DATA_ACKED, x.client.outcome(), x.client.toString());
        }
    }

    @ParameterizedTest
    @MethodSource("dev.tfo.testkit.TestTransport#tfoCapable")
    void refusedAfterTheDataLeftInTheSynFailsTheReturnedFuture(TestTransport transport) throws Exception {
        try (EchoFixture echo = new EchoFixture(transport)) {
            SocketAddress server = echo.startServer(freshIp(), 64);
            echo.exchange(server, new byte[] {1});
            assertEquals(TfoOutcome.SYN_DATA_ACKED, echo.exchange(server, new byte[] {2}).client.outcome());
            echo.stopServer();

            ByteBuf data = Unpooled.copiedBuffer("nobody listens", StandardCharsets.US_ASCII);
            Bootstrap b = TfoTestClients.tfo(echo.clientBootstrap(14, new CompletableFuture<>()));
            Future<Channel> f = TfoBootstraps.connect(b, server, data).await();
            assertFalse(f.isSuccess(), "connect to a closed port with a cookie cached must fail");
            assertTrue(String.valueOf(f.cause()).contains("refused"), "cause: " + f.cause());
            assertEquals(0, data.refCnt(), "first flight released exactly once");
        }
    }

    @ParameterizedTest
    @MethodSource("dev.tfo.testkit.TestTransport#tfoCapable")
    void refusedWithoutACookieFailsTheReturnedFuture(TestTransport transport) throws Exception {
        try (EchoFixture echo = new EchoFixture(transport)) {
            SocketAddress server = echo.startServer(freshIp(), 64);
            echo.stopServer();
            ByteBuf data = Unpooled.copiedBuffer("nobody listens", StandardCharsets.US_ASCII);
            Bootstrap b = TfoTestClients.tfo(echo.clientBootstrap(14, new CompletableFuture<>()));
            Future<Channel> f = TfoBootstraps.connect(b, server, data).await();
            assertFalse(f.isSuccess());
            assertTrue(String.valueOf(f.cause()).contains("refused"), "cause: " + f.cause());
            assertEquals(0, data.refCnt());
        }
    }

    /**
     * Writing the first flight before the connect (in initChannel) and flushing in channelActive still works on
     * a client() bootstrap; bytes of an unknown protocol ride in the SYN only when the policy admits them.
     */
    @ParameterizedTest
    @MethodSource("dev.tfo.testkit.TestTransport#tfoCapable")
    void userWritesInInitChannelAndFlushesInChannelActive(TestTransport transport) throws Exception {
        try (EchoFixture echo = new EchoFixture(transport)) {
            SocketAddress server = echo.startServer(freshIp(), 64);
            byte[] payload = "written in initChannel".getBytes(StandardCharsets.US_ASCII);
            TfoClientOptions any = TfoClientOptions.builder().synDataPolicy(TfoSynDataPolicy.any()).build();
            TfoClientOptions replaySafe = TfoClientOptions.builder().build();
            TfoClientOptions[] options = {any, any, replaySafe};
            TfoOutcome[] expected = {TfoOutcome.COOKIE_REQUESTED, TfoOutcome.SYN_DATA_ACKED, TfoOutcome.NOT_ATTEMPTED};
            for (int i = 0; i < options.length; i++) {
                CompletableFuture<byte[]> echoed = new CompletableFuture<>();
                Bootstrap b = new Bootstrap().group(echo.group).channel(transport.channel())
                        .handler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                                    @Override
                                    public void channelActive(ChannelHandlerContext ctx) {
                                        ctx.flush();
                                        ctx.fireChannelActive();
                                    }
                                }, EchoHandlers.collector(payload.length, echoed));
                                ch.write(Unpooled.wrappedBuffer(payload));
                            }
                        });
                Channel ch = TfoTestClients.tfo(b, options[i]).connect(server).sync().channel();
                TfoResult result = TfoResult.of(ch).get(10, TimeUnit.SECONDS);
                assertArrayEquals(payload, echoed.get(10, TimeUnit.SECONDS));
                assertEquals(expected[i], result.outcome(), result.toString());
                if (i == 2) {
                    assertTrue(result.reason().startsWith("the first write (22 bytes) stayed out of the SYN: "
                            + "TfoSynDataPolicy.replaySafe()"), result.reason());
                    assertEquals(0, result.synDataBytes());
                }
            }
        }
    }

    @Test
    void aServerThatIssuesNoCookiesIsNamedFromTheSecondConnectionOn() throws Exception {
        try (EchoFixture echo = new EchoFixture(TestTransport.EPOLL)) {
            SocketAddress server = echo.startServer(freshIp(), 0); // no TCP_FASTOPEN on the listener
            Exchange first = echo.exchange(server, new byte[] {1});
            Exchange second = echo.exchange(server, new byte[] {2});
            assertEquals(TfoOutcome.COOKIE_REQUESTED, first.client.outcome());
            assertTrue(first.client.reason().startsWith("no cookie was cached for this server: the SYN requested"),
                    first.client.reason());
            assertEquals(TfoOutcome.COOKIE_REQUESTED, second.client.outcome());
            assertEquals(CookieRequests.NONE_RETURNED, second.client.reason());
            assertArrayEquals(new byte[] {2}, second.echoed);
        }
    }

    @Test
    void theResultOutlivesTheChannel() throws Exception {
        try (EchoFixture echo = new EchoFixture(TestTransport.EPOLL)) {
            SocketAddress server = echo.startServer(freshIp(), 64);
            echo.exchange(server, new byte[] {1});
            CompletableFuture<byte[]> echoed = new CompletableFuture<>();
            Bootstrap b = TfoTestClients.tfo(echo.clientBootstrap(3, echoed));
            Channel ch = TfoBootstraps.connect(b, server, Unpooled.wrappedBuffer(new byte[] {1, 2, 3}))
                    .get(10, TimeUnit.SECONDS);
            echoed.get(10, TimeUnit.SECONDS); // the collector closes the channel once all is echoed
            ch.closeFuture().sync();
            Future<TfoResult> result = TfoResult.of(ch);
            assertTrue(result.isDone(), "decided before the close, still there after it");
            assertEquals(TfoOutcome.SYN_DATA_ACKED, result.getNow().outcome());
        }
    }

    @Test
    void resultListenersAreToldEveryConnectionOnBothSides() throws Exception {
        try (EchoFixture echo = new EchoFixture(TestTransport.EPOLL)) {
            List<String> serverTold = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<String> clientTold = new java.util.concurrent.CopyOnWriteArrayList<>();
            io.netty.bootstrap.ServerBootstrap sb = new io.netty.bootstrap.ServerBootstrap().group(echo.group)
                    .channelFactory(TfoChannels.serverFactory(EpollServerSocketChannel::new, TfoServerOptions.builder()
                            .queueLength(16)
                            .resultListener((child, r) -> serverTold.add(r.outcome() + " " + child.remoteAddress()))
                            .build()))
                    .childHandler(EchoHandlers.echo());
            Channel listener = sb.bind(new InetSocketAddress(freshIp(), 0)).sync().channel();
            TfoClientOptions options = TfoClientOptions.builder()
                    .resultListener((ch, r) -> clientTold.add(r.outcome() + " " + ch.localAddress())).build();
            try {
                for (int i = 0; i < 3; i++) {
                    CompletableFuture<byte[]> echoed = new CompletableFuture<>();
                    Bootstrap b = TfoTestClients.tfo(echo.clientBootstrap(1, echoed), options);
                    Channel ch = TfoBootstraps.connect(b, listener.localAddress(), Unpooled.wrappedBuffer(new byte[] {7}))
                            .get(10, TimeUnit.SECONDS);
                    echoed.get(10, TimeUnit.SECONDS);
                    ch.closeFuture().sync();
                }
                dev.tfo.testkit.Wait.until("three accepted results", Duration.ofSeconds(10), () -> serverTold.size() == 3);
                assertEquals(List.of("COOKIE_REQUESTED", "SYN_DATA_ACKED", "SYN_DATA_ACKED"),
                        clientTold.stream().map(t -> t.split(" ")[0]).collect(java.util.stream.Collectors.toList()));
                assertEquals(List.of("NO_SYN_DATA", "SYN_DATA_ACCEPTED", "SYN_DATA_ACCEPTED"),
                        serverTold.stream().map(t -> t.split(" ")[0]).collect(java.util.stream.Collectors.toList()));
                for (int i = 0; i < 3; i++) {
                    assertEquals(clientTold.get(i).split(" ")[1], serverTold.get(i).split(" ")[1],
                            "the same connection, seen from both ends");
                }
            } finally {
                listener.close().sync();
            }
        }
    }

    @Test
    void supportIsFullyAvailableInsideTheNamespace() {
        TfoSupport support = TfoSupport.current();
        assertEquals(3, support.sysctl());
        assertTrue(support.isClientAvailable() && support.isServerAvailable(), support.describe());
        assertTrue(support.describe().contains("Netty's cached view matches"), support.describe());
    }
}
