package dev.tfo.bench;

import dev.tfo.TfoChannels;
import dev.tfo.TfoServerOptions;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;

import java.net.InetSocketAddress;

/**
 * The request/response server of every benchmark: reads a request of a fixed size, answers with a response
 * of a fixed size, and leaves closing to the client. TFO is on ({@link TfoChannels#serverFactory}, queue 4096).
 *
 * <p>As a main (in the server namespace): {@code BenchServer PORT REQUEST_BYTES RESPONSE_BYTES [WARMUP]}; prints
 * {@code listening PORT} and runs until killed or stdin closes.
 */
public final class BenchServer implements AutoCloseable {
    private final EventLoopGroup group;
    private final Channel listener;

    private BenchServer(EventLoopGroup group, Channel listener) {
        this.group = group;
        this.listener = listener;
    }

    /**
     * Starts a server on an address of this JVM's namespace.
     *
     * @param bind          the address to listen on
     * @param requestBytes  request size
     * @param responseBytes response size
     * @param threads       event loop threads
     */
    public static BenchServer start(InetSocketAddress bind, int requestBytes, int responseBytes, int threads)
            throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, EpollIoHandler.newFactory());
        ByteBuf response = Unpooled.unreleasableBuffer(
                Unpooled.directBuffer(responseBytes).writeBytes(Payloads.pattern(responseBytes, 'R')));
        ServerBootstrap sb = new ServerBootstrap()
                .group(group)
                .channelFactory(TfoChannels.serverFactory(EpollServerSocketChannel::new,
                        TfoServerOptions.builder().queueLength(4096).build()))
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new Responder(requestBytes, response));
                    }
                });
        Channel ch = sb.bind(bind).sync().channel();
        return new BenchServer(group, ch);
    }

    /** The bound address. */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Answers once the whole request is in. */
    static final class Responder extends ChannelInboundHandlerAdapter {
        private final ByteBuf response;
        private int remaining;

        Responder(int requestBytes, ByteBuf response) {
            this.remaining = requestBytes;
            this.response = response;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            boolean answer = remaining > 0 && (remaining -= in.readableBytes()) <= 0;
            in.release();
            if (answer) {
                ctx.writeAndFlush(response.duplicate());
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * {@code BenchServer PORT REQUEST_BYTES RESPONSE_BYTES [WARMUP_CONNECTIONS]}: warms up on loopback
     * first (JIT), then listens.
     *
     * @param args port, request size, response size, loopback warm-up connections per variant
     */
    public static void main(String[] args) throws Exception {
        System.out.println("PRIORITY " + Priority.raise(true));
        int port = Integer.parseInt(args[0]);
        int req = Integer.parseInt(args[1]);
        int resp = Integer.parseInt(args[2]);
        LoopbackWarmup.run(args.length > 3 ? Integer.parseInt(args[3]) : 0, req, resp);
        try (BenchServer server = start(new InetSocketAddress(port), req, resp, 1)) {
            System.out.println("listening " + server.address().getPort());
            System.out.flush();
            // Runs until stdin closes (the orchestrator ends) or the process is killed.
            while (System.in.read() >= 0) {
                // ignore input
            }
        }
    }
}
