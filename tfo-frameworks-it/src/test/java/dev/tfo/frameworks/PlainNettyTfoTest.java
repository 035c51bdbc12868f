package dev.tfo.frameworks;

import dev.tfo.TfoChannels;
import dev.tfo.TfoCounters;
import dev.tfo.TfoResult;
import dev.tfo.TfoServerOptions;
import dev.tfo.testkit.Capture;
import dev.tfo.testkit.EchoHandlers;
import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.Packet;
import dev.tfo.testkit.TestTransport;
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
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static dev.tfo.frameworks.Witness.WAIT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Plain Netty clients configured with the README recipe "Plain Netty" ({@link FrameworkTfo#plainNetty}): the
 * habit {@code connect().sync()} then {@code writeAndFlush} from the caller's thread, and a client that reads
 * before it writes (SMTP, FTP, MySQL: the server speaks first) against a banner server. With a cached cookie,
 * {@code connect()} succeeds at once and the kernel sends nothing until the first write: the first client's
 * request rides in the SYN; for the second, which never writes, the library sends a SYN without data at once
 * (the first connection showed that the server speaks first), and the banner comes.
 */
@FreshNetns
class PlainNettyTfoTest {
    private static final String BANNER_IP = "127.0.0.16";
    private static final String ECHO_IP = "127.0.0.17";
    private static final String BANNER = "220 banner\r\n";

    private static EventLoopGroup group;

    @BeforeAll
    static void startGroup() {
        group = TestTransport.EPOLL.newGroup(1);
    }

    @AfterAll
    static void stopGroup() {
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** The habit: {@code connect().sync()}, then {@code writeAndFlush} from the caller's thread. */
    @Test
    void connectSyncThenWriteAndFlushRidesInTheSyn() throws Exception {
        BlockingQueue<TfoResult> serverResults = new LinkedBlockingQueue<>();
        Channel listener = listen(ECHO_IP, serverResults, EchoHandlers::echo);
        InetSocketAddress server = (InetSocketAddress) listener.localAddress();
        try (Capture capture = Capture.here("lo", "tcp port " + server.getPort())) {
            for (int i = 0; i < 3; i++) {
                String what = "plain Netty connect-then-write #" + (i + 1);
                byte[] request = ("GET /" + i + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
                TfoCounters before = TfoCounters.snapshot();
                FirstWriteProbe probe = new FirstWriteProbe();
                CompletableFuture<byte[]> echoed = new CompletableFuture<>();
                // README "Plain Netty".
                Bootstrap bootstrap = FrameworkTfo.plainNetty(new Bootstrap().group(group)
                        .handler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                ch.pipeline().addLast(FirstWriteProbe.NAME, probe).addLast(EchoHandlers.collector(request.length, echoed));
                            }
                        }));
                Channel ch = bootstrap.connect(server).sync().channel();
                ch.writeAndFlush(Unpooled.wrappedBuffer(request)).sync();
                assertArrayEquals(request, echoed.get(WAIT.toMillis(), TimeUnit.MILLISECONDS), what + ": echoed");
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
    void aReadFirstClientGetsItsBannerOnceACookieIsCached() throws Exception {
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

                // 2nd connection, cookie cached: the connect succeeds at once and nothing is written; the server
                // spoke first on the 1st, so the library sends a SYN with the cookie and no data at once.
                before = TfoCounters.snapshot();
                long start = System.nanoTime();
                Client second = Client.connect(group, server);
                assertEquals(BANNER, second.banner.get(WAIT.toMillis(), TimeUnit.MILLISECONDS), "2nd connection: no hang");
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                TfoResult secondResult = TfoResult.of(second.channel).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                Witness.assertSynWithoutData("read-first client, 2nd connection",
                        Witness.syn(capture, Witness.localPort(second.channel)), "the server speaks first",
                        secondResult, serverResults.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS),
                        TfoCounters.snapshot().minus(before));
                System.out.printf("READ-FIRST 2nd connection: banner after %d ms, %s%n", millis, secondResult);
                second.channel.close().sync();
            }
        } finally {
            listener.close().sync();
        }
    }

    /** A listener on {@code ip} with TFO; every accepted channel's outcome goes to {@code serverResults}. */
    private static Channel listen(String ip, BlockingQueue<TfoResult> serverResults,
            Supplier<ChannelHandler> handler) throws InterruptedException {
        ServerBootstrap sb = new ServerBootstrap().group(group)
                .channelFactory(TfoChannels.serverFactory(EpollServerSocketChannel::new,
                        TfoServerOptions.builder().queueLength(64).build()))
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        serverResults.add(TfoResult.of(ch).getNow());
                        ch.pipeline().addLast(handler.get());
                    }
                });
        return sb.bind(ip, 0).sync().channel();
    }

    /** A client that only reads: it completes {@link #banner} with the first line the server sends. */
    private static final class Client extends ChannelInboundHandlerAdapter {
        final CompletableFuture<String> banner = new CompletableFuture<>();
        private final StringBuilder received = new StringBuilder();
        Channel channel;

        static Client connect(EventLoopGroup group, InetSocketAddress server) throws InterruptedException {
            Client client = new Client();
            // README "Plain Netty".
            Bootstrap bootstrap = FrameworkTfo.plainNetty(new Bootstrap().group(group)
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
