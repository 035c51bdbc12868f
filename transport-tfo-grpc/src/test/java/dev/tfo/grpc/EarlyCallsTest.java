package dev.tfo.grpc;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static dev.tfo.grpc.GrpcOverLoopbackTest.GET;
import static dev.tfo.grpc.GrpcOverLoopbackTest.NAMED;
import static dev.tfo.grpc.GrpcOverLoopbackTest.PUT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The interceptor with real grpc-java calls (a plain grpc-netty channel and server on loopback): which calls are in
 * flight from {@code newCall} on (a new call starts the connection, whose preface may come before {@code start}), and
 * whether all of them may ride.
 */
class EarlyCallsTest {
    private static EventLoopGroup group;
    private static Server server;
    private static ManagedChannel managed;

    @BeforeAll
    static void start() throws Exception {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        ServerServiceDefinition.Builder service = ServerServiceDefinition.builder("tfo.Echo");
        for (MethodDescriptor<byte[], byte[]> m : List.of(GET, PUT, NAMED)) {
            service.addMethod(m, ServerCalls.asyncUnaryCall((req, reply) -> {
                reply.onNext(req);
                reply.onCompleted();
            }));
        }
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .channelType(NioServerSocketChannel.class).bossEventLoopGroup(group).workerEventLoopGroup(group)
                .addService(service.build()).build().start();
        managed = NettyChannelBuilder.forAddress(new InetSocketAddress("127.0.0.1", server.getPort())).usePlaintext()
                .eventLoopGroup(group).channelType(NioSocketChannel.class).build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        managed.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void aCallCountsFromNewCallUntilItIsCancelledUnstarted() {
        EarlyCalls calls = new EarlyCalls(Set.of());
        Channel channel = ClientInterceptors.intercept(managed, calls);
        assertFalse(calls.mayRideEarly(), "no call in flight: nothing rides");
        ClientCall<byte[], byte[]> call = channel.newCall(GET, CallOptions.DEFAULT);
        assertTrue(calls.mayRideEarly(), "an idempotent call, counted before start()");
        call.cancel("never started", null);
        assertFalse(calls.mayRideEarly(), "cancelled before start(): no longer in flight");
    }

    @Test
    void oneCallThatMayNotRideKeepsEveryCallWaiting() {
        EarlyCalls calls = new EarlyCalls(Set.of());
        Channel channel = ClientInterceptors.intercept(managed, calls);
        ClientCall<byte[], byte[]> get = channel.newCall(GET, CallOptions.DEFAULT);
        ClientCall<byte[], byte[]> put = channel.newCall(PUT, CallOptions.DEFAULT);
        assertFalse(calls.mayRideEarly(), "a non-idempotent call in flight");
        put.cancel("done", null);
        assertTrue(calls.mayRideEarly());
        get.cancel("done", null);
    }

    @Test
    void aNamedMethodMayRide() {
        EarlyCalls calls = new EarlyCalls(Set.of("tfo.Echo/Named"));
        ClientCall<byte[], byte[]> named = ClientInterceptors.intercept(managed, calls)
                .newCall(NAMED, CallOptions.DEFAULT);
        assertTrue(calls.mayRideEarly());
        named.cancel("done", null);
    }

    @Test
    void largeMetadataKeepsACallFromRidingAndACompletedCallLeaves() {
        EarlyCalls calls = new EarlyCalls(Set.of());
        Metadata big = new Metadata();
        big.put(Metadata.Key.of("x-big", Metadata.ASCII_STRING_MARSHALLER), "x".repeat(700));
        Channel channel = ClientInterceptors.intercept(ClientInterceptors.intercept(managed, calls),
                MetadataUtils.newAttachHeadersInterceptor(big));
        assertArrayEquals(new byte[] {1}, ClientCalls.blockingUnaryCall(channel, GET,
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[] {1}));
        assertFalse(calls.mayRideEarly(), "the call is over: none in flight");
        assertFalse(calls.rides(new DefaultHttp2Headers().path("/tfo.Echo/Put")), "never seen riding");
        assertTrue(calls.rides(new DefaultHttp2Headers().path("/tfo.Echo/Get")), "the method rides when small");
        assertFalse(calls.rides(new DefaultHttp2Headers().path("/tfo.Echo/Get").set("x-big", "x".repeat(1000))),
                "a header list over " + EarlyCalls.MAX_HEADER_LIST + " bytes does not");
    }

    @Test
    void aCallWithLargeMetadataDoesNotRideWhileInFlight() {
        EarlyCalls calls = new EarlyCalls(Set.of());
        Channel channel = ClientInterceptors.intercept(managed, calls);
        ClientCall<byte[], byte[]> call = channel.newCall(GET, CallOptions.DEFAULT);
        Metadata big = new Metadata();
        big.put(Metadata.Key.of("x-big", Metadata.ASCII_STRING_MARSHALLER), "x".repeat(700));
        call.start(new ClientCall.Listener<>() {
        }, big);
        assertFalse(calls.mayRideEarly(), "its headers are too large to ride: every call waits");
        call.cancel("done", null);
    }
}
