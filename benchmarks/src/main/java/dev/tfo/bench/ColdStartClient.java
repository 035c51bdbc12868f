package dev.tfo.bench;

import dev.tfo.TfoChannels;
import dev.tfo.TfoBootstraps;
import dev.tfo.TfoClientOptions;
import dev.tfo.TfoResult;
import dev.tfo.TfoSynDataPolicy;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The first connection of a fresh JVM, written the way the README's quick start is: {@code connect().sync()},
 * then {@code writeAndFlush} from the caller's thread. Run once per JVM by {@code benchmarks/cold-start.sh},
 * which counts how often that first request rode in the SYN.
 *
 * <p>{@code ColdStartClient HOST PORT REQUEST_BYTES RESPONSE_BYTES FIRST_WRITE_WAIT_MS} (-1: the default);
 * prints {@code outcome=OUTCOME sync_ms=N total_ms=N reason=...}.
 */
public final class ColdStartClient {
    private ColdStartClient() {
    }

    public static void main(String[] args) throws Exception {
        InetSocketAddress server = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        int requestBytes = Integer.parseInt(args[2]);
        int responseBytes = Integer.parseInt(args[3]);
        long waitMs = Long.parseLong(args[4]);
        // The request is an echo payload, safe to replay: the policy admits it, as the README's quick start does.
        TfoClientOptions.Builder options = TfoClientOptions.builder().synDataPolicy(TfoSynDataPolicy.any());
        if (waitMs >= 0) {
            options.firstWriteWait(Duration.ofMillis(waitMs));
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            CompletableFuture<Void> answered = new CompletableFuture<>();
            Bootstrap b = new Bootstrap().group(group)
                    .channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new, options.build()))
                    .handler(new ChannelInboundHandlerAdapter() {
                        private int got;

                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            got += ((ByteBuf) msg).readableBytes();
                            ((ByteBuf) msg).release();
                            if (got >= responseBytes) {
                                answered.complete(null);
                            }
                        }
                    });
            long start = System.nanoTime();
            Channel ch = b.connect(server).sync().channel();
            long synced = System.nanoTime();
            ch.writeAndFlush(Unpooled.wrappedBuffer(Payloads.pattern(requestBytes, 'Q')));
            answered.get(10, TimeUnit.SECONDS);
            long done = System.nanoTime();
            TfoResult r = TfoResult.of(ch).get(10, TimeUnit.SECONDS);
            System.out.printf("outcome=%s sync_ms=%.1f total_ms=%.1f reason=%s%n", r.outcome(),
                    (synced - start) / 1e6, (done - start) / 1e6, r.reason());
            ch.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
