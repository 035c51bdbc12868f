package dev.tfo.frameworks;

import dev.tfo.TfoBootstraps;
import dev.tfo.TfoCounters;
import dev.tfo.TfoResult;
import dev.tfo.testkit.Capture;
import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.Packet;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import static dev.tfo.frameworks.Witness.WAIT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Plain Netty clients configured with the README recipe "Plain Netty" ({@link FrameworkTfo#plainNetty}): the
 * habit {@code connect().sync()} then {@code writeAndFlush} from the caller's thread, and a client that reads
 * before it writes (SMTP, FTP, MySQL: the server speaks first) against a banner server. With the raw kernel option
 * and a cached cookie, {@code connect()} succeeds at once and NO packet leaves until the first write: the first
 * client's request rides in the SYN; the second waits for a banner that cannot come.
 */
@FreshNetns
class PlainNettyTfoTest {
    private static final String BANNER_IP = "127.0.0.16";
    private static final String ECHO_IP = "127.0.0.17";
    private static final String BANNER = "220 banner\r\n";
    /** How long the test watches for a SYN that never leaves. */
    private static final Duration NO_SYN_FOR = Duration.ofSeconds(2);

    private static EventLoopGroup group;

    @BeforeAll
    static void startGroup() {
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    @AfterAll
    static void stopGroup() {
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** The habit: {@code connect().sync()}, then {@code writeAndFlush} from the caller's thread. */
    @Test
    void connectSyncThenWriteAndFlushRidesInTheSyn() throws Exception {
        BlockingQueue<TfoResult> serverResults = new LinkedBlockingQueue<>();
        Channel listener = listen(ECHO_IP, serverResults, EchoServer::new);
        InetSocketAddress server = (InetSocketAddress) listener.localAddress();
        try (Capture capture = Capture.here("lo", "tcp port " + server.getPort())) {
            for (int i = 0; i < 3; i++) {
                String what = "plain Netty connect-then-write #" + (i + 1);
                byte[] request = ("GET /" + i + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
                TfoCounters before = TfoCounters.snapshot();
                FirstWriteProbe probe = new FirstWriteProbe();
                Reader reader = new Reader(request.length);
                // README "Plain Netty".
                Bootstrap bootstrap = FrameworkTfo.plainNetty(new Bootstrap().group(group).channel(EpollSocketChannel.class)
                        .handler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                ch.pipeline().addLast(FirstWriteProbe.NAME, probe).addLast(reader);
                            }
                        }));
                Channel ch = bootstrap.connect(server).sync().channel();
                ch.writeAndFlush(Unpooled.wrappedBuffer(request)).sync();
                assertEquals(new String(request, StandardCharsets.US_ASCII),
                        reader.received.get(WAIT.toMillis(), TimeUnit.MILLISECONDS), what + ": echoed");
                TfoResult result = TfoResult.of(ch).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                TfoResult serverResult = serverResults.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                TfoCounters delta = TfoCounters.snapshot().minus(before);
                Packet syn = Witness.syn(capture, Witness.localPort(ch));
                if (i == 0) {
                    Witness.assertCookieRequest(what, syn, result, serverResult, delta);
                } else {
                    assertArrayEquals(request, probe.firstFlight(), what + ": the request is the first flight");
                    Witness.assertDataInSyn(what, syn, request, result, serverResult, delta);
                }
                System.out.printf("TIMING %s (%s, %s): %s%n", what, result.outcome(), ch.getClass().getSimpleName(),
                        probe.summary());
                ch.close().sync();
            }
        } finally {
            listener.close().sync();
        }
    }

    @Test
    void aReadFirstClientHangsWithTheRawOptionOnceACookieIsCached() throws Exception {
        BlockingQueue<TfoResult> serverResults = new LinkedBlockingQueue<>();
        Channel listener = listen(BANNER_IP, serverResults, BannerServer::new);
        try {
            InetSocketAddress server = (InetSocketAddress) listener.localAddress();
            try (Capture capture = Capture.here("lo", "tcp port " + server.getPort())) {
                // 1st connection, no cookie yet: the kernel sends a SYN with a cookie request at connect(); the
                // banner arrives.
                TfoCounters before = TfoCounters.snapshot();
                Client first = Client.connect(group, server);
                assertEquals(BANNER, first.banner.get(WAIT.toMillis(), TimeUnit.MILLISECONDS), "1st connection");
                TfoResult firstResult = TfoResult.of(first.channel).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                Witness.assertCookieRequest("read-first client, 1st connection",
                        Witness.syn(capture, Witness.localPort(first.channel)), firstResult,
                        serverResults.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS), TfoCounters.snapshot().minus(before));
                first.channel.close().sync();

                // 2nd connection, cookie cached: the connect "succeeds" at once, and nothing is sent.
                before = TfoCounters.snapshot();
                Client second = Client.connect(group, server);
                assertTrue(second.channel.isActive(), "Netty believes it is connected");
                Future<TfoResult> secondResult = TfoResult.of(second.channel);
                // TODO(read-first): this is the raw option's hang, asserted as it is today. With the library's
                // connect-then-write handler in FrameworkTfo.plainNetty the handshake must happen without a write:
                // flip to
                //     assertEquals(BANNER, second.banner.get(WAIT...)), a plain SYN (or cookie) in the capture, and
                //     secondResult's outcome reported (e.g. NOT_ATTEMPTED: no write before the handshake).
                assertThrows(TimeoutException.class,
                        () -> second.banner.get(NO_SYN_FOR.toMillis(), TimeUnit.MILLISECONDS),
                        "no banner within " + NO_SYN_FOR.toMillis() + " ms");
                int port = Witness.localPort(second.channel);
                List<Packet> seen = capture.packets().stream()
                        .filter(p -> p.srcPort() == port || p.dstPort() == port).toList();
                assertEquals(List.of(), seen, "not a single packet of the 2nd connection in "
                        + NO_SYN_FOR.toMillis() + " ms (no SYN ever left)");
                Witness.assertCounters("read-first client, 2nd connection", TfoCounters.snapshot().minus(before), 0, 0, 0);
                assertFalse(secondResult.isDone(), "no verdict: the handshake never began");
                assertNull(serverResults.poll(), "the server never saw the connection");
                System.out.printf("READ-FIRST 2nd connection: connect succeeded, active=%s, no packet and no banner"
                        + " in %d ms, TfoResult pending%n", second.channel.isActive(), NO_SYN_FOR.toMillis());

                second.channel.close().sync();
                secondResult.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                assertInstanceOf(ClosedChannelException.class, secondResult.cause(), "closed before any verdict");
            }
        } finally {
            listener.close().sync();
        }
    }

    /** A listener on {@code ip} with TFO; every accepted channel's outcome goes to {@code serverResults}. */
    private static Channel listen(String ip, BlockingQueue<TfoResult> serverResults,
            Supplier<ChannelHandler> handler) throws InterruptedException {
        ServerBootstrap sb = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        serverResults.add(TfoResult.of(ch).getNow());
                        ch.pipeline().addLast(handler.get());
                    }
                });
        return TfoBootstraps.server(sb, 64).bind(ip, 0).sync().channel();
    }

    /** Completes {@link #received} once {@code expected} bytes arrived. */
    private static final class Reader extends ChannelInboundHandlerAdapter {
        final CompletableFuture<String> received = new CompletableFuture<>();
        private final StringBuilder text = new StringBuilder();
        private final int expected;

        Reader(int expected) {
            this.expected = expected;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                text.append(((ByteBuf) msg).toString(StandardCharsets.US_ASCII));
            } finally {
                ReferenceCountUtil.release(msg);
            }
            if (text.length() >= expected) {
                received.complete(text.toString());
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            received.completeExceptionally(cause);
            ctx.close();
        }
    }

    /** Echoes. */
    private static final class EchoServer extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.writeAndFlush(msg);
        }
    }

    /** A client that only reads: it completes {@link #banner} with the first line the server sends. */
    private static final class Client extends ChannelInboundHandlerAdapter {
        final CompletableFuture<String> banner = new CompletableFuture<>();
        private final StringBuilder received = new StringBuilder();
        Channel channel;

        static Client connect(EventLoopGroup group, InetSocketAddress server) throws InterruptedException {
            Client client = new Client();
            // README "Plain Netty".
            Bootstrap bootstrap = FrameworkTfo.plainNetty(new Bootstrap().group(group).channel(EpollSocketChannel.class)
                    .handler(client));
            ChannelFuture connect = bootstrap.connect(server);
            assertTrue(connect.await(WAIT.toMillis()), "connect completes");
            assertTrue(connect.isSuccess(), "connect succeeds: " + connect.cause());
            client.channel = connect.channel();
            return client;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                received.append(((ByteBuf) msg).toString(StandardCharsets.US_ASCII));
            } finally {
                ReferenceCountUtil.release(msg);
            }
            if (received.indexOf("\r\n") >= 0) {
                banner.complete(received.toString());
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            banner.completeExceptionally(cause);
            ctx.close();
        }
    }

    /** Speaks first ({@value #BANNER}), then echoes. */
    private static final class BannerServer extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(Unpooled.copiedBuffer(BANNER, StandardCharsets.US_ASCII));
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.writeAndFlush(msg);
        }
    }
}
