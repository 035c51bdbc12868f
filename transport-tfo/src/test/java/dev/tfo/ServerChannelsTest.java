package dev.tfo;

import dev.tfo.internal.Procfs;
import dev.tfo.internal.TcpOptions;
import dev.tfo.testkit.TestTransport;
import dev.tfo.testkit.Wait;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.local.LocalServerChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TfoChannels#serverFactory} and the {@link ServerChannels} it configures each listener with, in the
 * build's own network namespace (whatever its sysctl): the options on an unregistered channel, the handlers in
 * its pipeline, bad input, no probe channel, any call order, the warnings, the keys and the result listener on
 * real listeners. Data in the SYN on such listeners is proven in {@link TfoBootstrapsNetnsTest},
 * {@link TfoChannelsNetnsTest} and the scenario tests.
 */
class ServerChannelsTest {
    private static final TfoKey K1 = TfoKey.parse("00112233-44556677-8899aabb-ccddeeff");
    private static final TfoKey K2 = TfoKey.parse("0f1e2d3c-4b5a6978-8796a5b4-c3d2e1f0");
    private static final ChannelHandler NOOP = new Sharable();
    private static EventLoopGroup group;

    @ChannelHandler.Sharable
    private static class Sharable extends ChannelInboundHandlerAdapter {
    }

    @BeforeAll
    static void group() {
        group = TestTransport.EPOLL.newGroup(1);
    }

    @AfterAll
    static void shutdown() throws InterruptedException {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private static InetSocketAddress loopback() {
        return new InetSocketAddress("127.0.0.1", 0);
    }

    @Test
    void eachChannelIsConfiguredAsItIsMadeBeforeAnyBootstrapSeesIt() {
        TfoKeyRing keys = TfoKeyRing.of(K1);
        TfoServerOptions options = TfoServerOptions.builder().queueLength(128).noCookie(true).keys(keys)
                .resultListener((child, r) -> { }).build();
        EpollServerSocketChannel ch = TfoChannels.serverFactory(EpollServerSocketChannel::new, options).newChannel();
        try {
            assertFalse(ch.isRegistered());
            assertEquals(128, ch.config().getOption(TcpOptions.FASTOPEN_QUEUE), "the kernel's TCP_FASTOPEN");
            assertEquals(1, ch.config().getOption(TcpOptions.NO_COOKIE), "the kernel's TCP_FASTOPEN_NO_COOKIE");
            assertEquals(List.of(ServerChannels.KEYS_NAME, ServerChannels.RESULTS_NAME),
                    ch.pipeline().names().subList(0, 2), "the key guard, then the results, first in the pipeline");
            assertInstanceOf(ServerChannels.KeyGuard.class, ch.pipeline().get(ServerChannels.KEYS_NAME));
            assertInstanceOf(ServerChannels.AcceptedResults.class, ch.pipeline().get(ServerChannels.RESULTS_NAME));
            assertEquals("TfoKeyRing(primary, 0 listener(s))", keys.toString(), "keys set at registration, not yet");
        } finally {
            ch.unsafe().closeForcibly();
        }

        EpollServerSocketChannel plain = TfoChannels.serverFactory(EpollServerSocketChannel::new,
                TfoServerOptions.defaults()).newChannel();
        try {
            assertEquals(TfoServerOptions.DEFAULT_QUEUE_LENGTH, plain.config().getOption(TcpOptions.FASTOPEN_QUEUE));
            assertEquals(0, plain.config().getOption(TcpOptions.NO_COOKIE), "cookies required");
            assertNull(plain.pipeline().get(ServerChannels.KEYS_NAME), "the host's key: no guard");
            assertNull(plain.pipeline().get(ServerChannels.RESULTS_NAME), "no listener: nothing to tell");
        } finally {
            plain.unsafe().closeForcibly();
        }
    }

    @Test
    void onNioOnlyTheResultListenerIsInstalled() {
        TfoServerOptions options = TfoServerOptions.builder().noCookie(true).keys(TfoKeyRing.of(K1))
                .resultListener((child, r) -> { }).build();
        NioServerSocketChannel ch = TfoChannels.serverFactory(NioServerSocketChannel::new, options).newChannel();
        try {
            assertNull(ch.pipeline().get(ServerChannels.KEYS_NAME), "NIO cannot set keys");
            assertInstanceOf(ServerChannels.AcceptedResults.class, ch.pipeline().get(ServerChannels.RESULTS_NAME));
        } finally {
            ch.unsafe().closeForcibly();
        }
    }

    @Test
    void badInputIsRefusedNamingTheArgument() {
        assertEquals("factory", assertThrows(NullPointerException.class,
                () -> TfoChannels.serverFactory(null, TfoServerOptions.defaults())).getMessage());
        assertEquals("options", assertThrows(NullPointerException.class,
                () -> TfoChannels.serverFactory(EpollServerSocketChannel::new, null)).getMessage());
    }

    /** A server channel that is not TCP (local, or a native Unix domain socket) is closed and named. */
    @Test
    void aChannelThatIsNotATcpServerSocketIsClosedAndNamed() {
        List<Channel> made = new ArrayList<>();
        ChannelFactory<LocalServerChannel> local = TfoChannels.serverFactory(() -> keep(made, new LocalServerChannel()),
                TfoServerOptions.defaults());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, local::newChannel);
        assertEquals("factory: made io.netty.channel.local.LocalServerChannel, not a TCP ServerSocketChannel",
                e.getMessage());

        ChannelFactory<EpollServerDomainSocketChannel> unix = TfoChannels.serverFactory(
                () -> keep(made, new EpollServerDomainSocketChannel()), TfoServerOptions.defaults());
        e = assertThrows(IllegalArgumentException.class, unix::newChannel);
        assertEquals("factory: made io.netty.channel.epoll.EpollServerDomainSocketChannel, not a TCP "
                + "ServerSocketChannel", e.getMessage());
        assertEquals(2, made.size());
        for (Channel ch : made) {
            assertFalse(ch.isOpen(), ch + " closed");
        }
    }

    /** As Netty does with any channel factory that throws: the bind fails, with our exception. */
    @Test
    void aServerBootstrapTurnsItIntoAFailedBind() throws Exception {
        ChannelFuture f = new ServerBootstrap().group(group).childHandler(NOOP)
                .channelFactory(TfoChannels.serverFactory(LocalServerChannel::new, TfoServerOptions.defaults()))
                .bind(loopback()).await();
        IllegalArgumentException e = assertInstanceOf(IllegalArgumentException.class, f.cause());
        assertTrue(e.getMessage().startsWith("factory: made io.netty.channel.local.LocalServerChannel"),
                e.getMessage());
    }

    /** No probe channel, nothing of the bootstrap rewritten: one channel per bind, made when it binds. */
    @Test
    void oneChannelPerBindAndTheBootstrapLeftAlone() throws Exception {
        AtomicInteger made = new AtomicInteger();
        ChannelFactory<EpollServerSocketChannel> counting = () -> {
            made.incrementAndGet();
            return new EpollServerSocketChannel();
        };
        ServerBootstrap sb = new ServerBootstrap().group(group).childHandler(NOOP)
                .channelFactory(TfoChannels.serverFactory(counting, TfoServerOptions.builder().queueLength(32).build()));
        assertEquals(0, made.get(), "no channel made before a bind");
        assertTrue(sb.config().options().isEmpty(), "no bootstrap option of ours: " + sb.config().options());
        assertNull(sb.config().handler(), "no parent handler of ours");
        assertTrue(sb.config().channelFactory().toString().startsWith("TfoChannels.serverFactory("),
                sb.config().channelFactory().toString());
        Channel a = sb.bind(loopback()).sync().channel();
        Channel b = sb.bind(loopback()).sync().channel();
        try {
            assertEquals(2, made.get(), "one channel per bind");
            assertEquals(32, a.config().getOption(TcpOptions.FASTOPEN_QUEUE));
            assertEquals(32, b.config().getOption(TcpOptions.FASTOPEN_QUEUE));
        } finally {
            a.close().sync();
            b.close().sync();
        }
    }

    /**
     * The user's parent handler, set before or after the factory, is kept: it sees every accepted child after the
     * result listener was told, and the bootstrap's acceptor still gets it.
     */
    @ParameterizedTest(name = "handler set {0} the channel factory")
    @ValueSource(strings = {"before", "after"})
    void theUsersParentHandlerRunsAfterTheResultListenerInAnyCallOrder(String order) throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        List<Channel> accepted = new CopyOnWriteArrayList<>();
        ChannelHandler users = new Sharable() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                seen.add("handler " + ((Channel) msg).remoteAddress());
                ctx.fireChannelRead(msg);
            }
        };
        ChannelFactory<EpollServerSocketChannel> tfo = TfoChannels.serverFactory(EpollServerSocketChannel::new,
                TfoServerOptions.builder().resultListener((child, r) -> seen.add("told " + child.remoteAddress()))
                        .build());
        ServerBootstrap sb = new ServerBootstrap().group(group).childHandler(new Sharable() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) {
                accepted.add(ctx.channel());
                ctx.fireChannelActive();
            }
        });
        if ("before".equals(order)) {
            sb.handler(users).channelFactory(tfo);
        } else {
            sb.channelFactory(tfo).handler(users);
        }
        Channel listener = sb.bind(loopback()).sync().channel();
        try {
            List<String> names = listener.eventLoop().submit(() -> listener.pipeline().names()).get(5, TimeUnit.SECONDS);
            int results = names.indexOf(ServerChannels.RESULTS_NAME);
            int handler = names.indexOf(listener.pipeline().context(users).name());
            int acceptor = indexOfContaining(names, "ServerBootstrapAcceptor");
            assertTrue(results >= 0 && results < handler && handler < acceptor, names.toString());

            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Channel client = new Bootstrap().group(group).channel(EpollSocketChannel.class).handler(NOOP)
                        .connect(listener.localAddress()).sync().channel();
                SocketAddress from = client.localAddress();
                expected.add("told " + from);
                expected.add("handler " + from);
                client.close().sync();
            }
            Wait.until("two accepted children", Duration.ofSeconds(10), () -> accepted.size() == 2);
            assertEquals(expected, seen);
        } finally {
            listener.close().sync();
        }
    }

    @Test
    void keysAreSetWhenTheListenerRegistersAndRotatedLive() throws Exception {
        TfoKeyRing ring = TfoKeyRing.of(K1);
        Channel listener = new ServerBootstrap().group(group).childHandler(NOOP)
                .channelFactory(TfoChannels.serverFactory(EpollServerSocketChannel::new,
                        TfoServerOptions.builder().keys(ring).build()))
                .bind(loopback()).sync().channel();
        try {
            assertArrayEquals(KeyListener.expected(K1, null), bytes(listener.config().getOption(TcpOptions.FASTOPEN_KEY)),
                    "the ring's primary, in the kernel");
            assertEquals("TfoKeyRing(primary, 1 listener(s))", ring.toString());
            ring.rotate(K2).get(10, TimeUnit.SECONDS);
            assertArrayEquals(KeyListener.expected(K2, K1),
                    bytes(listener.config().getOption(TcpOptions.FASTOPEN_KEYS)), "rotated on the bound listener");
        } finally {
            listener.close().sync();
        }
        Wait.until("the closed listener dropped", Duration.ofSeconds(10),
                () -> ring.toString().contains(" 0 listener(s)"));
    }

    /** The guard's own job, on a stand-in whose kernel refuses the keys: the bind fails, naming it, not the key. */
    @Test
    void keysTheKernelRefusesFailTheBindWithoutShowingThem() throws Exception {
        KeyListener refusing = new KeyListener();
        refusing.refuse();
        refusing.pipeline().addFirst(ServerChannels.KEYS_NAME, new ServerChannels.KeyGuard(TfoKeyRing.of(K1)));
        String name = refusing.toString(); // while open
        ChannelFuture bind = refusing.bind(new InetSocketAddress("127.0.0.1", 443));
        assertTrue(bind.isDone());
        ChannelException e = assertInstanceOf(ChannelException.class, bind.cause());
        assertTrue(e.getMessage().startsWith("cannot set TCP_FASTOPEN_KEY on " + name), e.getMessage());
        assertFalse(e.getMessage().contains(K1.format()), e.getMessage());
        assertFalse(refusing.isOpen(), "closed");

        KeyListener accepting = new KeyListener();
        accepting.pipeline().addFirst(ServerChannels.KEYS_NAME, new ServerChannels.KeyGuard(TfoKeyRing.of(K1)));
        assertTrue(accepting.bind(new InetSocketAddress("127.0.0.1", 443)).isSuccess());
        assertArrayEquals(KeyListener.expected(K1, null), accepting.last());
        accepting.finishAndReleaseAll();
    }

    /** A listener that throws is logged; the child still reaches the handlers after it. */
    @Test
    void aResultListenerThatThrowsDoesNotStopTheChild() {
        List<Object> passed = new ArrayList<>();
        EmbeddedChannel parent = new EmbeddedChannel(new ServerChannels.AcceptedResults((child, r) -> {
            throw new IllegalStateException("boom");
        }), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                passed.add(msg);
            }
        });
        EmbeddedChannel child = new EmbeddedChannel();
        parent.writeInbound(child);
        assertEquals(List.of(child), passed);
        parent.finishAndReleaseAll();
        child.finishAndReleaseAll();
    }

    @Test
    void aNioServerStillTellsItsResultListenerEveryConnection() throws Exception {
        EventLoopGroup nio = TestTransport.NIO.newGroup(1);
        List<TfoResult> told = new CopyOnWriteArrayList<>();
        try {
            Channel listener = new ServerBootstrap().group(nio).childHandler(NOOP)
                    .channelFactory(TfoChannels.serverFactory(NioServerSocketChannel::new,
                            TfoServerOptions.builder().resultListener((child, r) -> told.add(r)).build()))
                    .bind(loopback()).sync().channel();
            try {
                for (int i = 0; i < 2; i++) {
                    new Bootstrap().group(nio).channel(TestTransport.NIO.channel()).handler(NOOP)
                            .connect(listener.localAddress()).sync().channel().close().sync();
                }
                Wait.until("two accepted results", Duration.ofSeconds(10), () -> told.size() == 2);
                for (TfoResult r : told) {
                    assertEquals(TfoOutcome.NO_SYN_DATA, r.outcome());
                    assertTrue(r.reason().contains("cannot accept data in a SYN"), r.reason());
                }
            } finally {
                listener.close().sync();
            }
        } finally {
            nio.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** A server channel class of its own, so that this test sees the once-per-JVM warning first. */
    public static final class QuietNioServerSocketChannel extends NioServerSocketChannel {
        public QuietNioServerSocketChannel() {
        }
    }

    @Test
    void warnsOnceWhenTheTransportOrTheKernelWillIgnoreTheOption() {
        List<String> warnings = new CopyOnWriteArrayList<>();
        Logger jul = Logger.getLogger(TfoChannels.class.getName());
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                warnings.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        jul.addHandler(handler);
        try {
            ChannelFactory<QuietNioServerSocketChannel> quiet = TfoChannels.serverFactory(
                    QuietNioServerSocketChannel::new, TfoServerOptions.builder().queueLength(8).build());
            for (int i = 0; i < 3; i++) {
                closeForcibly(quiet.newChannel());
            }
            assertEquals(1, warnings.stream().filter(w -> w.contains("QuietNioServerSocketChannel cannot accept "
                    + "data in a SYN; use EpollServerSocketChannel or IoUringServerSocketChannel")).count(),
                    warnings.toString());

            int somaxconn = Procfs.readInt(Procfs.SOMAXCONN).getAsInt();
            int tooLong = somaxconn + 4242;
            ChannelFactory<EpollServerSocketChannel> epoll = TfoChannels.serverFactory(EpollServerSocketChannel::new,
                    TfoServerOptions.builder().queueLength(tooLong).build());
            closeForcibly(epoll.newChannel());
            closeForcibly(epoll.newChannel());
            assertEquals(1, warnings.stream().filter(w -> w.equals("TFO queueLength " + tooLong
                    + " exceeds net.core.somaxconn=" + somaxconn + ": the kernel caps the queue at " + somaxconn))
                    .count(), warnings.toString());
        } finally {
            jul.removeHandler(handler);
        }
    }

    private static <C extends Channel> C keep(List<Channel> made, C channel) {
        made.add(channel);
        return channel;
    }

    private static void closeForcibly(ServerChannel channel) {
        assertNotNull(channel);
        channel.unsafe().closeForcibly();
    }

    private static int indexOfContaining(List<String> names, String part) {
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i).contains(part)) {
                return i;
            }
        }
        return -1;
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    @Test
    void theFactoryPrintsWhatItWraps() {
        ChannelFactory<EpollServerSocketChannel> f = TfoChannels.serverFactory(EpollServerSocketChannel::new,
                TfoServerOptions.defaults());
        assertTrue(f.toString().startsWith("TfoChannels.serverFactory("), f.toString());
        assertTrue(f.toString().endsWith(", " + TfoServerOptions.defaults() + ")"), f.toString());
    }
}
