package dev.tfo.scenario;

import dev.tfo.TfoChannels;
import dev.tfo.TfoResult;
import dev.tfo.TfoServerOptions;
import dev.tfo.testkit.TestTransport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.socket.ChannelInputShutdownEvent;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server of {@link SeamSoakScenarioTest}, run in a lab host: a TFO listener whose children check every byte
 * against the {@link Payload} their header announces, count them, echo them when the connection's pattern wants
 * an echo (then close), and record each child. Arguments {@code key=value}: {@code port} (7000),
 * {@code transport} (epoll).
 *
 * <p>Prints {@code LISTENING port}. Commands on stdin: {@code RESET k} (from now on every k-th child is reset,
 * SO_LINGER 0 and close, as soon as its header is in; 0: none), {@code RESTART gapMs} (closes the listener,
 * waits, binds the same port again; children live on; prints {@code RESTARTED}), {@code DUMP} (one line per child,
 * {@code S id length received corrupt reset eof outcome error}, tab-separated, then {@code DUMPED n}),
 * {@code FDS}, {@code STATS}, {@code QUIT}.
 */
public final class SeamSoakServerAgent {
    private static final Queue<Child> CHILDREN = new ConcurrentLinkedQueue<>();
    private static final AtomicLong ACCEPTED = new AtomicLong();
    private static final Map<String, AtomicLong> OUTCOMES = new ConcurrentHashMap<>();
    private static volatile int resetEvery;

    private SeamSoakServerAgent() {
    }

    public static void main(String[] args) {
        Agents.main(SeamSoakServerAgent::run, args);
    }

    private static void run(String[] args) throws Exception {
        Map<String, String> a = Agents.args(args);
        int port = Integer.parseInt(a.getOrDefault("port", "7000"));
        TestTransport transport = TestTransport.of(a.getOrDefault("transport", "epoll"));
        EventLoopGroup group = transport.newGroup(2);
        ServerBootstrap sb = new ServerBootstrap().group(group)
                .channelFactory(TfoChannels.serverFactory(new ReflectiveChannelFactory<>(transport.serverChannel()),
                        TfoServerOptions.builder().queueLength(256).build()))
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        long n = ACCEPTED.incrementAndGet();
                        String outcome = TfoResult.of(ch).getNow().outcome().name();
                        OUTCOMES.computeIfAbsent(outcome, k -> new AtomicLong()).incrementAndGet();
                        int k = resetEvery;
                        Child c = new Child(outcome, k > 0 && n % k == 0);
                        CHILDREN.add(c);
                        ch.pipeline().addLast(new Sink(c));
                    }
                });
        Channel listener = sb.bind(port).sync().channel();
        Agents.out("LISTENING " + port);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] cmd = line.trim().split("\\s+");
            switch (cmd[0]) {
                case "RESET":
                    resetEvery = Integer.parseInt(cmd[1]);
                    Agents.out("RESETTING " + resetEvery);
                    break;
                case "RESTART":
                    long t0 = System.nanoTime();
                    listener.close().sync();
                    Thread.sleep(Long.parseLong(cmd[1]));
                    listener = sb.bind(port).sync().channel();
                    Agents.out("RESTARTED " + (System.nanoTime() - t0) / 1_000_000 + " ms");
                    break;
                case "DUMP":
                    int n = 0;
                    for (Child c : CHILDREN) {
                        Agents.out(c.record());
                        n++;
                    }
                    Agents.out("DUMPED " + n);
                    break;
                case "STATS":
                    Agents.out("STATS accepted=" + ACCEPTED.get() + " outcomes=" + new TreeMap<>(OUTCOMES));
                    break;
                case "FDS":
                    Agents.out("FDS " + Agents.openFds());
                    break;
                case "QUIT":
                    listener.close().sync();
                    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
                    Agents.out("BYE");
                    return;
                default:
                    Agents.out("ERROR unknown command " + line);
            }
        }
        listener.close().sync();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
    }

    /** What one accepted connection brought. */
    static final class Child {
        final String outcome;
        final boolean resetMe;
        volatile int seed = -1;
        volatile int length = -1;
        volatile long received;
        volatile boolean corrupt;
        volatile boolean reset;
        volatile boolean eof;
        volatile String error = "-";

        Child(String outcome, boolean resetMe) {
            this.outcome = outcome;
            this.resetMe = resetMe;
        }

        String record() {
            return "S\t" + (seed < 0 ? -1 : SeamSoak.id(seed)) + "\t" + length + "\t" + received + "\t" + corrupt
                    + "\t" + reset + "\t" + eof + "\t" + outcome + "\t" + SeamSoak.field(error);
        }
    }

    /** Checks and counts every byte; echoes when the pattern wants it; closes when all came (or at EOF). */
    static final class Sink extends ChannelInboundHandlerAdapter {
        private final Child c;
        private final byte[] header = new byte[Payload.HEADER];

        Sink(Child c) {
            this.c = c;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            if (c.reset) {
                buf.release();
                return;
            }
            // one copy: under paranoid leak detection every access of a buffer records a stack trace
            byte[] bytes = new byte[buf.readableBytes()];
            buf.getBytes(buf.readerIndex(), bytes);
            long pos = c.received;
            for (byte b : bytes) {
                if (pos < Payload.HEADER) {
                    header[(int) pos] = b;
                    if (pos == Payload.HEADER - 1) {
                        c.length = intAt(header, 0);
                        c.seed = intAt(header, 4);
                    }
                } else if (pos >= c.length || b != SeamSoak.expected(c.seed, c.length, pos)) {
                    c.corrupt = true;
                }
                pos++;
            }
            c.received = pos;
            if (c.resetMe && c.seed >= 0) {
                buf.release();
                c.reset = true;
                ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                ctx.close();
                return;
            }
            if (c.seed >= 0 && SeamSoak.app(c.seed).echo) {
                ctx.write(buf);
            } else {
                buf.release();
            }
            if (c.seed >= 0 && pos >= c.length) {
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        }

        private static int intAt(byte[] b, int i) {
            return (b[i] & 0xff) << 24 | (b[i + 1] & 0xff) << 16 | (b[i + 2] & 0xff) << 8 | (b[i + 3] & 0xff);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                c.eof = true;
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!c.reset) {
                c.error = cause.getClass().getSimpleName() + ": " + cause.getMessage();
            }
            ctx.close();
        }
    }
}
