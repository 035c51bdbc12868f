package dev.tfo.scenario;

import dev.tfo.TfoChannels;
import dev.tfo.TfoKey;
import dev.tfo.TfoKeyRing;
import dev.tfo.TfoResult;
import dev.tfo.TfoServerOptions;
import dev.tfo.testkit.TestTransport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.socket.ServerSocketChannel;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TFO echo server for scenario tests, run in a lab host. Arguments {@code key=value}: {@code port},
 * {@code transport} (epoll|io_uring|nio, a {@code TestTransport} name; a test asking for io_uring calls
 * {@code TestTransport.IO_URING.assumePresent()} first: Netty 4.1 has none), {@code queue}, {@code backlog}, {@code key}, {@code backup},
 * {@code keyfile}, {@code nocookie}, {@code quiet}, {@code tfo} ({@code off}: a listener without TCP_FASTOPEN).
 * Echoes each connection's bytes, then closes once the
 * length announced by the payload header has been echoed (so the server, not the client, holds TIME_WAIT).
 *
 * <p>Prints {@code LISTENING port}, per connection {@code ACCEPT outcome} (unless quiet). Commands on stdin:
 * {@code ROTATE hex}, {@code STAGE hex}, {@code STATS}, {@code FDS}, {@code CLOSE}, {@code QUIT}.
 */
public final class ServerAgent {
    private static final AtomicLong ACCEPTED = new AtomicLong();
    private static final Map<String, AtomicLong> OUTCOMES = new ConcurrentHashMap<>();

    private ServerAgent() {
    }

    public static void main(String[] args) {
        Agents.main(ServerAgent::run, args);
    }

    private static void run(String[] args) throws Exception {
        Map<String, String> a = Agents.args(args);
        int port = Integer.parseInt(a.getOrDefault("port", "7000"));
        TestTransport transport = TestTransport.of(a.getOrDefault("transport", "epoll"));
        boolean quiet = Boolean.parseBoolean(a.getOrDefault("quiet", "false"));
        EventLoopGroup group = transport.newGroup(2);
        TfoKeyRing ring = null;
        if (a.containsKey("keyfile")) {
            ring = TfoKeyRing.watch(Path.of(a.get("keyfile")));
        } else if (a.containsKey("key")) {
            ring = a.containsKey("backup")
                    ? TfoKeyRing.of(TfoKey.parse(a.get("key")), TfoKey.parse(a.get("backup")))
                    : TfoKeyRing.of(TfoKey.parse(a.get("key")));
        }
        TfoServerOptions.Builder options = TfoServerOptions.builder()
                .queueLength(Integer.parseInt(a.getOrDefault("queue", "256")))
                .noCookie(Boolean.parseBoolean(a.getOrDefault("nocookie", "false")));
        if (ring != null) {
            options.keys(ring);
        }
        ChannelFactory<? extends ServerSocketChannel> channels = new ReflectiveChannelFactory<>(transport.serverChannel());
        if (!"off".equals(a.get("tfo"))) {
            channels = TfoChannels.serverFactory(channels, options.build());
        }
        ServerBootstrap sb = new ServerBootstrap().group(group)
                .channelFactory(channels)
                .option(ChannelOption.SO_BACKLOG, Integer.parseInt(a.getOrDefault("backlog", "4096")))
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ACCEPTED.incrementAndGet();
                        TfoResult r = TfoResult.of(ch).getNow();
                        OUTCOMES.computeIfAbsent(r.outcome().name(), k -> new AtomicLong()).incrementAndGet();
                        if (!quiet) {
                            Agents.out("ACCEPT " + r.outcome());
                        }
                        ch.pipeline().addLast(new Echo());
                    }
                });
        Channel listener = sb.bind(port).sync().channel();
        Agents.out("LISTENING " + port);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] cmd = line.trim().split("\\s+");
            switch (cmd[0]) {
                case "ROTATE":
                    ring.rotate(TfoKey.parse(cmd[1])).join();
                    Agents.out("ROTATED " + ring.primary());
                    break;
                case "STAGE":
                    ring.stage(TfoKey.parse(cmd[1])).join();
                    Agents.out("STAGED " + ring.backup().orElseThrow());
                    break;
                case "STATS":
                    Agents.out("STATS accepted=" + ACCEPTED.get() + " outcomes=" + new java.util.TreeMap<>(OUTCOMES));
                    break;
                case "FDS":
                    Agents.out("FDS " + Agents.openFds());
                    break;
                case "CLOSE":
                    listener.close().sync();
                    Agents.out("CLOSED");
                    break;
                case "QUIT":
                    listener.close().sync();
                    group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).sync();
                    if (ring != null) {
                        ring.close();
                    }
                    Agents.out("BYE");
                    return;
                default:
                    Agents.out("ERROR unknown command " + line);
            }
        }
        listener.close().sync();
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).sync();
        if (ring != null) {
            ring.close();
        }
    }

    /** Echoes; closes after the announced length. */
    static final class Echo extends ChannelInboundHandlerAdapter {
        private long expected = -1;
        private long seen;
        private int headerBytes;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            for (int i = b.readerIndex(); i < b.writerIndex() && headerBytes < 4; i++, headerBytes++) {
                expected = ((expected < 0 ? 0 : expected) << 8) | b.getUnsignedByte(i);
            }
            seen += b.readableBytes();
            ctx.write(b);
            if (headerBytes == 4 && seen >= expected) {
                ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
