package dev.tfo.bench;

import dev.tfo.TfoCounters;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The helper-overhead benchmark, run in a namespace of its own ({@code tcp_fastopen=3}) on loopback:
 * request/response on new connections, {@code CONCURRENCY} in flight, one client event loop thread, the
 * server on another event loop in the same JVM. Rounds of {@code CONNECTIONS} connections per variant,
 * the variants' order rotating every round. Per round and variant: elapsed time, bytes allocated by the
 * CLIENT's threads (the caller thread and the client event loop, from
 * {@code com.sun.management.ThreadMXBean#getThreadAllocatedBytes}), and the {@code TCPFastOpenActive} delta.
 *
 * <p>Args: {@code ROUNDS WARMUP_ROUNDS CONNECTIONS CONCURRENCY REQUEST_BYTES RESPONSE_BYTES}. Prints
 * {@code ROUND round variant nanos allocatedBytes activeDelta failures cpuNanos} per measured round (CPU time of
 * the client's threads), then {@code DONE}.
 */
public final class OverheadBench {
    private final Clients clients;
    private final InetSocketAddress target;
    private final Semaphore permits;
    private final int concurrency;
    private final LongAdder failures = new LongAdder();
    private final ChannelFutureListener closed;
    private final GenericFutureListener<Future<Channel>> helperDone;

    OverheadBench(Clients clients, InetSocketAddress target, int concurrency) {
        this.clients = clients;
        this.target = target;
        this.concurrency = concurrency;
        this.permits = new Semaphore(concurrency);
        this.closed = f -> {
            if (f.channel().attr(Clients.DONE_AT).get() == null) {
                failures.increment();
            }
            permits.release();
        };
        this.helperDone = f -> {
            if (f.isSuccess()) {
                f.getNow().closeFuture().addListener(closed);
            } else {
                failures.increment();
                permits.release();
            }
        };
    }

    private void start(Variant v) {
        switch (v) {
            case TFO_BOOTSTRAPS:
                clients.helper(target).addListener(helperDone);
                break;
            case HAND_TFO:
                clients.hand(target).channel().closeFuture().addListener(closed);
                break;
            default:
                clients.connectThenWrite(v, target).channel().closeFuture().addListener(closed);
        }
    }

    /** Failed connections since the last call. */
    long failuresAndReset() {
        return failures.sumThenReset();
    }

    /** Runs {@code n} connections, {@code concurrency} in flight; returns when all are over. */
    void round(Variant v, int n) throws InterruptedException {
        for (int i = 0; i < n; i++) {
            permits.acquire();
            start(v);
        }
        if (!permits.tryAcquire(concurrency, 30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("connections did not finish within 30 s");
        }
        permits.release(concurrency);
    }

    /**
     * @param args rounds, warm-up rounds, connections per round, concurrency, request bytes, response bytes
     */
    public static void main(String[] args) throws Exception {
        System.out.println("PRIORITY " + Priority.raise(false));
        int rounds = Integer.parseInt(args[0]);
        int warmupRounds = Integer.parseInt(args[1]);
        int connections = Integer.parseInt(args[2]);
        int concurrency = Integer.parseInt(args[3]);
        int req = Integer.parseInt(args[4]);
        int resp = Integer.parseInt(args[5]);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        mx.setThreadAllocatedMemoryEnabled(true);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (BenchServer server = BenchServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), req,
                resp, 1)) {
            long loopThread = group.next().submit(() -> Thread.currentThread().getId()).get();
            long[] threads = {Thread.currentThread().getId(), loopThread};
            Clients clients = new Clients(group, req, resp, null, false);
            OverheadBench bench = new OverheadBench(clients, server.address(), concurrency);
            bench.round(Variant.TFO_BOOTSTRAPS, 1); // the cookie
            Variant[] variants = Variant.values();
            for (int r = -warmupRounds; r < rounds; r++) {
                for (int j = 0; j < variants.length; j++) {
                    Variant v = variants[Math.floorMod(r + j, variants.length)];
                    bench.failures.reset();
                    TfoCounters before = TfoCounters.snapshot();
                    long a0 = sum(mx.getThreadAllocatedBytes(threads));
                    long c0 = cpu(mx, threads);
                    long t0 = System.nanoTime();
                    bench.round(v, connections);
                    long t1 = System.nanoTime();
                    long c1 = cpu(mx, threads);
                    long a1 = sum(mx.getThreadAllocatedBytes(threads));
                    long active = TfoCounters.snapshot().minus(before).active();
                    if (r >= 0) {
                        System.out.println(String.format(Locale.ROOT, "ROUND %d %s %d %d %d %d %d", r, v.key(), t1 - t0,
                                a1 - a0, active, bench.failures.sum(), c1 - c0));
                    }
                }
            }
            System.out.println("DONE");
            System.out.flush();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static long cpu(com.sun.management.ThreadMXBean mx, long[] threads) {
        long s = 0;
        for (long t : threads) {
            s += mx.getThreadCpuTime(t);
        }
        return s;
    }

    private static long sum(long[] values) {
        long s = 0;
        for (long v : values) {
            s += v;
        }
        return s;
    }
}
