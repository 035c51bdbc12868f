package dev.tfo.bench;

import dev.tfo.TfoBackoff;
import dev.tfo.TfoClientOptions;
import dev.tfo.TfoCounters;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;

import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The black-hole benchmark's client, run in the client namespace against a server behind a wire that drops
 * every SYN carrying data. First a cookie request (its SYN has no data, so it passes), then {@code N}
 * sequential TfoBootstraps connections WITHOUT a backoff ({@link TfoBackoff#disabled()}: the kernel keeps
 * the cookie and every connection pays a SYN retransmission timeout), then {@code N} WITH a fresh
 * {@link TfoBackoff} (defaults): the first connection pays once, the others connect plainly.
 *
 * <p>Args: {@code HOST:PORT CONNECTIONS REQUEST_BYTES RESPONSE_BYTES}. Prints {@code BH mode i nanos outcome}
 * per connection, {@code BHTOTAL mode nanos activeFailDelta} per mode, then {@code DONE}.
 */
public final class BlackholeClient {
    private BlackholeClient() {
    }

    /**
     * @param args target, connections per mode, request bytes, response bytes
     */
    public static void main(String[] args) throws Exception {
        System.out.println("PRIORITY " + Priority.raise(true));
        int colon = args[0].lastIndexOf(':');
        InetSocketAddress server = new InetSocketAddress(args[0].substring(0, colon),
                Integer.parseInt(args[0].substring(colon + 1)));
        int n = Integer.parseInt(args[1]);
        int req = Integer.parseInt(args[2]);
        int resp = Integer.parseInt(args[3]);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            Clients without = new Clients(group, req, resp,
                    TfoClientOptions.builder().backoff(TfoBackoff.disabled()).build());
            Clients with = new Clients(group, req, resp,
                    TfoClientOptions.builder().backoff(TfoBackoff.builder().build()).build());
            LatencyClient.Sample prime = LatencyClient.once(without, Variant.TFO_BOOTSTRAPS, server);
            System.out.println("PRIME " + prime.outcome() + " " + prime.latencyNanos());
            run("without", without, server, n);
            run("with", with, server, n);
            System.out.println("DONE");
            System.out.flush();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static void run(String mode, Clients clients, InetSocketAddress server, int n) throws InterruptedException {
        TfoCounters before = TfoCounters.snapshot();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long s0 = System.nanoTime();
            LatencyClient.Sample s = LatencyClient.once(clients, Variant.TFO_BOOTSTRAPS, server);
            System.out.println(String.format(Locale.ROOT, "BH %s %d %d %s", mode, i,
                    s.latencyNanos() < 0 ? -(System.nanoTime() - s0) : s.latencyNanos(), s.outcome()));
        }
        long total = System.nanoTime() - t0;
        System.out.println(String.format(Locale.ROOT, "BHTOTAL %s %d %d", mode, total,
                TfoCounters.snapshot().minus(before).activeFail()));
        System.out.flush();
    }
}
