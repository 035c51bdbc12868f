package dev.tfo.frameworks;

import dev.tfo.TfoCounters;
import dev.tfo.TfoResult;
import dev.tfo.testkit.Capture;
import dev.tfo.testkit.Packet;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static dev.tfo.frameworks.Witness.WAIT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What the gRPC tests of this module share: unary methods of byte arrays (no protobuf), an echo server on epoll,
 * and one call on a new channel measured from the client's verdict to the capture.
 */
final class GrpcEcho {
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

    private GrpcEcho() {
    }

    /** A unary method {@code tfo.Echo/<name>} of byte arrays, idempotent or not. */
    static MethodDescriptor<byte[], byte[]> method(String name, boolean idempotent) {
        return MethodDescriptor.<byte[], byte[]>newBuilder().setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName("tfo.Echo", name))
                .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).setIdempotent(idempotent).build();
    }

    /** One unary call on a new channel and what it left behind. */
    record Call(Channel channel, FirstWriteProbe probe, TfoResult client, TfoCounters delta, Packet syn,
            Http2Trace trace) {
    }

    /**
     * Calls {@code method} with {@code request} on {@code managed} (a new channel, whose Netty channel lands in
     * {@code channel}), checks the echo, reads the client's verdict and the counters since {@code before} while the
     * connection is open, shuts the channel down, and takes its SYN and HTTP/2 frames from the capture once its FIN
     * (or RST) is there. One SYN: no retransmission.
     */
    static Call call(ManagedChannel managed, MethodDescriptor<byte[], byte[]> method, byte[] request,
            AtomicReference<Channel> channel, FirstWriteProbe probe, Capture capture, TfoCounters before, String what)
            throws Exception {
        TfoResult result;
        TfoCounters delta;
        try {
            byte[] reply = ClientCalls.blockingUnaryCall(managed, method,
                    CallOptions.DEFAULT.withDeadlineAfter(WAIT.toMillis(), TimeUnit.MILLISECONDS), request);
            assertArrayEquals(request, reply, what + ": echoed");
            // The connection stays open until the channel shuts down: the verdict cannot race a close.
            result = TfoResult.of(channel.get()).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            delta = TfoCounters.snapshot().minus(before);
        } finally {
            managed.shutdown();
            managed.awaitTermination(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }
        int port = Witness.localPort(channel.get());
        Packet syn = Witness.syn(capture, port);
        // The whole exchange is in the capture once the client's FIN (or RST) is.
        capture.await(p -> p.srcPort() == port && (p.isFin() || p.isRst()), WAIT);
        assertEquals(1, Witness.syns(capture.packets(), port).size(), what + ": one SYN, no retransmission");
        return new Call(channel.get(), probe, result, delta, syn, new Http2Trace(capture.packets(), port));
    }

    /** A gRPC server on epoll echoing {@code methods}, {@code TCP_FASTOPEN} on its listener or not, on {@code ip}. */
    static final class EchoServer implements AutoCloseable {
        private final Server server;
        private final String ip;

        @SafeVarargs
        EchoServer(String ip, EventLoopGroup group, boolean tfo, MethodDescriptor<byte[], byte[]>... methods)
                throws IOException {
            this.ip = ip;
            ServerServiceDefinition.Builder service = ServerServiceDefinition.builder("tfo.Echo");
            for (MethodDescriptor<byte[], byte[]> m : methods) {
                service.addMethod(m, ServerCalls.asyncUnaryCall((req, reply) -> {
                    reply.onNext(req);
                    reply.onCompleted();
                }));
            }
            NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress(ip, 0))
                    .channelType(EpollServerSocketChannel.class).bossEventLoopGroup(group).workerEventLoopGroup(group)
                    .addService(service.build());
            if (tfo) {
                b.withOption(ChannelOption.TCP_FASTOPEN, 64);
            }
            this.server = b.build().start();
        }

        int port() {
            return server.getPort();
        }

        InetSocketAddress address() {
            return new InetSocketAddress(ip, port());
        }

        @Override
        public void close() throws InterruptedException {
            server.shutdownNow();
            server.awaitTermination(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }
    }
}
