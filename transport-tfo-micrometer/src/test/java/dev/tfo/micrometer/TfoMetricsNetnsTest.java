package dev.tfo.micrometer;

import dev.tfo.TfoBackoff;
import dev.tfo.TfoBootstraps;
import dev.tfo.TfoChannels;
import dev.tfo.TfoClientOptions;
import dev.tfo.TfoCounters;
import dev.tfo.TfoOutcome;
import dev.tfo.TfoResult;
import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.PrometheusText;
import dev.tfo.testkit.TestTransport;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.epoll.EpollSocketChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToLongFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real TFO connections in a fresh network namespace ({@code tcp_fastopen=3}, the testkit's netns-java): the
 * meters move by exactly what the connections' {@link TfoResult}s and the kernel's {@link TfoCounters} deltas
 * say, on both sides, for first flights and for connect-then-write clients.
 *
 * <p>Client and server share this namespace, so the kernel counts both ends. Cookies are cached per
 * destination IP: each test serves on a loopback address of its own (127.0.3.x).
 */
@FreshNetns
class TfoMetricsNetnsTest {
    private static final AtomicInteger NEXT_IP = new AtomicInteger(10);
    /** Kernel meter name to the kernel counter it reads. */
    private static final Map<String, ToLongFunction<TfoCounters>> KERNEL = Map.of(
            "tfo.kernel.active", TfoCounters::active,
            "tfo.kernel.active.fail", TfoCounters::activeFail,
            "tfo.kernel.passive", TfoCounters::passive,
            "tfo.kernel.passive.fail", TfoCounters::passiveFail,
            "tfo.kernel.cookie.requested", TfoCounters::cookieReqd,
            "tfo.kernel.listen.overflow", TfoCounters::listenOverflow,
            "tfo.kernel.blackhole", TfoCounters::blackhole,
            "tfo.kernel.passive.alt.key", TfoCounters::passiveAltKey);

    private static String freshIp() {
        return "127.0.3." + NEXT_IP.getAndIncrement();
    }

    private static String get(int i) {
        return "GET /metrics-test/" + i + " HTTP/1.1\r\nHost: tfo\r\n\r\n";
    }

    /** What the meters say at one moment: every connection series, and every kernel meter. */
    private static final class Reading {
        final Map<String, Double> connections = new TreeMap<>();
        final Map<String, Double> kernel = new TreeMap<>();

        Reading(MeterRegistry registry) {
            for (Counter c : registry.find("tfo.connections").counters()) {
                connections.put(key(c.getId().getTag("side"), c.getId().getTag("outcome"), c.getId().getTag("transport")),
                        c.count());
            }
            for (String name : KERNEL.keySet()) {
                kernel.put(name, registry.get(name).functionCounter().count());
            }
        }

        static String key(String side, String outcome, String transport) {
            return side + "/" + outcome + "/" + transport;
        }
    }

    /**
     * Every series of {@code tfo.connections} moved by the number of results of its outcome, side and
     * transport; the kernel meters by the kernel's own deltas.
     */
    private static void assertMoved(Reading before, Reading after, String transport, List<TfoResult> client,
                                    List<TfoResult> server, TfoCounters kernelDelta) {
        Map<String, Double> expected = new TreeMap<>();
        for (TfoOutcome o : TfoOutcome.values()) {
            String side = o.server() ? "server" : "client";
            long n = (side.equals("client") ? client : server).stream().filter(r -> r.outcome() == o).count();
            expected.put(Reading.key(side, o.name(), transport), (double) n);
        }
        Map<String, Double> moved = new TreeMap<>();
        after.connections.forEach((k, v) -> moved.put(k, v - before.connections.getOrDefault(k, 0.0)));
        assertEquals(expected, moved, "tfo.connections deltas; client " + client + "; server " + server);
        Map<String, Double> kernelExpected = new TreeMap<>();
        Map<String, Double> kernelMoved = new TreeMap<>();
        KERNEL.forEach((meter, counter) -> {
            kernelExpected.put(meter, (double) counter.applyAsLong(kernelDelta));
            kernelMoved.put(meter, after.kernel.get(meter) - before.kernel.get(meter));
        });
        assertEquals(kernelExpected, kernelMoved, "tfo.kernel.* deltas vs TfoCounters delta " + kernelDelta);
        // And what the outcomes say the kernel saw (both ends in this namespace).
        assertEquals(count(client, TfoOutcome.SYN_DATA_ACKED), kernelDelta.active(), kernelDelta.toString());
        assertEquals(count(server, TfoOutcome.SYN_DATA_ACCEPTED), kernelDelta.passive(), kernelDelta.toString());
        assertEquals(count(client, TfoOutcome.DATA_NOT_ACKED) + count(client, TfoOutcome.SYN_RETRANSMITTED),
                kernelDelta.activeFail(), kernelDelta.toString());
    }

    private static long count(List<TfoResult> results, TfoOutcome outcome) {
        return results.stream().filter(r -> r.outcome() == outcome).count();
    }

    private static List<TfoOutcome> outcomes(List<TfoResult> results) {
        return results.stream().map(TfoResult::outcome).toList();
    }

    private static List<TfoOutcome> firstThenTfo(TfoOutcome first, TfoOutcome then, int n) {
        List<TfoOutcome> l = new ArrayList<>(Collections.nCopies(n, then));
        l.set(0, first);
        return l;
    }

    @ParameterizedTest
    @MethodSource("dev.tfo.testkit.TestTransport#tfoCapable")
    void firstFlightsMoveTheMetersByTheirOutcomesAndTheKernelCounters(TestTransport transport) throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TfoMetrics metrics = new TfoMetrics(TfoBackoff.builder().build());
        metrics.bindTo(registry);
        try (Echo echo = new Echo(transport)) {
            InetSocketAddress server = echo.serve(freshIp(), metrics.serverOptions());
            Reading before = new Reading(registry);
            TfoCounters kernelBefore = TfoCounters.snapshot();
            List<TfoResult> client = new ArrayList<>();
            List<TfoResult> accepted = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                client.add(echo.firstFlight(server, metrics.clientOptions(), get(i)));
                accepted.add(echo.nextAccepted());
            }
            TfoCounters kernelDelta = TfoCounters.snapshot().minus(kernelBefore);
            Reading after = new Reading(registry);

            assertEquals(firstThenTfo(TfoOutcome.COOKIE_REQUESTED, TfoOutcome.SYN_DATA_ACKED, 5), outcomes(client));
            assertEquals(firstThenTfo(TfoOutcome.NO_SYN_DATA, TfoOutcome.SYN_DATA_ACCEPTED, 5), outcomes(accepted));
            assertMoved(before, after, transport.displayName(), client, accepted, kernelDelta);
            assertEquals(1, kernelDelta.cookieReqd(), kernelDelta.toString());
            System.out.println("measured (first flights, " + transport.displayName() + "): moved "
                    + moved(before, after) + "; kernel delta " + kernelDelta);
            assertEquals(4, after.kernel.get("tfo.kernel.active") - before.kernel.get("tfo.kernel.active"));
        }
    }

    /** The three ways a connect-then-write client is attached. */
    enum Attachment {
        /** {@code TfoChannels.client(channel, options)} in {@code initChannel} (Reactor Netty, Lettuce). */
        CHANNEL_INIT {
            @Override
            Bootstrap bootstrap(Echo echo, TfoClientOptions options, CompletableFuture<String> sink, int expected) {
                return new Bootstrap().group(echo.group).channel(EpollSocketChannel.class)
                        .handler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                TfoChannels.client(ch, options);
                                ch.pipeline().addLast(Echo.collector(expected, sink));
                            }
                        });
            }
        },
        /** {@code TfoChannels.clientFactory(factory, options)} (gRPC). */
        CHANNEL_FACTORY {
            @Override
            Bootstrap bootstrap(Echo echo, TfoClientOptions options, CompletableFuture<String> sink, int expected) {
                return new Bootstrap().group(echo.group)
                        .channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new, options))
                        .handler(Echo.collector(expected, sink));
            }
        },
        /** {@code TfoBootstraps.client(bootstrap, options)}, then {@code connect()} and a write. */
        BOOTSTRAP {
            @Override
            Bootstrap bootstrap(Echo echo, TfoClientOptions options, CompletableFuture<String> sink, int expected) {
                return new Bootstrap().group(echo.group).handler(Echo.collector(expected, sink))
                        .channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new, options));
            }
        };

        abstract Bootstrap bootstrap(Echo echo, TfoClientOptions options, CompletableFuture<String> sink, int expected);
    }

    @ParameterizedTest
    @EnumSource(Attachment.class)
    void connectThenWriteMovesTheMetersByTheirOutcomesAndTheKernelCounters(Attachment attachment) throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TfoMetrics metrics = new TfoMetrics(TfoBackoff.builder().build());
        metrics.bindTo(registry);
        try (Echo echo = new Echo(TestTransport.EPOLL)) {
            InetSocketAddress server = echo.serve(freshIp(), metrics.serverOptions());
            Reading before = new Reading(registry);
            TfoCounters kernelBefore = TfoCounters.snapshot();
            List<TfoResult> client = new ArrayList<>();
            List<TfoResult> accepted = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String request = get(i);
                CompletableFuture<String> echoed = new CompletableFuture<>();
                Bootstrap b = attachment.bootstrap(echo, metrics.clientOptions(), echoed, request.length());
                client.add(Echo.connectThenWrite(b, server, request, echoed));
                accepted.add(echo.nextAccepted());
            }
            TfoCounters kernelDelta = TfoCounters.snapshot().minus(kernelBefore);
            Reading after = new Reading(registry);

            assertEquals(firstThenTfo(TfoOutcome.COOKIE_REQUESTED, TfoOutcome.SYN_DATA_ACKED, 4), outcomes(client));
            assertEquals(firstThenTfo(TfoOutcome.NO_SYN_DATA, TfoOutcome.SYN_DATA_ACCEPTED, 4), outcomes(accepted));
            assertMoved(before, after, "epoll", client, accepted, kernelDelta);
            System.out.println("measured (connect-then-write, " + attachment + "): moved " + moved(before, after)
                    + "; kernel delta " + kernelDelta);
        }
    }

    /** The non-zero deltas of both readings, for the log. */
    private static Map<String, Double> moved(Reading before, Reading after) {
        Map<String, Double> out = new TreeMap<>();
        after.connections.forEach((k, v) -> out.put(k, v - before.connections.getOrDefault(k, 0.0)));
        after.kernel.forEach((k, v) -> out.put(k, v - before.kernel.get(k)));
        out.values().removeIf(v -> v == 0);
        return out;
    }

    /**
     * A cookie-less client to a server that requires cookies: the SYN's data is never acked; after 3
     * {@code DATA_NOT_ACKED} the backoff stops TFO to that IP and the gauge counts it; the next connection is
     * {@code NOT_ATTEMPTED}.
     */
    @Test
    void backedOffDestinationsGaugeFollowsTheBackoff() throws Exception {
        TfoBackoff backoff = TfoBackoff.builder().build();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TfoMetrics metrics = new TfoMetrics(backoff);
        metrics.bindTo(registry);
        TfoClientOptions cookieLess = TfoClientOptions.builder().backoff(backoff).noCookie(true)
                .resultListener(metrics).build();
        try (Echo echo = new Echo(TestTransport.EPOLL)) {
            InetSocketAddress server = echo.serve(freshIp(), metrics.serverOptions());
            Reading before = new Reading(registry);
            TfoCounters kernelBefore = TfoCounters.snapshot();
            List<TfoResult> client = new ArrayList<>();
            List<TfoResult> accepted = new ArrayList<>();
            List<Double> gauge = new ArrayList<>();
            gauge.add(registry.get("tfo.backoff.destinations").gauge().value());
            for (int i = 0; i < 4; i++) {
                client.add(echo.firstFlight(server, cookieLess, get(i)));
                accepted.add(echo.nextAccepted());
                gauge.add(registry.get("tfo.backoff.destinations").gauge().value());
            }
            TfoCounters kernelDelta = TfoCounters.snapshot().minus(kernelBefore);
            Reading after = new Reading(registry);

            assertEquals(List.of(TfoOutcome.DATA_NOT_ACKED, TfoOutcome.DATA_NOT_ACKED, TfoOutcome.DATA_NOT_ACKED,
                    TfoOutcome.NOT_ATTEMPTED), outcomes(client));
            assertTrue(client.get(3).reason().contains("backing off"), client.get(3).reason());
            assertEquals(List.of(0.0, 0.0, 0.0, 1.0, 1.0), gauge, "gauge before and after each connection");
            assertEquals(backoff.backedOffDestinations(), registry.get("tfo.backoff.destinations").gauge().value());
            assertMoved(before, after, "epoll", client, accepted, kernelDelta);
            System.out.println("measured (backoff): gauge " + gauge + "; moved " + moved(before, after)
                    + "; kernel delta " + kernelDelta);
        }
    }

    /** {@code sum(delta(name{labels...}))} over the series whose labels include {@code match}. */
    private static double sum(Map<String, Double> before, Map<String, Double> after, String name,
                              Map<String, String> match) {
        return PrometheusText.sum(after, name, match) - PrometheusText.sum(before, name, match);
    }

    /**
     * The Prometheus text format: the names the README's PromQL uses, and the client's TFO hit rate
     * (SYN_DATA_ACKED over every client connection) computed from two scrapes, as {@code rate()} would.
     */
    @Test
    void prometheusScrapeGivesTheTfoHitRate() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        AtomicInteger reads = new AtomicInteger();
        TfoMetrics metrics = new TfoMetrics(TfoBackoff.builder().build(), () -> {
            reads.incrementAndGet();
            return TfoCounters.snapshot();
        }, System::nanoTime);
        metrics.bindTo(registry);
        try (Echo echo = new Echo(TestTransport.EPOLL)) {
            InetSocketAddress server = echo.serve(freshIp(), metrics.serverOptions());
            int readsBefore = reads.get();
            Map<String, Double> before = PrometheusText.parse(registry.scrape());
            assertEquals(readsBefore + 1, reads.get(), "one read of /proc/net/netstat per scrape");
            TfoCounters kernelBefore = TfoCounters.snapshot();
            List<TfoResult> client = new ArrayList<>();
            List<TfoResult> accepted = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                client.add(echo.firstFlight(server, metrics.clientOptions(), get(i)));
                accepted.add(echo.nextAccepted());
            }
            // A framework's connect-then-write client, counted into the same series.
            for (int i = 0; i < 2; i++) {
                CompletableFuture<String> echoed = new CompletableFuture<>();
                Bootstrap b = Attachment.CHANNEL_INIT.bootstrap(echo, metrics.clientOptions(), echoed, get(i).length());
                client.add(Echo.connectThenWrite(b, server, get(i), echoed));
                accepted.add(echo.nextAccepted());
            }
            TfoCounters kernelDelta = TfoCounters.snapshot().minus(kernelBefore);
            String text = registry.scrape();
            Map<String, Double> after = PrometheusText.parse(text);

            assertTrue(text.contains("# TYPE tfo_connections_total counter"), text);
            assertTrue(after.containsKey(
                    "tfo_connections_total{outcome=\"SYN_DATA_ACKED\",side=\"client\",transport=\"epoll\"}"), text);
            double hits = sum(before, after, "tfo_connections_total", Map.of("side", "client", "outcome", "SYN_DATA_ACKED"));
            double all = sum(before, after, "tfo_connections_total", Map.of("side", "client"));
            double serverHits = sum(before, after, "tfo_connections_total",
                    Map.of("side", "server", "outcome", "SYN_DATA_ACCEPTED"));
            double serverAll = sum(before, after, "tfo_connections_total", Map.of("side", "server"));
            long acked = count(client, TfoOutcome.SYN_DATA_ACKED);
            assertEquals(7, acked, "1 cookie request, then TFO: " + outcomes(client));
            assertEquals((double) acked / client.size(), hits / all, "client hit rate " + hits + "/" + all);
            assertEquals((double) count(accepted, TfoOutcome.SYN_DATA_ACCEPTED) / accepted.size(), serverHits / serverAll,
                    "server hit rate " + serverHits + "/" + serverAll);
            assertEquals(kernelDelta.active(), sum(before, after, "tfo_kernel_active_connections_total", Map.of()));
            assertEquals(kernelDelta.passive(), sum(before, after, "tfo_kernel_passive_connections_total", Map.of()));
            assertEquals(kernelDelta.cookieReqd(),
                    sum(before, after, "tfo_kernel_cookie_requested_connections_total", Map.of()));
            assertEquals(0.0, after.get("tfo_backoff_destinations"), text);
            System.out.printf("measured: client hit rate %.0f/%.0f = %.3f, server %.0f/%.0f, kernel delta %s%n",
                    hits, all, hits / all, serverHits, serverAll, kernelDelta);
        }
    }
}
