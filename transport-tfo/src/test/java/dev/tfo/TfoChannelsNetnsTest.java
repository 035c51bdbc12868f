package dev.tfo;

import dev.tfo.testkit.Capture;
import dev.tfo.testkit.EchoHandlers;
import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.Host;
import dev.tfo.testkit.Packet;
import dev.tfo.testkit.Rule;
import dev.tfo.testkit.TestTransport;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Connect first, write later, against the real kernel in a fresh network namespace ({@code tcp_fastopen=3}):
 * every claim with its witnesses (the {@link TfoResult}, the TcpExt counters, the SYN on the wire).
 *
 * <p>Cookies are cached per destination IP: each test serves on loopback addresses of its own (127.0.2.x).
 */
@FreshNetns
class TfoChannelsNetnsTest {
    private static final AtomicInteger NEXT_IP = new AtomicInteger(10);

    private static String freshIp() {
        return "127.0.2." + NEXT_IP.getAndIncrement();
    }

    private static String get(int i) {
        return "GET /connect-then-write/" + i + " HTTP/1.1\r\nHost: tfo\r\n\r\n";
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    /** What one connect-then-write connection gave. */
    private static final class Exchange {
        final Channel channel;
        final TfoResult result;
        final byte[] echoed;
        final TfoCounters delta;

        Exchange(Channel channel, TfoResult result, byte[] echoed, TfoCounters delta) {
            this.channel = channel;
            this.result = result;
            this.echoed = echoed;
            this.delta = delta;
        }
    }

    /** {@code connect().sync()}, then {@code writeAndFlush}: the pattern every Netty user writes by habit. */
    private static Exchange connectThenWrite(EchoFixture echo, SocketAddress server, String request,
                                             TfoClientOptions options) throws Exception {
        TfoCounters before = TfoCounters.snapshot();
        CompletableFuture<byte[]> echoed = new CompletableFuture<>();
        Bootstrap b = TfoTestClients.tfo(echo.clientBootstrap(request.length(), echoed), options);
        Channel ch = b.connect(server).sync().channel();
        ch.writeAndFlush(ascii(request));
        byte[] got = echoed.get(10, TimeUnit.SECONDS);
        TfoResult result = TfoResult.of(ch).get(10, TimeUnit.SECONDS);
        ch.closeFuture().await(10, TimeUnit.SECONDS);
        return new Exchange(ch, result, got, TfoCounters.snapshot().minus(before));
    }

    @ParameterizedTest
    @MethodSource("dev.tfo.testkit.TestTransport#tfoCapable")
    void connectThenWriteRidesInTheSynFromTheSecondConnectionOn(TestTransport transport) throws Exception {
        try (EchoFixture echo = new EchoFixture(transport)) {
            InetSocketAddress server = (InetSocketAddress) echo.startServer(freshIp(), 64);
            try (Capture capture = Capture.here("lo", "tcp port " + server.getPort())) {
                for (int i = 0; i < 4; i++) {
                    String request = get(i);
                    Exchange x = connectThenWrite(echo, server, request, TfoClientOptions.defaults());
                    TfoResult accepted = echo.serverResults.poll(10, TimeUnit.SECONDS);
                    assertArrayEquals(request.getBytes(StandardCharsets.US_ASCII), x.echoed, "echo " + i);
                    assertNotNull(accepted);
                    if (i == 0) {
                        assertEquals(TfoOutcome.COOKIE_REQUESTED, x.result.outcome(), x.result.toString());
                        assertTrue(x.delta.cookieReqd() >= 1, x.delta.toString());
                        assertEquals(0, x.delta.active(), x.delta.toString());
                    } else {
                        assertEquals(TfoOutcome.SYN_DATA_ACKED, x.result.outcome(), x.result.toString());
                        assertEquals(request.length(), x.result.synDataBytes());
                        assertEquals(TfoOutcome.SYN_DATA_ACCEPTED, accepted.outcome(), accepted.toString());
                        assertEquals(1, x.delta.active(), "Active delta " + i + ": " + x.delta);
                        assertEquals(1, x.delta.passive(), "Passive delta " + i + ": " + x.delta);
                        String expected = request;
                        Packet syn = capture.await(p -> p.isSynWithData() && p.dstPort() == server.getPort()
                                && new String(p.payload(), StandardCharsets.US_ASCII).equals(expected),
                                Duration.ofSeconds(10));
                        assertTrue(syn.fastOpenCookie().orElseThrow().length > 0, "the SYN carries a cookie: " + syn);
                    }
                }
            }
        }
    }

    /** Reactor Netty's {@code doOnChannelInit}, Lettuce's {@code NettyCustomizer}: code run at channel init. */
    @ParameterizedTest
    @MethodSource("dev.tfo.testkit.TestTransport#tfoCapable")
    void anInitHookGetsTheSameTfo(TestTransport transport) throws Exception {
        try (EchoFixture echo = new EchoFixture(transport)) {
            SocketAddress server = echo.startServer(freshIp(), 64);
            for (int i = 0; i < 2; i++) {
                String request = get(i);
                CompletableFuture<byte[]> echoed = new CompletableFuture<>();
                Bootstrap b = new Bootstrap().group(echo.group).channel(transport.channel())
                        .handler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                TfoChannels.client(ch);
                                ch.pipeline().addLast(EchoHandlers.collector(request.length(), echoed));
                            }
                        });
                Channel ch = b.connect(server).sync().channel();
                ch.writeAndFlush(ascii(request));
                assertArrayEquals(request.getBytes(StandardCharsets.US_ASCII), echoed.get(10, TimeUnit.SECONDS));
                TfoResult r = TfoResult.of(ch).get(10, TimeUnit.SECONDS);
                assertEquals(i == 0 ? TfoOutcome.COOKIE_REQUESTED : TfoOutcome.SYN_DATA_ACKED, r.outcome(), r.toString());
            }
        }
    }

    /** gRPC's {@code NettyChannelBuilder.channelFactory}: the factory is the hook. */
    @Test
    void aChannelFactoryHookGetsTheSameTfo() throws Exception {
        try (EchoFixture echo = new EchoFixture(TestTransport.EPOLL)) {
            SocketAddress server = echo.startServer(freshIp(), 64);
            for (int i = 0; i < 2; i++) {
                String request = get(i);
                CompletableFuture<byte[]> echoed = new CompletableFuture<>();
                Bootstrap b = new Bootstrap().group(echo.group)
                        .channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new))
                        .handler(EchoHandlers.collector(request.length(), echoed));
                Channel ch = b.connect(server).sync().channel();
                ch.writeAndFlush(ascii(request));
                assertArrayEquals(request.getBytes(StandardCharsets.US_ASCII), echoed.get(10, TimeUnit.SECONDS));
                TfoResult r = TfoResult.of(ch).get(10, TimeUnit.SECONDS);
                assertEquals(i == 0 ? TfoOutcome.COOKIE_REQUESTED : TfoOutcome.SYN_DATA_ACKED, r.outcome(), r.toString());
            }
        }
    }

    /**
     * A server that speaks first (SMTP, MySQL, FTP): with a cookie cached the kernel defers the SYN until a
     * write, and this client never writes. The 1st connection (a cookie request, a real handshake) shows that
     * the server speaks first, so the 2nd connection's gate sends its SYN without data at once.
     */
    @ParameterizedTest
    @MethodSource("dev.tfo.testkit.TestTransport#tfoCapable")
    void aClientThatReadsFirstGetsItsBannerWithoutHanging(TestTransport transport) throws Exception {
        try (EchoFixture echo = new EchoFixture(transport)) {
            String banner = "220 tfo banner ready\r\n";
            ServerBootstrap sb = new ServerBootstrap().group(echo.group)
                    .channelFactory(TfoChannels.serverFactory(new ReflectiveChannelFactory<>(transport.serverChannel()),
                            TfoServerOptions.builder().queueLength(64).build()))
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            TfoResult.of(ch).addListener(f -> echo.serverResults.add((TfoResult) f.getNow()));
                            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelActive(ChannelHandlerContext ctx) {
                                    ctx.writeAndFlush(ascii(banner));
                                }
                            });
                        }
                    });
            Channel listener = sb.bind(new InetSocketAddress(freshIp(), 0)).sync().channel();
            InetSocketAddress server = (InetSocketAddress) listener.localAddress();
            try (Capture capture = Capture.here("lo", "tcp port " + server.getPort())) {
                for (int i = 0; i < 2; i++) {
                    CompletableFuture<byte[]> got = new CompletableFuture<>();
                    Bootstrap b = TfoTestClients.tfo(echo.clientBootstrap(banner.length(), got));
                    long start = System.nanoTime();
                    Channel ch = b.connect(server).sync().channel();
                    assertArrayEquals(banner.getBytes(StandardCharsets.US_ASCII), got.get(10, TimeUnit.SECONDS),
                            "the banner arrives: no hang");
                    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                    TfoResult r = TfoResult.of(ch).get(10, TimeUnit.SECONDS);
                    TfoResult accepted = echo.serverResults.poll(10, TimeUnit.SECONDS);
                    System.out.println("[measured] read-first client over " + transport + ", connection " + (i + 1)
                            + ": banner after " + millis + " ms; client " + r + "; server " + accepted);
                    if (i == 0) {
                        assertEquals(TfoOutcome.COOKIE_REQUESTED, r.outcome(), r.toString());
                    } else {
                        assertEquals(TfoOutcome.NOT_ATTEMPTED, r.outcome(), r.toString());
                        assertEquals("the server speaks first: the handshake started without data", r.reason(),
                                "learned on the 1st connection, where the banner came before any write");
                        assertEquals("TFO child without data in the SYN", accepted.reason(),
                                "the data-less SYN carried the cookie: the server accepted at once");
                        Packet syn = capture.await(p -> p.isSyn() && !p.isSynAck() && p.dstPort() == server.getPort()
                                && p.fastOpenCookie().map(c -> c.length > 0).orElse(false), Duration.ofSeconds(5));
                        assertEquals(0, syn.payloadLength(), syn.toString());
                    }
                }
            } finally {
                listener.close().sync();
            }
        }
    }

    /**
     * EINPROGRESS for real: the cookie disappears between the deferred connect and the first write
     * ({@code ip tcp_metrics flush}), so the kernel sends a SYN without data; nothing is lost.
     */
    @ParameterizedTest
    @MethodSource("dev.tfo.testkit.TestTransport#tfoCapable")
    void aCookieGoneBeforeTheFirstWriteLosesNothing(TestTransport transport) throws Exception {
        try (EchoFixture echo = new EchoFixture(transport)) {
            SocketAddress server = echo.startServer(freshIp(), 64);
            connectThenWrite(echo, server, get(0), TfoClientOptions.defaults());
            String request = get(1);
            CompletableFuture<byte[]> echoed = new CompletableFuture<>();
            // Flushing the metrics takes a process start: the write must not come after firstWriteWait.
            TfoClientOptions patient = TfoClientOptions.builder().firstWriteWait(Duration.ofSeconds(30)).build();
            Bootstrap b = TfoTestClients.tfo(echo.clientBootstrap(request.length(), echoed), patient);
            Channel ch = b.connect(server).sync().channel(); // deferred: the cookie is cached
            Host.current().exec("ip", "tcp_metrics", "flush");
            ch.writeAndFlush(ascii(request));
            assertArrayEquals(request.getBytes(StandardCharsets.US_ASCII), echoed.get(10, TimeUnit.SECONDS));
            TfoResult r = TfoResult.of(ch).get(10, TimeUnit.SECONDS);
            assertEquals(TfoOutcome.COOKIE_REQUESTED, r.outcome(), r.toString());
            assertEquals(0, r.synDataBytes(), "the SYN left without data (EINPROGRESS)");
        }
    }

    /** The default policy keeps a non-idempotent request out of the SYN; the capture shows it. */
    @Test
    void aPostStaysOutOfTheSynByDefault() throws Exception {
        try (EchoFixture echo = new EchoFixture(TestTransport.EPOLL)) {
            InetSocketAddress server = (InetSocketAddress) echo.startServer(freshIp(), 64);
            connectThenWrite(echo, server, get(0), TfoClientOptions.defaults());
            echo.serverResults.poll(10, TimeUnit.SECONDS);
            String post = "POST /transfer HTTP/1.1\r\nContent-Length: 11\r\n\r\n{\"usd\":100}";
            try (Capture capture = Capture.here("lo", "tcp port " + server.getPort())) {
                Exchange x = connectThenWrite(echo, server, post, TfoClientOptions.defaults());
                assertArrayEquals(post.getBytes(StandardCharsets.US_ASCII), x.echoed);
                assertEquals(TfoOutcome.NOT_ATTEMPTED, x.result.outcome(), x.result.toString());
                assertEquals(0, x.delta.active(), x.delta.toString());
                TfoResult accepted = echo.serverResults.poll(10, TimeUnit.SECONDS);
                assertEquals(TfoOutcome.NO_SYN_DATA, accepted.outcome(), accepted.toString());
                List<Packet> packets = capture.stop();
                assertTrue(packets.stream().noneMatch(Packet::isSynWithData), "no SYN carried data:\n"
                        + Capture.render(packets));
                assertTrue(packets.stream().anyMatch(p -> p.isSyn() && !p.isSynAck()
                        && p.fastOpenCookie().map(c -> c.length > 0).orElse(false)), "the SYN still had its cookie");
            }
            TfoClientOptions any = TfoClientOptions.builder().synDataPolicy(TfoSynDataPolicy.any()).build();
            Exchange vouched = connectThenWrite(echo, server, post, any);
            assertEquals(TfoOutcome.SYN_DATA_ACKED, vouched.result.outcome(), "rides when the user says so");
        }
    }

    /** A silent server: the deferred connect succeeded, the SYN is dropped, the handshake never ends. */
    @Test
    void aSilentServerFailsTheConnectionAtConnectTimeout() throws Exception {
        try (EchoFixture echo = new EchoFixture(TestTransport.EPOLL)) {
            InetSocketAddress server = (InetSocketAddress) echo.startServer(freshIp(), 64);
            connectThenWrite(echo, server, get(0), TfoClientOptions.defaults());
            try (Rule drop = Host.current().iptables("INPUT", "-p", "tcp", "--dport",
                    String.valueOf(server.getPort()), "--syn", "-j", "DROP")) {
                CompletableFuture<byte[]> echoed = new CompletableFuture<>();
                Bootstrap b = TfoTestClients.tfo(echo.clientBootstrap(1, echoed)
                        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 500));
                long start = System.nanoTime();
                Channel ch = b.connect(server).sync().channel();
                ch.writeAndFlush(ascii(get(1)));
                ExecutionFailure failure = ExecutionFailure.of(echoed);
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertInstanceOf(ConnectTimeoutException.class, failure.cause, String.valueOf(failure.cause));
                assertEquals("handshake with " + server + " not completed within 500 ms of its SYN "
                        + "(CONNECT_TIMEOUT_MILLIS)", failure.cause.getMessage());
                assertTrue(ch.closeFuture().await(5, TimeUnit.SECONDS), "closed");
                assertTrue(millis >= 500 && millis < 5000, "failed after " + millis + " ms");
                assertTrue(drop.packets() > 0, "the SYN was dropped");
                System.out.println("[measured] connect-then-write to a silent server: failed after " + millis
                        + " ms (CONNECT_TIMEOUT_MILLIS 500)");
            }
        }
    }

    /** A refused connection after the SYN left with data names the server in the pipeline's exception. */
    @ParameterizedTest
    @MethodSource("dev.tfo.testkit.TestTransport#tfoCapable")
    void aRefusalAfterTheSynLeftNamesTheServer(TestTransport transport) throws Exception {
        try (EchoFixture echo = new EchoFixture(transport)) {
            InetSocketAddress server = (InetSocketAddress) echo.startServer(freshIp(), 64);
            connectThenWrite(echo, server, get(0), TfoClientOptions.defaults());
            echo.stopServer();
            CompletableFuture<byte[]> echoed = new CompletableFuture<>();
            Channel ch = TfoTestClients.tfo(echo.clientBootstrap(1, echoed)).connect(server).sync().channel();
            ch.writeAndFlush(ascii(get(1)));
            Throwable cause = ExecutionFailure.of(echoed).cause;
            assertInstanceOf(ConnectException.class, cause, String.valueOf(cause));
            assertTrue(cause.getMessage().startsWith("connection to " + server + " "), cause.getMessage());
            assertTrue(cause.getMessage().contains("refused"), cause.getMessage());
            assertTrue(ch.closeFuture().await(5, TimeUnit.SECONDS));
            assertFalse(TfoResult.of(ch).isSuccess());
        }
    }

    /** Client bit off (live): a plain connect, a result that says why, and not one log line per connect. */
    @Test
    void withTheClientBitOffTheConnectIsPlainAndQuiet() throws Exception {
        List<String> warnings = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= Level.INFO.intValue()) {
                    warnings.add(record.getLoggerName() + ": " + record.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger root = Logger.getLogger("");
        try (EchoFixture echo = new EchoFixture(TestTransport.EPOLL)) {
            SocketAddress server = echo.startServer(freshIp(), 64);
            root.addHandler(handler);
            Host.current().sysctl("net.ipv4.tcp_fastopen", "2");
            for (int i = 0; i < 3; i++) {
                Exchange x = connectThenWrite(echo, server, get(i), TfoClientOptions.defaults());
                assertArrayEquals(get(i).getBytes(StandardCharsets.US_ASCII), x.echoed);
                assertEquals(TfoOutcome.NOT_ATTEMPTED, x.result.outcome());
                assertEquals("net.ipv4.tcp_fastopen lacks the client bit 0x1 (live value: 2)", x.result.reason());
            }
            assertEquals(List.of(), warnings, "no log noise");
        } finally {
            root.removeHandler(handler);
            Host.current().sysctl("net.ipv4.tcp_fastopen", "3");
        }
    }

    /** A middlebox that eats SYNs with data: one SYN_RETRANSMITTED, then plain connects (backoff). */
    @Test
    void aPathThatDropsSynDataIsBackedOffAfterOneRetransmission() throws Exception {
        try (EchoFixture echo = new EchoFixture(TestTransport.EPOLL)) {
            InetSocketAddress server = (InetSocketAddress) echo.startServer(freshIp(), 64);
            TfoClientOptions options = TfoClientOptions.builder().backoff(TfoBackoff.builder().build()).build();
            connectThenWrite(echo, server, get(0), options);
            try (Rule drop = Host.current().iptables("INPUT", "-p", "tcp", "--dport",
                    String.valueOf(server.getPort()), "--syn", "-m", "length", "--length", "81:65535", "-j", "DROP")) {
                Exchange first = connectThenWrite(echo, server, get(1), options);
                Exchange second = connectThenWrite(echo, server, get(2), options);
                assertEquals(TfoOutcome.SYN_RETRANSMITTED, first.result.outcome(), first.result.toString());
                assertArrayEquals(get(1).getBytes(StandardCharsets.US_ASCII), first.echoed);
                assertEquals(TfoOutcome.NOT_ATTEMPTED, second.result.outcome(), second.result.toString());
                assertTrue(second.result.reason().startsWith("TFO to " + server.getAddress().getHostAddress()
                        + " backing off"), second.result.reason());
                assertArrayEquals(get(2).getBytes(StandardCharsets.US_ASCII), second.echoed);
                assertTrue(drop.packets() > 0);
                assertEquals(1, options.backoff().backedOffDestinations());
            }
        }
    }

    /**
     * Cancelling {@link TfoBootstraps#connect}'s future at every moment: the channel closes, the first flight
     * is released exactly once (paranoid leak detection would also report it), and a cancelled probe leaves
     * the backoff as it was.
     */
    @Test
    void cancellingTheConnectAtEveryMomentClosesAndReleases() throws Exception {
        try (EchoFixture echo = new EchoFixture(TestTransport.EPOLL)) {
            InetSocketAddress server = (InetSocketAddress) echo.startServer(freshIp(), 64);
            AtomicLong clock = new AtomicLong(1);
            TfoBackoff backoff = TfoBackoff.builder().initial(Duration.ofSeconds(1)).build(clock::get);
            TfoClientOptions options = TfoClientOptions.builder().backoff(backoff).build();
            List<Channel> channels = new CopyOnWriteArrayList<>();
            Bootstrap b = TfoTestClients.tfo(new Bootstrap().group(echo.group).channel(TestTransport.EPOLL.channel())
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            channels.add(ch);
                            ch.pipeline().addLast(EchoHandlers.collector(1 << 20, new CompletableFuture<>()));
                        }
                    }), options);

            // at once: before the registration (every event loop held until the cancel, so that the connect to a
            // loopback server, quick as it is, cannot finish first)
            CountDownLatch hold = new CountDownLatch(1);
            for (EventExecutor loop : echo.group) {
                loop.execute(() -> {
                    try {
                        hold.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
            cancelAndCheck(b, server, channels, "at once", hold::countDown);

            // the connect pending: no cookie yet, and the plain SYN is dropped
            try (Rule drop = Host.current().iptables("INPUT", "-p", "tcp", "--dport",
                    String.valueOf(server.getPort()), "--syn", "-j", "DROP")) {
                cancelAndCheck(b, server, channels, "connect pending", () -> { }, drop);
            }

            // during the handshake of a deferred connect that is the backoff's probe; its SYN with data dropped
            TfoBootstraps.connect(b, server, ascii("x")).sync(); // caches the cookie
            backoff.record(server, TfoOutcome.SYN_RETRANSMITTED);
            clock.addAndGet(TimeUnit.SECONDS.toNanos(2));
            try (Rule drop = Host.current().iptables("INPUT", "-p", "tcp", "--dport",
                    String.valueOf(server.getPort()), "--syn", "-m", "length", "--length", "81:65535", "-j", "DROP")) {
                cancelAndCheck(b, server, channels, "handshake in flight", () -> { }, drop);
            }
            assertNotNull(backoff.skipReason(server), "the cancelled probe taught nothing: still waiting for a probe");

            // after success: too late to cancel, the channel stays
            ByteBuf data = ascii("y");
            Future<Channel> done = TfoBootstraps.connect(b, server, data).sync();
            assertFalse(done.cancel(false));
            assertTrue(done.getNow().isOpen());
            assertEquals(0, data.refCnt());
            done.getNow().close().sync();
        }
    }

    private static void cancelAndCheck(Bootstrap b, SocketAddress server, List<Channel> channels, String moment,
                                       Runnable afterCancel, Rule... drops) throws Exception {
        int before = channels.size();
        ByteBuf data = ascii("first flight " + moment);
        Future<Channel> f = TfoBootstraps.connect(b, server, data);
        if (drops.length > 0) {
            Rule drop = drops[0];
            dev.tfo.testkit.Wait.until("a SYN dropped (" + moment + ")", Duration.ofSeconds(10), () -> drop.packets() > 0);
        }
        boolean cancelled = f.cancel(false);
        afterCancel.run();
        assertTrue(cancelled, moment + ": cancelled");
        dev.tfo.testkit.Wait.until("the channel of '" + moment + "' registered", Duration.ofSeconds(10),
                () -> channels.size() > before || data.refCnt() == 0);
        if (channels.size() > before) {
            Channel ch = channels.get(before);
            assertTrue(ch.closeFuture().await(5, TimeUnit.SECONDS), moment + ": channel closed");
        }
        dev.tfo.testkit.Wait.until(moment + ": first flight released", Duration.ofSeconds(5), () -> data.refCnt() == 0);
        assertTrue(f.isCancelled());
    }

    /** The failure a collector saw (the pipeline's exception). */
    private static final class ExecutionFailure {
        final Throwable cause;

        private ExecutionFailure(Throwable cause) {
            this.cause = cause;
        }

        static ExecutionFailure of(CompletableFuture<byte[]> collected) throws InterruptedException {
            try {
                byte[] got = collected.get(10, TimeUnit.SECONDS);
                throw new AssertionError("expected the connection to fail, it collected " + got.length + " bytes");
            } catch (java.util.concurrent.ExecutionException e) {
                return new ExecutionFailure(e.getCause());
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError("the connection neither failed nor completed within 10 s");
            }
        }
    }
}
