package dev.tfo.scenario;

import dev.tfo.TfoTestClients;
import dev.tfo.TfoBackoff;
import dev.tfo.TfoBootstraps;
import dev.tfo.TfoClientOptions;
import dev.tfo.TfoResult;
import dev.tfo.TfoSynDataPolicy;
import dev.tfo.scenario.SeamSoak.AppPattern;
import dev.tfo.scenario.SeamSoak.ClientPattern;
import dev.tfo.testkit.TestTransport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The client of {@link SeamSoakScenarioTest}, run in a lab host: starts connections at a steady rate, each with
 * one client pattern ({@link ClientPattern}) and one application pattern ({@link AppPattern}) in turn, records
 * what the application saw on each (connect, write, verdict, echo, every exception and where it surfaced) and
 * prints the records on demand; the test decides. One bootstrap, {@code TfoTestClients.tfo(b, options)};
 * each connection uses {@code b.clone()} with its record as a channel attribute.
 *
 * <p>Arguments {@code key=value}: {@code host}, {@code port} (7000), {@code transport} (epoll),
 * {@code concurrency} (64: connections in flight at most), {@code timeoutMs} (5000: CONNECT_TIMEOUT_MILLIS),
 * {@code boundMs} (20000: a connection still open after it is hung; it is then closed), {@code firstWriteWaitMs}
 * (100), {@code backoff} ({@code off}, the default: every connection tries TFO, faults or not; {@code default}:
 * the shared backoff).
 *
 * <p>Commands on stdin: {@code PHASE name} (the phase new connections are tagged with), {@code RUN n rate}
 * (starts n connections, rate per second, 0: as fast as the concurrency allows; returns at once),
 * {@code AWAIT timeoutMs} (until every started connection ended; prints {@code IDLE started ended hung}),
 * {@code DUMP} (one line per connection, tab-separated: {@code C id cp ap size phaseStart phaseEnd connect write
 * verdict verdictCause echoed corrupt appClose hung endMs errors...}, then {@code DUMPED n}), {@code FDS},
 * {@code QUIT}. An error field is {@code where|app|phase|class|message}: where it surfaced ({@code connect}
 * future, {@code write} future, {@code ff} future of the first flight, {@code caught} in exceptionCaught,
 * {@code shutdown} future), {@code app} when the application had closed (or cancelled) already, {@code post} when
 * the verdict had been decided (the handshake was over) else {@code pre}.
 */
public final class SeamSoakClientAgent {
    private static final AttributeKey<Conn> CONN = AttributeKey.valueOf(SeamSoakClientAgent.class, "conn");

    private final InetSocketAddress server;
    private final Bootstrap bootstrap;
    private final EventLoopGroup group;
    private final ExecutorService workers;
    private final ScheduledExecutorService timer;
    private final Semaphore permits;
    private final long boundMs;
    private final List<Conn> conns = new ArrayList<>();
    private final AtomicInteger nextId = new AtomicInteger();
    private final AtomicInteger ended = new AtomicInteger();
    private final AtomicInteger hung = new AtomicInteger();
    private volatile String phase = "START";
    private Thread pacer;

    private SeamSoakClientAgent(Map<String, String> a) {
        server = new InetSocketAddress(a.get("host"), Integer.parseInt(a.getOrDefault("port", "7000")));
        TestTransport transport = TestTransport.of(a.getOrDefault("transport", "epoll"));
        int concurrency = Integer.parseInt(a.getOrDefault("concurrency", "64"));
        boundMs = Long.parseLong(a.getOrDefault("boundMs", "20000"));
        group = transport.newGroup(2);
        workers = Executors.newFixedThreadPool(concurrency, daemon("soak-worker"));
        timer = Executors.newSingleThreadScheduledExecutor(daemon("soak-watchdog"));
        permits = new Semaphore(concurrency);
        TfoBackoff backoff = "default".equals(a.getOrDefault("backoff", "off"))
                ? TfoBackoff.shared() : TfoBackoff.disabled();
        TfoClientOptions options = TfoClientOptions.builder()
                .backoff(backoff)
                // the request is binary: let it ride in the SYN, where the seams are
                .synDataPolicy(TfoSynDataPolicy.any())
                .firstWriteWait(Duration.ofMillis(Long.parseLong(a.getOrDefault("firstWriteWaitMs", "100"))))
                .build();
        Bootstrap b = new Bootstrap().group(group)
                .channel(transport.channel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, Integer.parseInt(a.getOrDefault("timeoutMs", "5000")))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.attr(CONN).get().attach(ch);
                    }
                });
        bootstrap = TfoTestClients.tfo(b, options);
    }

    public static void main(String[] args) {
        Agents.main(SeamSoakClientAgent::run, args);
    }

    private static void run(String[] args) throws Exception {
        new SeamSoakClientAgent(Agents.args(args)).serve();
    }

    private static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private void serve() throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] cmd = line.trim().split("\\s+");
            switch (cmd[0]) {
                case "PHASE":
                    phase = cmd[1];
                    Agents.out("PHASE " + phase);
                    break;
                case "RUN":
                    start(Integer.parseInt(cmd[1]), Double.parseDouble(cmd[2]));
                    Agents.out("RUNNING " + cmd[1]);
                    break;
                case "AWAIT":
                    awaitIdle(Long.parseLong(cmd[1]));
                    break;
                case "DUMP":
                    List<Conn> all;
                    synchronized (conns) {
                        all = new ArrayList<>(conns);
                    }
                    for (Conn c : all) {
                        Agents.out(c.record());
                    }
                    Agents.out("DUMPED " + all.size());
                    break;
                case "FDS":
                    Agents.out("FDS " + Agents.openFds());
                    break;
                case "QUIT":
                    shutdown();
                    Agents.out("BYE");
                    return;
                default:
                    Agents.out("ERROR unknown command " + line);
            }
        }
        shutdown();
    }

    private void shutdown() throws InterruptedException {
        workers.shutdownNow();
        timer.shutdownNow();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
    }

    private void start(int n, double rate) throws InterruptedException {
        if (pacer != null) {
            pacer.join();
        }
        pacer = new Thread(() -> {
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                if (rate > 0) {
                    long wait = t0 + (long) (i * 1e9 / rate) - System.nanoTime();
                    if (wait > 0) {
                        try {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }
                permits.acquireUninterruptibly();
                int id = nextId.incrementAndGet();
                Conn c = new Conn(id, ClientPattern.values()[id % 2], AppPattern.values()[(id / 2) % 4],
                        SeamSoak.SIZES[(id / 8) % SeamSoak.SIZES.length], phase);
                synchronized (conns) {
                    conns.add(c);
                }
                timer.schedule(() -> c.watchdog(false), boundMs, TimeUnit.MILLISECONDS);
                if (c.cp == ClientPattern.CONNECT_THEN_WRITE) {
                    workers.execute(() -> connectThenWrite(c));
                } else {
                    firstFlight(c);
                }
            }
        }, "soak-pacer");
        pacer.setDaemon(true);
        pacer.start();
    }

    private void awaitIdle(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        if (pacer != null) {
            pacer.join(timeoutMs);
        }
        int started;
        while (true) {
            synchronized (conns) {
                started = conns.size();
            }
            if (ended.get() >= started && (pacer == null || !pacer.isAlive()) || System.nanoTime() > deadline) {
                break;
            }
            Thread.sleep(20);
        }
        Agents.out("IDLE " + started + " " + ended.get() + " " + hung.get());
    }

    /** (a) {@code b.connect(server).sync()}, then {@code writeAndFlush(request)}, then the application pattern. */
    private void connectThenWrite(Conn c) {
        try {
            Channel ch;
            try {
                ch = bootstrap.clone().attr(CONN, c).connect(server).sync().channel();
                c.connect = "ok";
            } catch (Throwable t) {
                c.connect = "fail";
                c.error("connect", t);
                return;
            }
            ByteBuf request = Payload.build(ch.alloc(), c.seed, c.size);
            switch (c.ap) {
                case ECHO:
                    ch.writeAndFlush(request).addListener(c::written).addListener(c.closeOnFailure());
                    break;
                case HALF_CLOSE:
                    ch.writeAndFlush(request).addListener(c::written).addListener(f -> {
                        if (f.isSuccess()) {
                            c.shutdownOutput((SocketChannel) ch);
                        }
                    }).addListener(c.closeOnFailure());
                    break;
                case WRITE_CLOSE:
                    ch.writeAndFlush(request).addListener(f -> {
                        c.written(f);
                        c.appClose = true;
                    }).addListener(ChannelFutureListener.CLOSE);
                    break;
                case WRITE_THEN_CLOSE:
                    ch.writeAndFlush(request).addListener(c::written);
                    c.appClose = true;
                    ch.close();
                    break;
                default:
                    throw new AssertionError(c.ap);
            }
        } finally {
            c.appDone();
        }
    }

    /** (b) {@code TfoBootstraps.connect(b, server, request)}, then the application pattern on its future. */
    private void firstFlight(Conn c) {
        ByteBuf request = Payload.build(ByteBufAllocator.DEFAULT, c.seed, c.size);
        Future<Channel> f;
        try {
            f = TfoBootstraps.connect(bootstrap.clone().attr(CONN, c), server, request);
        } catch (RuntimeException e) {
            c.connect = "fail";
            c.error("ff", e);
            c.appDone();
            return;
        }
        if (c.ap == AppPattern.WRITE_THEN_CLOSE) {
            c.appClose = true;
            f.cancel(false);
        }
        f.addListener(x -> {
            try {
                c.firstFlightDone(x);
                if (x.isSuccess()) {
                    Channel ch = (Channel) x.getNow();
                    switch (c.ap) {
                        case HALF_CLOSE:
                            c.shutdownOutput((SocketChannel) ch);
                            break;
                        case WRITE_CLOSE:
                        case WRITE_THEN_CLOSE:
                            c.appClose = true;
                            ch.close();
                            break;
                        default:
                            break;
                    }
                }
            } finally {
                c.appDone();
            }
        });
    }

    /** What the application saw on one connection. */
    final class Conn {
        final int id;
        final ClientPattern cp;
        final AppPattern ap;
        final int size;
        final int seed;
        final String phaseStart;
        final long t0 = System.nanoTime();
        volatile String phaseEnd = "-";
        volatile Channel channel;
        volatile String connect = "-";
        volatile String write = "-";
        volatile String verdict = "PENDING";
        volatile String verdictCause = "-";
        volatile boolean verdictOk;
        volatile Future<TfoResult> result;
        volatile long echoed;
        volatile boolean corrupt;
        volatile boolean appClose;
        volatile boolean hung;
        volatile long endMs = -1;
        private final List<String> errors = new ArrayList<>(2);
        /** The channel's close and the application's part (the worker, or the first flight's listener). */
        private final AtomicInteger pending = new AtomicInteger(2);

        Conn(int id, ClientPattern cp, AppPattern ap, int size, String phase) {
            this.id = id;
            this.cp = cp;
            this.ap = ap;
            this.size = size;
            this.seed = SeamSoak.seed(id, cp, ap);
            this.phaseStart = phase;
        }

        /** In the bootstrap's initializer, once the channel is registered (before its connect). */
        void attach(Channel ch) {
            channel = ch;
            ch.pipeline().addLast(new Recorder(this));
            Future<TfoResult> r = TfoResult.of(ch);
            result = r;
            r.addListener(f -> {
                if (f.isSuccess()) {
                    verdict = ((TfoResult) f.getNow()).outcome().name();
                    verdictOk = true;
                } else {
                    verdict = "FAILED";
                    verdictCause = f.cause().getClass().getName() + "|" + (appClose ? "app" : "-") + "|"
                            + SeamSoak.field(f.cause().getMessage());
                }
            });
            ch.closeFuture().addListener(f -> partDone());
        }

        void error(String where, Throwable t) {
            synchronized (errors) {
                errors.add(where + "|" + (appClose ? "app" : "-") + "|" + (verdictOk ? "post" : "pre") + "|"
                        + t.getClass().getName() + "|" + SeamSoak.field(t.getMessage()));
            }
        }

        void written(Future<?> f) {
            write = f.isSuccess() ? "ok" : "fail";
            if (!f.isSuccess()) {
                error("write", f.cause());
            }
        }

        ChannelFutureListener closeOnFailure() {
            return f -> {
                if (!f.isSuccess()) {
                    appClose = true;
                    f.channel().close();
                }
            };
        }

        void shutdownOutput(SocketChannel ch) {
            ch.shutdownOutput().addListener(s -> {
                if (!s.isSuccess()) {
                    error("shutdown", s.cause());
                    appClose = true;
                    ch.close();
                }
            });
        }

        void firstFlightDone(Future<?> f) {
            if (f.isCancelled()) {
                connect = "cancelled";
                write = "cancelled";
            } else if (f.isSuccess()) {
                connect = "ok";
                write = "ok";
            } else {
                connect = "fail";
                write = "fail";
                error("ff", f.cause());
            }
        }

        /** The application's part is over; without a channel (never registered) so is the channel's. */
        void appDone() {
            if (channel == null) {
                partDone();
            }
            partDone();
        }

        private void partDone() {
            if (pending.decrementAndGet() == 0) {
                endMs = (System.nanoTime() - t0) / 1_000_000;
                phaseEnd = phase;
                ended.incrementAndGet();
                permits.release();
            }
        }

        /** Still not over after the bound: hung. Close it; if even that does not end it, end it by force. */
        void watchdog(boolean force) {
            if (pending.get() <= 0) {
                return;
            }
            if (!force) {
                hung = true;
                SeamSoakClientAgent.this.hung.incrementAndGet();
                Channel ch = channel;
                if (ch != null) {
                    ch.close();
                }
                timer.schedule(() -> watchdog(true), 5, TimeUnit.SECONDS);
            } else {
                while (pending.get() > 0) {
                    partDone();
                }
            }
        }

        String record() {
            StringBuilder sb = new StringBuilder("C");
            for (Object o : new Object[] {id, cp.tag, ap.tag, size, phaseStart, phaseEnd, connect, write, verdict,
                    verdictCause, echoed, corrupt, appClose, hung, endMs}) {
                sb.append('\t').append(SeamSoak.field(o));
            }
            synchronized (errors) {
                for (String e : errors) {
                    sb.append('\t').append(e);
                }
            }
            return sb.toString();
        }
    }

    /** Checks every echoed byte; records every exception that reaches the pipeline, then closes. */
    static final class Recorder extends ChannelInboundHandlerAdapter {
        private final Conn c;

        Recorder(Conn c) {
            this.c = c;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                // one copy: under paranoid leak detection every access of a buffer records a stack trace
                byte[] bytes = new byte[buf.readableBytes()];
                buf.getBytes(buf.readerIndex(), bytes);
                long pos = c.echoed;
                for (byte b : bytes) {
                    if (!c.ap.echo || pos >= c.size || b != SeamSoak.expected(c.seed, c.size, pos)) {
                        c.corrupt = true;
                    }
                    pos++;
                }
                c.echoed = pos;
            } finally {
                buf.release();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            c.error("caught", cause);
            ctx.close();
        }
    }
}
