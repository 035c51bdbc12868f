package dev.tfo.scenario;

import dev.tfo.TfoTestClients;
import dev.tfo.TfoBackoff;
import dev.tfo.TfoBootstraps;
import dev.tfo.TfoClientOptions;
import dev.tfo.TfoResult;
import dev.tfo.testkit.TestTransport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TFO client for scenario tests, run in a lab host. Arguments {@code key=value}: {@code host}, {@code port},
 * {@code transport} (epoll|io_uring, a {@code TestTransport} name; a test asking for io_uring calls
 * {@code TestTransport.IO_URING.assumePresent()} first: Netty 4.1 has none), {@code backoff} ({@code off} or {@code initialMs:maxMs:threshold}),
 * {@code nocookie}, {@code timeoutMs} (CONNECT_TIMEOUT_MILLIS), {@code quiet}; {@code transport} may also be
 * {@code nio}. {@code RUN n concurrency size HOST} connects to HOST instead of {@code host}.
 *
 * <p>Commands on stdin: {@code RUN n concurrency size} prints, per connection, {@code RESULT index outcome
 * intact bytes elapsedMs reason} or {@code FAIL index exception elapsedMs message}, then {@code DONE n ok
 * failed totalMs outcomes}; {@code FDS} prints {@code FDS count}; {@code QUIT} exits.
 */
public final class ClientAgent {
    private static final AttributeKey<Verifier> VERIFIER = AttributeKey.valueOf(ClientAgent.class, "verifier");

    private ClientAgent() {
    }

    public static void main(String[] args) {
        Agents.main(ClientAgent::run, args);
    }

    private static void run(String[] args) throws Exception {
        Map<String, String> a = Agents.args(args);
        InetSocketAddress server = new InetSocketAddress(a.get("host"), Integer.parseInt(a.getOrDefault("port", "7000")));
        TestTransport transport = TestTransport.of(a.getOrDefault("transport", "epoll"));
        boolean quiet = Boolean.parseBoolean(a.getOrDefault("quiet", "false"));
        EventLoopGroup group = transport.newGroup(2);
        TfoBackoff backoff = TfoBackoff.shared();
        String spec = a.getOrDefault("backoff", "default");
        if ("off".equals(spec)) {
            backoff = TfoBackoff.disabled();
        } else if (!"default".equals(spec)) {
            String[] p = spec.split(":");
            backoff = TfoBackoff.builder().initial(Duration.ofMillis(Long.parseLong(p[0])))
                    .max(Duration.ofMillis(Long.parseLong(p[1]))).dataNotAckedThreshold(Integer.parseInt(p[2]))
                    .build();
        }
        Bootstrap plain = new Bootstrap().group(group)
                .channel(transport.channel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, Integer.parseInt(a.getOrDefault("timeoutMs", "10000")))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        Verifier v = new Verifier();
                        ch.attr(VERIFIER).set(v);
                        ch.pipeline().addLast(v);
                    }
                });
        Bootstrap b = TfoTestClients.tfo(plain, TfoClientOptions.builder().backoff(backoff)
                .noCookie(Boolean.parseBoolean(a.getOrDefault("nocookie", "false"))).build());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] cmd = line.trim().split("\\s+");
            switch (cmd[0]) {
                case "RUN":
                    InetSocketAddress target = cmd.length > 4 ? new InetSocketAddress(cmd[4], server.getPort()) : server;
                    run(b, target, Integer.parseInt(cmd[1]), Integer.parseInt(cmd[2]), Integer.parseInt(cmd[3]), quiet);
                    break;
                case "FDS":
                    Agents.out("FDS " + Agents.openFds());
                    break;
                case "QUIT":
                    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
                    Agents.out("BYE");
                    return;
                default:
                    Agents.out("ERROR unknown command " + line);
            }
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
    }

    private static void run(Bootstrap b, InetSocketAddress server, int n, int concurrency, int size, boolean quiet)
            throws InterruptedException {
        long start = System.nanoTime();
        AtomicInteger next = new AtomicInteger();
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        Map<String, Integer> outcomes = new TreeMap<>();
        CountDownLatch done = new CountDownLatch(n);
        Runnable[] starter = new Runnable[1];
        starter[0] = () -> {
            int i = next.getAndIncrement();
            if (i >= n) {
                return;
            }
            long t0 = System.nanoTime();
            ByteBuf data = Payload.build(ByteBufAllocator.DEFAULT, i, size);
            Future<Channel> f;
            try {
                f = TfoBootstraps.connect(b, server, data);
            } catch (RuntimeException e) {
                report(quiet, "FAIL " + i + " " + e.getClass().getSimpleName() + " 0 " + e.getMessage());
                failed.incrementAndGet();
                done.countDown();
                starter[0].run();
                return;
            }
            f.addListener(cf -> {
                if (!cf.isSuccess()) {
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    Throwable c = cf.cause();
                    report(false, "FAIL " + i + " " + c.getClass().getSimpleName() + " " + ms + " "
                            + String.valueOf(c.getMessage()).replace('\n', ' '));
                    failed.incrementAndGet();
                    synchronized (outcomes) {
                        outcomes.merge("FAIL", 1, Integer::sum);
                    }
                    done.countDown();
                    starter[0].run();
                    return;
                }
                Channel ch = (Channel) cf.getNow();
                TfoResult r = TfoResult.of(ch).getNow();
                ch.closeFuture().addListener(x -> {
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    Verifier v = ch.attr(VERIFIER).get();
                    boolean intact = v.intact(size);
                    if (intact) {
                        ok.incrementAndGet();
                    } else {
                        failed.incrementAndGet();
                    }
                    synchronized (outcomes) {
                        outcomes.merge(r.outcome().name(), 1, Integer::sum);
                    }
                    report(quiet && intact, "RESULT " + i + " " + r.outcome() + " " + intact + " " + v.received + " "
                            + ms + " " + r.reason());
                    done.countDown();
                    starter[0].run();
                });
            });
        };
        for (int k = 0; k < Math.min(concurrency, n); k++) {
            starter[0].run();
        }
        if (!done.await(30, TimeUnit.MINUTES)) {
            Agents.out("ERROR run timed out");
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        String summary;
        synchronized (outcomes) {
            summary = outcomes.toString().replace(" ", "");
        }
        Agents.out("DONE " + n + " " + ok.get() + " " + failed.get() + " " + ms + " " + summary);
    }

    private static void report(boolean quiet, String line) {
        if (!quiet) {
            Agents.out(line);
        }
    }

    /** Checks every echoed byte against the payload the seed in its header defines. */
    static final class Verifier extends ChannelInboundHandlerAdapter {
        volatile long received;
        private volatile boolean bad;
        private int length;
        private int seed;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                for (int i = buf.readerIndex(); i < buf.writerIndex(); i++) {
                    long pos = received++;
                    int v = buf.getUnsignedByte(i);
                    if (pos < 4) {
                        length = (length << 8) | v;
                    } else if (pos < 8) {
                        seed = (seed << 8) | v;
                    } else if (pos >= length || (byte) v != Payload.at(seed, (int) pos)) {
                        bad = true;
                    }
                }
            } finally {
                buf.release();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            bad = true;
            ctx.close();
        }

        boolean intact(int size) {
            return !bad && received == size && length == size;
        }
    }
}
