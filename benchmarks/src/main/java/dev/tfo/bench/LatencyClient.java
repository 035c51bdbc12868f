package dev.tfo.bench;

import dev.tfo.TfoCounters;
import dev.tfo.TfoResult;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.Future;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The latency benchmark's client, run in the CLIENT namespace ({@code tcp_fastopen=3}): for each target
 * (a server address behind a delay wire), request/response on a NEW connection, the {@link Variant}s
 * interleaved round-robin (round {@code i} starts with variant {@code i mod n}) so that noise hits them
 * alike. The connect-then-write variants with a TFO client ({@link Variant#HAND_CTW}, {@link Variant#TFO_CTW})
 * are written as the habit: {@code connect().sync()} on the caller's thread, then {@code writeAndFlush}. The TFO counters of the namespace are read around every connection, so each connection's
 * {@code TCPFastOpenActive} delta is known.
 *
 * <p>Args: {@code ITERATIONS WARMUP LOOPBACK_WARMUP REQUEST_BYTES RESPONSE_BYTES LABEL=HOST:PORT ...}: measured
 * rounds, unmeasured rounds per target, JIT warm-up connections per variant on loopback first. Prints one
 * line per measured connection: {@code SAMPLE label variant iteration latencyNanos connectNanos activeDelta
 * activeFailDelta outcome kernelRttMicros}, then {@code DONE}.
 */
public final class LatencyClient {
    private static final long TIMEOUT_MILLIS = 15_000;

    private LatencyClient() {
    }

    /** One measured connection. */
    record Sample(long latencyNanos, long connectNanos, long activeDelta, long activeFailDelta, String outcome,
                  long kernelRttMicros) {
    }

    /**
     * Runs one connection of a variant and waits until it is over.
     */
    static Sample once(Clients clients, Variant v, InetSocketAddress server) throws InterruptedException {
        TfoCounters before = TfoCounters.snapshot();
        long t0 = System.nanoTime();
        Channel ch;
        switch (v) {
            case PLAIN:
                ch = clients.plain(server).channel();
                break;
            case HAND_TFO:
                ch = clients.hand(server).channel();
                break;
            case TFO_BOOTSTRAPS: {
                Future<Channel> f = clients.helper(server);
                if (!f.await(TIMEOUT_MILLIS) || !f.isSuccess()) {
                    return new Sample(-1, -1, 0, 0, "FAILED:" + f.cause(), -1);
                }
                ch = f.getNow();
                break;
            }
            default: {
                // The habit, from the caller's thread: connect().sync(), then writeAndFlush(request).
                ChannelFuture cf = clients.bootstrap(v).connect(server);
                if (!cf.await(TIMEOUT_MILLIS) || !cf.isSuccess()) {
                    cf.channel().close();
                    return new Sample(-1, -1, 0, 0, "FAILED:" + cf.cause(), -1);
                }
                ch = cf.channel();
                ch.writeAndFlush(clients.request.duplicate()).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
                break;
            }
        }
        if (!ch.closeFuture().await(TIMEOUT_MILLIS)) {
            ch.close();
            return new Sample(-1, -1, 0, 0, "TIMEOUT", -1);
        }
        String outcome = v.library() ? outcome(ch) : "-";
        Long done = ch.attr(Clients.DONE_AT).get();
        Long connected = ch.attr(Clients.CONNECTED_AT).get();
        Long rtt = ch.attr(Clients.KERNEL_RTT).get();
        TfoCounters delta = TfoCounters.snapshot().minus(before);
        if (done == null) {
            return new Sample(-1, -1, delta.active(), delta.activeFail(), "NO_RESPONSE", -1);
        }
        return new Sample(done - t0, connected == null ? -1 : connected - t0, delta.active(), delta.activeFail(),
                outcome, rtt == null ? -1 : rtt);
    }

    /** The library's verdict on a connection it made (decided once the handshake is over). */
    static String outcome(Channel ch) {
        Future<TfoResult> r = TfoResult.of(ch);
        return !r.isDone() ? "UNDECIDED" : r.isSuccess() ? r.getNow().outcome().name()
                : "FAILED:" + r.cause().getClass().getSimpleName();
    }

    /**
     * @param args iterations, warmup, loopback warm-up, request bytes, response bytes, LABEL=HOST:PORT targets
     */
    public static void main(String[] args) throws Exception {
        System.out.println("PRIORITY " + Priority.raise(true));
        int iterations = Integer.parseInt(args[0]);
        int warmup = Integer.parseInt(args[1]);
        int loopbackWarmup = Integer.parseInt(args[2]);
        int req = Integer.parseInt(args[3]);
        int resp = Integer.parseInt(args[4]);
        List<String> labels = new ArrayList<>();
        List<InetSocketAddress> targets = new ArrayList<>();
        for (int i = 5; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            int colon = kv[1].lastIndexOf(':');
            labels.add(kv[0]);
            targets.add(new InetSocketAddress(kv[1].substring(0, colon), Integer.parseInt(kv[1].substring(colon + 1))));
        }
        LoopbackWarmup.run(loopbackWarmup, req, resp);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            Clients clients = new Clients(group, req, resp, null, true);
            Variant[] variants = Variant.values();
            for (int t = 0; t < targets.size(); t++) {
                InetSocketAddress server = targets.get(t);
                // The first TFO connection to a server requests its cookie (no data in that SYN).
                Sample prime = once(clients, Variant.TFO_BOOTSTRAPS, server);
                System.out.println("PRIME " + labels.get(t) + " " + prime.outcome() + " " + prime.latencyNanos());
                for (int i = -warmup; i < iterations; i++) {
                    for (int j = 0; j < variants.length; j++) {
                        Variant v = variants[Math.floorMod(i + j, variants.length)];
                        Sample s = once(clients, v, server);
                        if (i >= 0) {
                            System.out.println(String.format(Locale.ROOT, "SAMPLE %s %s %d %d %d %d %d %s %d",
                                    labels.get(t), v.key(), i, s.latencyNanos(), s.connectNanos(), s.activeDelta(),
                                    s.activeFailDelta(), s.outcome(), s.kernelRttMicros()));
                        }
                    }
                }
                System.out.flush();
            }
            System.out.println("DONE");
            System.out.flush();
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
