package dev.tfo;

import dev.tfo.testkit.EchoHandlers;
import dev.tfo.testkit.TestTransport;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.socket.ServerSocketChannel;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An in-process echo server and a client that sends one first flight per connection and collects the echo,
 * on a chosen transport (the testkit's {@link TestTransport}: {@code new EchoFixture(TestTransport.IO_URING)}
 * aborts the test with the declared reason on Netty 4.1, which has none). Shared by the tests of this module.
 */
final class EchoFixture implements AutoCloseable {
    /** What one connection gave. */
    static final class Exchange {
        final TfoResult client;
        final byte[] echoed;

        Exchange(TfoResult client, byte[] echoed) {
            this.client = client;
            this.echoed = echoed;
        }
    }

    final TestTransport transport;
    final EventLoopGroup group;
    final BlockingQueue<TfoResult> serverResults = new LinkedBlockingQueue<>();
    private Channel server;

    EchoFixture(TestTransport transport) {
        this.transport = transport;
        this.group = transport.newGroup(2); // io_uring on Netty 4.1: the declared skip
    }

    /** Starts the echo server; {@code queueLength <= 0}: without TCP_FASTOPEN. */
    SocketAddress startServer(String host, int queueLength) throws InterruptedException {
        ChannelFactory<? extends ServerSocketChannel> channels = new ReflectiveChannelFactory<>(transport.serverChannel());
        if (queueLength > 0) {
            channels = TfoChannels.serverFactory(channels, TfoServerOptions.builder().queueLength(queueLength).build());
        }
        ServerBootstrap sb = new ServerBootstrap().group(group).channelFactory(channels)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        TfoResult.of(ch).addListener(f -> serverResults.add((TfoResult) f.getNow()));
                        ch.pipeline().addLast(EchoHandlers.echo());
                    }
                });
        server = sb.bind(new InetSocketAddress(host, 0)).sync().channel();
        return server.localAddress();
    }

    void stopServer() throws InterruptedException {
        server.close().sync();
    }

    /** A client bootstrap whose handler collects {@code expected} bytes into {@code sink}. */
    Bootstrap clientBootstrap(int expected, CompletableFuture<byte[]> sink) {
        return new Bootstrap().group(group).channel(transport.channel())
                .handler(EchoHandlers.collector(expected, sink));
    }

    /** One connection through {@link TfoBootstraps#connect}: sends {@code payload}, waits for its echo. */
    Exchange exchange(SocketAddress server, byte[] payload) throws Exception {
        CompletableFuture<byte[]> echoed = new CompletableFuture<>();
        Bootstrap b = clientBootstrap(payload.length, echoed);
        Channel ch = TfoBootstraps.connect(b, server, Unpooled.wrappedBuffer(payload)).get(10, TimeUnit.SECONDS);
        TfoResult result = TfoResult.of(ch).get(10, TimeUnit.SECONDS);
        return new Exchange(result, echoed.get(20, TimeUnit.SECONDS));
    }

    static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Override
    public void close() throws InterruptedException {
        if (server != null) {
            server.close().sync();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
    }
}
