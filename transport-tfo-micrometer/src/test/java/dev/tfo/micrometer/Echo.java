package dev.tfo.micrometer;

import dev.tfo.TfoBootstraps;
import dev.tfo.TfoChannels;
import dev.tfo.TfoClientOptions;
import dev.tfo.TfoResult;
import dev.tfo.TfoServerOptions;
import dev.tfo.testkit.EchoHandlers;
import dev.tfo.testkit.TestTransport;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An echo server set up with given {@link TfoServerOptions}, and clients that send one request per connection
 * and wait for its echo, on a transport that does TFO (the testkit's {@link TestTransport}:
 * {@code new Echo(TestTransport.IO_URING)} aborts the test with the declared reason on Netty 4.1, which has none):
 * the traffic the netns tests measure.
 */
final class Echo implements AutoCloseable {
    final TestTransport transport;
    final EventLoopGroup group;
    /** The result of every accepted connection, seen by the server's own pipeline (after the binder's). */
    final BlockingQueue<TfoResult> accepted = new LinkedBlockingQueue<>();
    private Channel server;

    Echo(TestTransport transport) {
        this.transport = transport;
        this.group = transport.newGroup(2); // io_uring on Netty 4.1: the declared skip
    }

    /** Starts the echo server on {@code ip}, a port of its own. */
    InetSocketAddress serve(String ip, TfoServerOptions options) throws InterruptedException {
        ServerBootstrap sb = new ServerBootstrap().group(group)
                .channelFactory(TfoChannels.serverFactory(new ReflectiveChannelFactory<>(transport.serverChannel()),
                        options))
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        TfoResult.of(ch).addListener(f -> accepted.add((TfoResult) f.getNow()));
                        ch.pipeline().addLast(EchoHandlers.echo());
                    }
                });
        server = sb.bind(new InetSocketAddress(ip, 0)).sync().channel();
        return (InetSocketAddress) server.localAddress();
    }

    /** The server's result of the next accepted connection. */
    TfoResult nextAccepted() throws InterruptedException {
        TfoResult r = accepted.poll(10, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("no connection accepted within 10 s");
        }
        return r;
    }

    /** One first flight through {@link TfoBootstraps#connect}, echoed intact; the client's result. */
    TfoResult firstFlight(InetSocketAddress to, TfoClientOptions options, String request) throws Exception {
        CompletableFuture<String> echoed = new CompletableFuture<>();
        Bootstrap b = new Bootstrap().group(group).handler(collector(request.length(), echoed)).channelFactory(
                TfoChannels.clientFactory(new ReflectiveChannelFactory<>(transport.channel()), options));
        Channel ch = TfoBootstraps.connect(b, to, ascii(request)).get(10, TimeUnit.SECONDS);
        return finish(ch, request, echoed);
    }

    /** Connect, then write: the pattern of frameworks. {@code bootstrap} comes from {@link #collector}'s user. */
    static TfoResult connectThenWrite(Bootstrap bootstrap, InetSocketAddress to, String request,
                                      CompletableFuture<String> echoed) throws Exception {
        Channel ch = bootstrap.connect(to).sync().channel();
        ch.writeAndFlush(ascii(request));
        return finish(ch, request, echoed);
    }

    private static TfoResult finish(Channel ch, String request, CompletableFuture<String> echoed) throws Exception {
        String got = echoed.get(10, TimeUnit.SECONDS);
        if (!request.equals(got)) {
            throw new AssertionError("echo of " + request + ": " + got);
        }
        TfoResult result = TfoResult.of(ch).get(10, TimeUnit.SECONDS);
        ch.closeFuture().await(10, TimeUnit.SECONDS);
        return result;
    }

    /**
     * The testkit's {@link EchoHandlers#collector}: collects {@code expected} bytes, then closes the connection;
     * {@code sink} gets them as ASCII.
     */
    static ChannelHandler collector(int expected, CompletableFuture<String> sink) {
        CompletableFuture<byte[]> bytes = new CompletableFuture<>();
        bytes.whenComplete((b, failure) -> {
            if (failure != null) {
                sink.completeExceptionally(failure);
            } else {
                sink.complete(new String(b, StandardCharsets.US_ASCII));
            }
        });
        return EchoHandlers.collector(expected, bytes);
    }

    static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    @Override
    public void close() throws InterruptedException {
        if (server != null) {
            server.close().sync();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
    }
}
