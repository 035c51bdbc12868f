package dev.tfo.grpc;

import dev.tfo.TfoChannels;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real grpc-netty client and server on loopback (NIO: no TFO here, only the order of frames), through
 * {@link SettingsGateProxy}, which lets the server's SETTINGS reach the client only once the client has sent a whole
 * call. These tests pin the grpc-netty behaviour the module relies on: without the module grpc sends no call before
 * the server's SETTINGS; with it a replay-safe call goes first; everything else waits as before. And what must
 * never change against any server: a server of one call per connection, a header list it refuses, a peer that is
 * no gRPC server, a refused port, a silent server.
 */
class GrpcOverLoopbackTest {
    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    static final MethodDescriptor<byte[], byte[]> GET = method("Get", true);
    static final MethodDescriptor<byte[], byte[]> PUT = method("Put", false);
    static final MethodDescriptor<byte[], byte[]> NAMED = method("Named", false);
    private static final long WAIT_MS = 10_000;

    private static EventLoopGroup group;

    static MethodDescriptor<byte[], byte[]> method(String name, boolean idempotent) {
        return MethodDescriptor.<byte[], byte[]>newBuilder().setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName("tfo.Echo", name))
                .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).setIdempotent(idempotent).build();
    }

    @BeforeAll
    static void startGroup() {
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stopGroup() {
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static Server server(UnaryOperator<NettyServerBuilder> configure, long delayMs) throws IOException {
        ServerServiceDefinition.Builder service = ServerServiceDefinition.builder("tfo.Echo");
        for (MethodDescriptor<byte[], byte[]> m : List.of(GET, PUT, NAMED)) {
            service.addMethod(m, ServerCalls.asyncUnaryCall((req, reply) -> group.schedule(() -> {
                reply.onNext(req);
                reply.onCompleted();
            }, delayMs, TimeUnit.MILLISECONDS)));
        }
        return configure.apply(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                        .channelType(NioServerSocketChannel.class).bossEventLoopGroup(group)
                        .workerEventLoopGroup(group).addService(service.build()))
                .build().start();
    }

    private static InetSocketAddress address(Server server) {
        return new InetSocketAddress("127.0.0.1", server.getPort());
    }

    /**
     * A call that waits for the server's SETTINGS, which the proxy holds back, as grpc-java does without the module:
     * its deadline passes, and only the preface reached the server on the channel's one connection.
     */
    private static void assertWaitsForTheServersSettings(SettingsGateProxy proxy, ManagedChannel channel,
                                                         MethodDescriptor<byte[], byte[]> method) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> call(channel, method, 1000, new byte[] {1}));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode(), e.toString());
        Wire wire = proxy.connections.get(0).wire();
        assertTrue(wire.preface && wire.count(Frames.HEADERS) == 0, "only the preface went: " + wire);
    }

    /** A new channel to {@code target}: the module's configuration, or today's recipe. */
    private static ManagedChannel channel(InetSocketAddress target, boolean module, String... named) {
        NettyChannelBuilder builder = NettyChannelBuilder.forAddress(target).usePlaintext().eventLoopGroup(group);
        if (module) {
            TfoGrpc.configure(builder, NioSocketChannel::new, named);
        } else {
            builder.channelFactory(TfoChannels.clientFactory(NioSocketChannel::new));
        }
        return builder.build();
    }

    private static byte[] call(ManagedChannel channel, MethodDescriptor<byte[], byte[]> method, long deadlineMs,
            byte[] request) {
        return ClientCalls.blockingUnaryCall(channel, method,
                CallOptions.DEFAULT.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS), request);
    }

    private static void shutdown(ManagedChannel channel) throws InterruptedException {
        channel.shutdownNow();
        assertTrue(channel.awaitTermination(WAIT_MS, TimeUnit.MILLISECONDS));
    }

    @Test
    void theGrpcOnTheClassPathIsSupported() {
        String version = NettyChannelBuilder.class.getPackage().getImplementationVersion();
        assertTrue(TfoGrpc.supported(version), "grpc-netty " + version + " is outside " + TfoGrpc.SUPPORTED
                + ": update SUPPORTED only once these tests pass with it");
        assertTrue(TfoGrpc.supported("1.85.0") && TfoGrpc.supported("1.85"));
        assertTrue(!TfoGrpc.supported("1.86.0") && !TfoGrpc.supported("1.8") && !TfoGrpc.supported(null));
    }

    @Test
    void withoutTheModuleGrpcSendsNoCallBeforeTheServersSettings() throws Exception {
        Server server = server(b -> b, 0);
        try (SettingsGateProxy proxy = new SettingsGateProxy(group, address(server), true)) {
            ManagedChannel channel = channel(proxy.address(), false);
            assertWaitsForTheServersSettings(proxy, channel, GET);
            shutdown(channel);
        } finally {
            server.shutdownNow().awaitTermination();
        }
    }

    @Test
    void aReplaySafeCallGoesBeforeTheServersSettingsAndGrpcsAckOfOursNever() throws Exception {
        Server server = server(b -> b, 0);
        try (SettingsGateProxy proxy = new SettingsGateProxy(group, address(server), true)) {
            for (int i = 0; i < 3; i++) {
                ManagedChannel channel = channel(proxy.address(), true);
                byte[] request = ("call " + i).getBytes(StandardCharsets.UTF_8);
                assertArrayEquals(request, call(channel, GET, WAIT_MS, request), "call " + i);
                shutdown(channel);
                Wire wire = proxy.connections.get(i).wire();
                assertEquals(1, wire.count(Frames.HEADERS), wire.toString());
                assertEquals(1, wire.acks(), "one SETTINGS ACK: the server's: " + wire);
            }
        } finally {
            server.shutdownNow().awaitTermination();
        }
    }

    @Test
    void aCallNotSafeToReplayWaitsForTheServersSettingsAsToday() throws Exception {
        Server server = server(b -> b, 0);
        try (SettingsGateProxy proxy = new SettingsGateProxy(group, address(server), true)) {
            ManagedChannel channel = channel(proxy.address(), true);
            assertWaitsForTheServersSettings(proxy, channel, PUT);
            shutdown(channel);
        } finally {
            server.shutdownNow().awaitTermination();
        }
    }

    @Test
    void aMethodTheApplicationNamesRides() throws Exception {
        Server server = server(b -> b, 0);
        try (SettingsGateProxy proxy = new SettingsGateProxy(group, address(server), true)) {
            ManagedChannel channel = channel(proxy.address(), true, "tfo.Echo/Named");
            assertArrayEquals(new byte[] {7}, call(channel, NAMED, WAIT_MS, new byte[] {7}));
            shutdown(channel);
        } finally {
            server.shutdownNow().awaitTermination();
        }
    }

    @Test
    void aServerOfOneCallPerConnectionServesTwoConcurrentCalls() throws Exception {
        Server server = server(b -> b.maxConcurrentCallsPerConnection(1), 50);
        try (SettingsGateProxy proxy = new SettingsGateProxy(group, address(server), true)) {
            for (int i = 0; i < 6; i++) {
                ManagedChannel channel = channel(proxy.address(), true);
                List<com.google.common.util.concurrent.ListenableFuture<byte[]>> calls = new ArrayList<>();
                for (int k = 0; k < 2; k++) {
                    calls.add(ClientCalls.futureUnaryCall(channel.newCall(GET, CallOptions.DEFAULT
                            .withDeadlineAfter(WAIT_MS, TimeUnit.MILLISECONDS)), new byte[] {(byte) k}));
                }
                for (int k = 0; k < 2; k++) {
                    assertArrayEquals(new byte[] {(byte) k}, calls.get(k).get(WAIT_MS, TimeUnit.MILLISECONDS),
                            "connection " + i + ", call " + k);
                }
                shutdown(channel);
            }
        } finally {
            server.shutdownNow().awaitTermination();
        }
    }

    @Test
    void aHeaderListTheServerRefusesFailsLocallyAsToday() throws Exception {
        Server server = server(b -> b.maxInboundMetadataSize(1024), 0);
        Metadata big = new Metadata();
        big.put(Metadata.Key.of("x-big", Metadata.ASCII_STRING_MARSHALLER), "x".repeat(2000));
        try (SettingsGateProxy proxy = new SettingsGateProxy(group, address(server), false)) {
            Status.Code[] codes = new Status.Code[2];
            for (int module = 0; module < 2; module++) {
                ManagedChannel channel = channel(proxy.address(), module == 1);
                io.grpc.Channel withBig = io.grpc.ClientInterceptors.intercept(channel,
                        MetadataUtils.newAttachHeadersInterceptor(big));
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ClientCalls
                        .blockingUnaryCall(withBig, GET, CallOptions.DEFAULT.withDeadlineAfter(WAIT_MS,
                                TimeUnit.MILLISECONDS), new byte[] {1}));
                codes[module] = e.getStatus().getCode();
                assertArrayEquals(new byte[] {2}, call(channel, GET, WAIT_MS, new byte[] {2}),
                        "the connection still serves calls");
                shutdown(channel);
            }
            assertEquals(codes[0], codes[1], "the same failure with and without the module");
        } finally {
            server.shutdownNow().awaitTermination();
        }
    }

    @Test
    void aPeerThatIsNoGrpcServerFailsTheCallAsToday() throws Exception {
        Channel http1 = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new Http1Refusal())
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        try {
            assertSameFailure((InetSocketAddress) http1.localAddress(), 2000);
        } finally {
            http1.close().sync();
        }
    }

    @Test
    void aRefusedPortFailsTheCallAsToday() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        assertSameFailure(new InetSocketAddress("127.0.0.1", port), 2000);
    }

    @Test
    void aSilentServerFailsTheCallAsToday() throws Exception {
        Channel silent = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new Silence())
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        try {
            assertSameFailure((InetSocketAddress) silent.localAddress(), 1000);
        } finally {
            silent.close().sync();
        }
    }

    /** An HTTP/1.1 server's answer to anything: 400, and a close. */
    @ChannelHandler.Sharable
    private static final class Http1Refusal extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            ctx.writeAndFlush(Unpooled.copiedBuffer("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                    + "Connection: close\r\n\r\n", StandardCharsets.US_ASCII)).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** A server that accepts, reads, and never says a word. */
    @ChannelHandler.Sharable
    private static final class Silence extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }

    /** A replay-safe call to {@code target} fails with the same status with the module as with today's recipe. */
    private static void assertSameFailure(InetSocketAddress target, long deadlineMs) throws Exception {
        Status.Code[] codes = new Status.Code[2];
        for (int module = 0; module < 2; module++) {
            ManagedChannel channel = channel(target, module == 1);
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> call(channel, GET, deadlineMs, new byte[] {1}));
            codes[module] = e.getStatus().getCode();
            channel.shutdownNow();
            assertTrue(channel.awaitTermination(WAIT_MS, TimeUnit.MILLISECONDS),
                    (module == 1 ? "with" : "without") + " the module: the channel terminates after " + e);
        }
        assertEquals(codes[0], codes[1], "the same failure with and without the module");
    }
}
