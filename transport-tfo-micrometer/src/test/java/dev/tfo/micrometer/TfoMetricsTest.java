package dev.tfo.micrometer;

import dev.tfo.TfoBackoff;
import dev.tfo.TfoBootstraps;
import dev.tfo.TfoChannels;
import dev.tfo.TfoCounters;
import dev.tfo.TfoOutcome;
import dev.tfo.TfoResult;
import dev.tfo.testkit.TestTransport;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What needs no TFO from the kernel, so runs anywhere: tags, the counting of results (over NIO, where every
 * result is decided without TFO), the kernel meters from a given netstat text, missing or failing.
 */
class TfoMetricsTest {
    private static final String[] KERNEL_METERS = {"tfo.kernel.active", "tfo.kernel.active.fail",
        "tfo.kernel.passive", "tfo.kernel.passive.fail", "tfo.kernel.cookie.requested", "tfo.kernel.listen.overflow",
        "tfo.kernel.blackhole", "tfo.kernel.passive.alt.key"};
    private static final String[] KERNEL_NAMES = {"TCPFastOpenActive", "TCPFastOpenActiveFail", "TCPFastOpenPassive",
        "TCPFastOpenPassiveFail", "TCPFastOpenCookieReqd", "TCPFastOpenListenOverflow", "TCPFastOpenBlackhole",
        "TCPFastOpenPassiveAltKey"};

    /** A {@code /proc/net/netstat} text with every TFO counter, counter i at {@code base + i}. */
    private static TfoCounters netstat(long base) {
        StringBuilder names = new StringBuilder("TcpExt: SyncookiesSent");
        StringBuilder values = new StringBuilder("TcpExt: 7");
        for (int i = 0; i < KERNEL_NAMES.length; i++) {
            names.append(' ').append(KERNEL_NAMES[i]);
            values.append(' ').append(base + i);
        }
        return TfoCounters.parse(names + "\n" + values + "\nIpExt: InNoRoutes\nIpExt: 0\n");
    }

    /** A source that counts its reads. */
    private static final class Source implements Supplier<TfoCounters> {
        final AtomicInteger reads = new AtomicInteger();
        final AtomicReference<Supplier<TfoCounters>> next;

        Source(Supplier<TfoCounters> first) {
            next = new AtomicReference<>(first);
        }

        @Override
        public TfoCounters get() {
            reads.incrementAndGet();
            return next.get().get();
        }
    }

    private static double count(MeterRegistry registry, String outcome, String side, String transport) {
        Counter c = registry.find("tfo.connections").tags("outcome", outcome, "side", side, "transport", transport)
                .counter();
        assertNotNull(c, outcome + "/" + side + "/" + transport + " in " + describe(registry));
        return c.count();
    }

    private static String describe(MeterRegistry registry) {
        return registry.getMeters().stream().map(m -> m.getId().toString()).sorted()
                .collect(Collectors.joining("\n  ", "\n  ", ""));
    }

    /** The tags come from the result: its transport, and the side of its outcome. */
    @Test
    void tagsComeFromTheResult() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TfoMetrics metrics = new TfoMetrics(TfoBackoff.disabled(), () -> netstat(0), System::nanoTime);
        metrics.bindTo(registry);
        TfoResult accepted = serverResult();
        assertEquals("other", accepted.transport());
        metrics.onResult(new EmbeddedChannel(), accepted);
        assertEquals(1, count(registry, "NO_SYN_DATA", "server", "other"));
    }

    /**
     * Over NIO: a client set up with {@link TfoMetrics#clientOptions()} is counted {@code NOT_ATTEMPTED};
     * the server's result, told by hand, under {@code server}. The other outcomes of the side are there, at 0.
     */
    @Test
    void countsEveryResultUnderItsOutcomeSideAndTransport() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TfoMetrics metrics = new TfoMetrics(TfoBackoff.builder().build());
        metrics.bindTo(registry);
        EventLoopGroup group = TestTransport.NIO.newGroup(1);
        BlockingQueue<Channel> accepted = new LinkedBlockingQueue<>();
        Channel server = null;
        try {
            server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            accepted.add(ch);
                        }
                    })
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
            List<TfoResult> clientResults = new ArrayList<>();
            List<TfoResult> serverResults = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Bootstrap b = new Bootstrap().group(group).handler(new ChannelInboundHandlerAdapter())
                        .channelFactory(TfoChannels.clientFactory(NioSocketChannel::new, metrics.clientOptions()));
                Channel ch = TfoBootstraps.connect(b, server.localAddress(), Unpooled.wrappedBuffer(new byte[] {1}))
                        .get(10, TimeUnit.SECONDS);
                clientResults.add(TfoResult.of(ch).get(10, TimeUnit.SECONDS));
                Channel child = accepted.poll(10, TimeUnit.SECONDS);
                assertNotNull(child, "accepted " + i);
                TfoResult serverResult = TfoResult.of(child).getNow();
                serverResults.add(serverResult);
                metrics.onResult(child, serverResult);
                ch.close().sync();
                child.close().sync();
            }
            assertEquals(List.of(TfoOutcome.NOT_ATTEMPTED, TfoOutcome.NOT_ATTEMPTED, TfoOutcome.NOT_ATTEMPTED),
                    clientResults.stream().map(TfoResult::outcome).toList());
            assertEquals(3, count(registry, "NOT_ATTEMPTED", "client", "nio"));
            for (String o : List.of("SYN_DATA_ACKED", "COOKIE_REQUESTED", "DATA_NOT_ACKED", "SYN_RETRANSMITTED")) {
                assertEquals(0, count(registry, o, "client", "nio"), o);
            }
            assertTrue(serverResults.stream().allMatch(r -> r.outcome() == TfoOutcome.NO_SYN_DATA), serverResults::toString);
            assertEquals(3, count(registry, "NO_SYN_DATA", "server", "nio"));
            assertEquals(0, count(registry, "SYN_DATA_ACCEPTED", "server", "nio"));
            // 5 client and 2 server outcomes of one transport, nothing else.
            assertEquals(7, registry.find("tfo.connections").counters().size(), describe(registry));
            assertEquals(Set.of("nio"), registry.find("tfo.connections").counters().stream()
                    .map(c -> c.getId().getTag("transport")).collect(Collectors.toSet()));
        } finally {
            if (server != null) {
                server.close().sync();
            }
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void everyBoundRegistryCountsAndBindingTwiceChangesNothing() {
        SimpleMeterRegistry a = new SimpleMeterRegistry();
        SimpleMeterRegistry b = new SimpleMeterRegistry();
        TfoMetrics metrics = new TfoMetrics(TfoBackoff.disabled(), () -> netstat(0), System::nanoTime);
        metrics.bindTo(a);
        metrics.bindTo(b);
        metrics.bindTo(a);
        EmbeddedChannel channel = new EmbeddedChannel();
        TfoResult result = serverResult();
        metrics.onResult(channel, result);
        metrics.onResult(channel, result);
        assertEquals(2, count(a, "NO_SYN_DATA", "server", "other"));
        assertEquals(2, count(b, "NO_SYN_DATA", "server", "other"));
        assertTrue(metrics.toString().contains("registries=2"), metrics.toString());
        channel.finishAndReleaseAll();
    }

    /**
     * The result of a server's accepted channel without TFO ({@code NO_SYN_DATA}): decided at once from an
     * embedded channel whose parent is a server channel, as for any accepted child.
     */
    private static TfoResult serverResult() {
        EmbeddedChannel child = new EmbeddedChannel(new LocalServerChannel(), DefaultChannelId.newInstance(), true,
                false);
        try {
            return TfoResult.of(child).getNow();
        } finally {
            child.finishAndReleaseAll();
        }
    }

    @Test
    void everyMeterHasADescriptionABaseUnitAndNoAddressTag() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TfoMetrics metrics = new TfoMetrics(TfoBackoff.builder().build(), () -> netstat(0), System::nanoTime);
        metrics.bindTo(registry);
        TfoResult server = serverResult();
        metrics.onResult(new EmbeddedChannel(), server);
        List<Meter> meters = registry.getMeters();
        assertEquals(8 + 1 + 2, meters.size(), describe(registry));
        for (Meter m : meters) {
            assertNotNull(m.getId().getDescription(), m.getId().toString());
            assertFalse(m.getId().getDescription().isBlank(), m.getId().toString());
            assertNotNull(m.getId().getBaseUnit(), m.getId().toString());
            Set<String> keys = m.getId().getTags().stream().map(Tag::getKey).collect(Collectors.toSet());
            assertTrue(Set.of("outcome", "side", "transport").containsAll(keys), m.getId().toString());
        }
        assertEquals("connections", registry.get("tfo.connections").counter().getId().getBaseUnit());
        assertEquals("destinations", registry.get("tfo.backoff.destinations").gauge().getId().getBaseUnit());
        assertEquals(0.0, registry.get("tfo.backoff.destinations").gauge().value());
    }

    @Test
    void kernelCountersAreFunctionCountersOfTheNetstatValues() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new TfoMetrics(TfoBackoff.disabled(), () -> netstat(100), System::nanoTime).bindTo(registry);
        for (int i = 0; i < KERNEL_METERS.length; i++) {
            FunctionCounter c = registry.get(KERNEL_METERS[i]).functionCounter();
            assertEquals(100 + i, c.count(), KERNEL_METERS[i]);
            assertTrue(c.getId().getDescription().contains(KERNEL_NAMES[i]), c.getId().getDescription());
        }
    }

    /**
     * {@code new TfoMetrics().bindTo(registry)} with the binder dropped, as binders are used: the registry keeps
     * the kernel meters and the gauge alive (Micrometer holds their object weakly).
     */
    @Test
    void metersOutliveTheDroppedBinder() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new TfoMetrics(TfoBackoff.builder().build(), () -> netstat(100), System::nanoTime).bindTo(registry);
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        for (int i = 0; i < KERNEL_METERS.length; i++) {
            assertEquals(100 + i, registry.get(KERNEL_METERS[i]).functionCounter().count(), KERNEL_METERS[i]);
        }
        assertEquals(0.0, registry.get("tfo.backoff.destinations").gauge().value());
    }

    /** A scrape reads each meter once: one read of /proc/net/netstat for the 8. */
    @Test
    void oneReadServesAWholeScrape() {
        Source source = new Source(() -> netstat(0));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new TfoMetrics(TfoBackoff.disabled(), source, System::nanoTime).bindTo(registry);
        int atBind = source.reads.get();
        assertEquals(1, atBind, "one probe at bind");
        for (int scrape = 1; scrape <= 3; scrape++) {
            long base = 1000L * scrape;
            source.next.set(() -> netstat(base));
            for (int i = 0; i < KERNEL_METERS.length; i++) {
                assertEquals(base + i, registry.get(KERNEL_METERS[i]).functionCounter().count(), KERNEL_METERS[i]);
            }
            assertEquals(atBind + scrape, source.reads.get(), "reads after scrape " + scrape);
        }
        // The same meter read again: a fresh read, never a stale value.
        source.next.set(() -> netstat(5000));
        assertEquals(5000, registry.get("tfo.kernel.active").functionCounter().count());
        assertEquals(atBind + 4, source.reads.get());
    }

    /** A meter not yet served by the current read still gets a fresh one once that read is a second old. */
    @Test
    void aReadIsNeverReusedAfterOneSecond() {
        Source source = new Source(() -> netstat(0));
        AtomicLong now = new AtomicLong();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new TfoMetrics(TfoBackoff.disabled(), source, now::get).bindTo(registry);
        assertEquals(0, registry.get("tfo.kernel.active").functionCounter().count());
        source.next.set(() -> netstat(10));
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(999));
        assertEquals(2, registry.get("tfo.kernel.passive").functionCounter().count(), "same read, within a second");
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(2));
        assertEquals(13, registry.get("tfo.kernel.passive.fail").functionCounter().count(), "a fresh read");
        assertEquals(3, source.reads.get());
    }

    /** Not Linux, no /proc: no kernel meter at all; the rest works. */
    @Test
    void noKernelMeterWhereNetstatIsMissing() {
        Source source = new Source(() -> {
            throw new UncheckedIOException("cannot read /proc/net/netstat", new NoSuchFileException("/proc/net/netstat"));
        });
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TfoMetrics metrics = new TfoMetrics(TfoBackoff.disabled(), source, System::nanoTime);
        metrics.bindTo(registry);
        assertTrue(registry.getMeters().stream().noneMatch(m -> m.getId().getName().startsWith("tfo.kernel.")),
                describe(registry));
        assertNotNull(registry.find("tfo.backoff.destinations").gauge());
        metrics.onResult(new EmbeddedChannel(), serverResult());
        assertEquals(1, count(registry, "NO_SYN_DATA", "server", "other"));
        assertEquals(1, source.reads.get(), "only the probe at bind");
    }

    /** An older kernel without some of the counters: every meter, those it lacks at 0 (as TfoCounters reads them). */
    @Test
    void countersTheKernelLacksReadZero() {
        TfoCounters old = TfoCounters.parse("TcpExt: TCPFastOpenActive TCPFastOpenActiveFail TCPFastOpenPassive "
                + "TCPFastOpenPassiveFail TCPFastOpenListenOverflow TCPFastOpenCookieReqd\n"
                + "TcpExt: 1 2 3 4 5 6\n");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new TfoMetrics(TfoBackoff.disabled(), () -> old, System::nanoTime).bindTo(registry);
        Map<String, Double> kernel = registry.getMeters().stream()
                .filter(m -> m.getId().getName().startsWith("tfo.kernel."))
                .collect(Collectors.toMap(m -> m.getId().getName(), m -> ((FunctionCounter) m).count()));
        assertEquals(Map.of("tfo.kernel.active", 1.0, "tfo.kernel.active.fail", 2.0, "tfo.kernel.passive", 3.0,
                "tfo.kernel.passive.fail", 4.0, "tfo.kernel.listen.overflow", 5.0, "tfo.kernel.cookie.requested", 6.0,
                "tfo.kernel.blackhole", 0.0, "tfo.kernel.passive.alt.key", 0.0), kernel);
    }

    /** A read that fails after the bind reads NaN (unknown), and the next good read is served again. */
    @Test
    void aFailedReadAfterTheBindReadsNaN() {
        Source source = new Source(() -> netstat(0));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new TfoMetrics(TfoBackoff.disabled(), source, System::nanoTime).bindTo(registry);
        source.next.set(() -> {
            throw new UncheckedIOException("gone", new NoSuchFileException("/proc/net/netstat"));
        });
        for (String name : KERNEL_METERS) {
            assertTrue(Double.isNaN(registry.get(name).functionCounter().count()), name);
        }
        assertEquals(2, source.reads.get(), "the failed read served the whole scrape too");
        source.next.set(() -> netstat(40));
        assertEquals(40, registry.get("tfo.kernel.active").functionCounter().count());
    }

    @Test
    void optionsCarryTheBinderAsListenerAndItsBackoff() {
        TfoBackoff backoff = TfoBackoff.builder().build();
        TfoMetrics metrics = new TfoMetrics(backoff);
        assertSame(metrics.clientOptions(), metrics.clientOptions(), "one options object: one cookie memory");
        assertSame(backoff, metrics.backoff());
        assertTrue(metrics.clientOptions().toString().contains("backoff=" + backoff), metrics.clientOptions().toString());
        assertTrue(metrics.clientOptions().toString().endsWith("resultListener=" + metrics + ")"),
                metrics.clientOptions().toString());
        assertTrue(metrics.serverOptions().toString().endsWith("resultListener=" + metrics + ")"),
                metrics.serverOptions().toString());
        assertSame(TfoBackoff.shared(), new TfoMetrics().backoff());
    }

    @Test
    void nullArgumentsAreNamed() {
        TfoMetrics metrics = new TfoMetrics();
        assertEquals("backoff", assertThrows(NullPointerException.class, () -> new TfoMetrics(null)).getMessage());
        assertEquals("registry", assertThrows(NullPointerException.class, () -> metrics.bindTo(null)).getMessage());
        TfoResult result = serverResult();
        assertEquals("channel", assertThrows(NullPointerException.class, () -> metrics.onResult(null, result))
                .getMessage());
        assertEquals("result", assertThrows(NullPointerException.class,
                () -> metrics.onResult(new EmbeddedChannel(), null)).getMessage());
    }
}
