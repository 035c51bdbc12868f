package dev.tfo.frameworks;

import dev.tfo.TfoCounters;
import dev.tfo.frameworks.GrpcEcho.Call;
import dev.tfo.frameworks.GrpcEcho.EchoServer;
import dev.tfo.TfoOutcome;
import dev.tfo.TfoResult;
import dev.tfo.testkit.Capture;
import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.Host;
import dev.tfo.testkit.Packet;
import dev.tfo.testkit.Rule;
import dev.tfo.testkit.TestTransport;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static dev.tfo.frameworks.Witness.WAIT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * gRPC-java 1.85 with transport-tfo-grpc (the recipe "gRPC-java in one round trip (transport-tfo-grpc)",
 * {@link FrameworkTfo#grpcOneRoundTrip}): a unary call of an idempotent method on a NEW channel each time rides in the
 * SYN, whole, with the HTTP/2 preface, against a {@code NettyServerBuilder} server with {@code TCP_FASTOPEN} on its
 * listener, in a fresh network namespace. Witnesses: the captured SYN (the call's HEADERS and its DATA with
 * END_STREAM in it, and no SETTINGS ACK), the client's {@code TfoResult} from {@code tcp_info}, the TcpExt counters.
 * Causality: with every packet the client sends after its SYN dropped (iptables on the server's port), the call is
 * still answered; the plain recipe's call is not.
 */
@FreshNetns
class GrpcOneRoundTripTest {
    static final MethodDescriptor<byte[], byte[]> GET = GrpcEcho.method("Get", true);
    static final MethodDescriptor<byte[], byte[]> PUT = GrpcEcho.method("Put", false);

    private static EventLoopGroup group;

    @BeforeAll
    static void startGroup() {
        group = TestTransport.EPOLL.newGroup(2);
    }

    @BeforeEach
    void grpc185NeedsNetty42() {
        FrameworkLine.requireNetty42("gRPC-java 1.85", "gRPC-java on Netty 4.1 is 1.82 and older");
    }

    @AfterAll
    static void stopGroup() {
        if (group != null) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void aReplaySafeCallRidesInTheSynWhole() throws Exception {
        try (EchoServer server = new EchoServer("127.0.0.41", group, true, GET, PUT);
             Capture capture = Capture.here("lo", "tcp port " + server.port())) {
            for (int i = 0; i < 4; i++) {
                String what = "idempotent gRPC call #" + (i + 1);
                Call call = call(server.address(), capture, GET, true, what);
                if (i == 0) {
                    Witness.assertCookieRequest(what, call.syn(), call.client(), null, call.delta());
                    continue;
                }
                Http2Trace.Frame headers = call.trace().first(true, Http2Trace.HEADERS);
                assertTrue(headers.packet().isSyn(),
                        what + ": the call's HEADERS in the SYN\n" + call.trace().render());
                // grpc ends the stream on the message's DATA frame, or on an empty DATA frame right after it.
                List<Http2Trace.Frame> data = call.trace().frames().stream()
                        .filter(f -> f.fromClient() && f.is(Http2Trace.DATA)).toList();
                assertTrue(!data.isEmpty() && data.stream().allMatch(f -> f.packet().isSyn())
                        && data.stream().anyMatch(f -> (f.flags() & 1) != 0), what + ": its DATA with END_STREAM in"
                        + " the SYN\n" + call.trace().render());
                assertTrue(call.trace().frames().stream().noneMatch(f -> f.fromClient() && f.packet().isSyn()
                        && f.is(Http2Trace.SETTINGS) && (f.flags() & Http2Trace.FLAG_ACK) != 0),
                        what + ": no SETTINGS ACK in the SYN (the server sent no SETTINGS yet)");
                assertEquals(1, call.trace().frames().stream().filter(f -> f.fromClient() && f.is(Http2Trace.SETTINGS)
                        && (f.flags() & Http2Trace.FLAG_ACK) != 0).count(),
                        what + ": one SETTINGS ACK in all, the server's\n" + call.trace().render());
                Witness.assertDataInSyn(what, call.syn(), call.probe().firstFlight(), call.client(), null,
                        call.delta());
                System.out.printf("GRPC1RTT %s: SYN of %d bytes (%s); capture:%n%s", what,
                        call.syn().payloadLength(), call.client().outcome(), call.trace().render());
            }
        }
    }

    @Test
    void aCallNotSafeToReplayWaitsForTheServersSettingsAsWithThePlainRecipe() throws Exception {
        try (EchoServer server = new EchoServer("127.0.0.42", group, true, GET, PUT);
             Capture capture = Capture.here("lo", "tcp port " + server.port())) {
            for (int i = 0; i < 2; i++) {
                String what = "non-idempotent gRPC call #" + (i + 1);
                Call call = call(server.address(), capture, PUT, true, what);
                Packet serverSettings = call.trace().first(false, Http2Trace.SETTINGS).packet();
                Packet request = call.trace().first(true, Http2Trace.HEADERS).packet();
                assertTrue(request.timestamp().isAfter(serverSettings.timestamp()),
                        what + ": HEADERS after the server's SETTINGS\n" + call.trace().render());
                if (i == 1) {
                    assertTrue(Witness.startsWith(call.syn().payload(), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
                            what + ": the preface in the SYN: " + call.syn());
                    assertEquals(TfoOutcome.SYN_DATA_ACKED, call.client().outcome(), call.client().toString());
                }
            }
        }
    }

    /**
     * The causal proof of one round trip: once the cookie is cached, every packet the client sends after its SYN
     * is dropped at the server's port, so the server can only answer what the SYN carried. With the module the call
     * is answered; with the plain recipe (only the preface in the SYN) it is not.
     */
    @Test
    void answeredFromTheSynAloneWhenEverythingElseTheClientSendsIsDropped() throws Exception {
        try (EchoServer server = new EchoServer("127.0.0.43", group, true, GET, PUT);
             Capture capture = Capture.here("lo", "tcp port " + server.port())) {
            call(server.address(), capture, GET, true, "cookie request");
            try (Rule drop = Host.current().iptables("INPUT", "-p", "tcp", "--dport", String.valueOf(server.port()),
                    "!", "--syn", "-j", "DROP")) {
                for (int i = 0; i < 5; i++) {
                    byte[] request = ("after the SYN, nothing #" + i).getBytes(StandardCharsets.UTF_8);
                    ManagedChannel channel = channel(server.address(), true, null);
                    try {
                        assertArrayEquals(request, ClientCalls.blockingUnaryCall(channel, GET,
                                CallOptions.DEFAULT.withDeadlineAfter(WAIT.toMillis(), TimeUnit.MILLISECONDS),
                                request), "call " + i + " answered from its SYN");
                    } finally {
                        channel.shutdownNow();
                        channel.awaitTermination(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    }
                }
                long dropped = drop.packets();
                assertTrue(dropped >= 5, "the client's packets after the SYN were dropped: " + dropped);
                ManagedChannel plain = channel(server.address(), false, null);
                try {
                    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                            () -> ClientCalls.blockingUnaryCall(plain, GET,
                                    CallOptions.DEFAULT.withDeadlineAfter(2, TimeUnit.SECONDS), new byte[] {1}));
                    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode(),
                            "the plain recipe's call needs what follows the SYN: " + e);
                } finally {
                    plain.shutdownNow();
                    plain.awaitTermination(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                }
                System.out.printf("GRPC1RTT causality: 5 of 5 calls answered with %d client packets after the SYN"
                        + " dropped; the plain recipe's call timed out%n", dropped);
            }
        }
    }

    @Test
    void aServerWithoutTfoAnswersAfterTheHandshake() throws Exception {
        try (EchoServer server = new EchoServer("127.0.0.44", group, false, GET, PUT);
             Capture capture = Capture.here("lo", "tcp port " + server.port())) {
            for (int i = 0; i < 2; i++) {
                String what = "call #" + (i + 1) + " to a server without TFO";
                Call call = call(server.address(), capture, GET, true, what);
                assertEquals(TfoOutcome.COOKIE_REQUESTED, call.client().outcome(), what + ": " + call.client());
                assertEquals(0, call.syn().payloadLength(), what + ": " + call.syn());
                assertTrue(call.trace().hasPreface(), what);
            }
        }
    }

    @Test
    void aRefusedPortWithACookieFailsTheCallAsThePlainRecipeDoes() throws Exception {
        InetSocketAddress address;
        try (EchoServer server = new EchoServer("127.0.0.45", group, true, GET, PUT);
             Capture capture = Capture.here("lo", "tcp port " + server.port())) {
            call(server.address(), capture, GET, true, "cookie request");
            address = server.address();
        }
        Status.Code[] codes = new Status.Code[2];
        for (int module = 0; module < 2; module++) {
            ManagedChannel channel = channel(address, module == 1, null);
            long start = System.nanoTime();
            try {
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                        () -> ClientCalls.blockingUnaryCall(channel, GET, CallOptions.DEFAULT
                                .withDeadlineAfter(WAIT.toMillis(), TimeUnit.MILLISECONDS), new byte[] {1}));
                codes[module] = e.getStatus().getCode();
                assertTrue(System.nanoTime() - start < WAIT.toNanos() / 2, "refused at once: " + e);
            } finally {
                channel.shutdownNow();
                assertTrue(channel.awaitTermination(WAIT.toMillis(), TimeUnit.MILLISECONDS));
            }
        }
        assertEquals(Status.Code.UNAVAILABLE, codes[1]);
        assertEquals(codes[0], codes[1], "the same failure with and without the module");
    }

    @Test
    void aSilentServerFailsTheCallAsThePlainRecipeDoes() throws Exception {
        try (EchoServer server = new EchoServer("127.0.0.46", group, true, GET, PUT);
             Capture capture = Capture.here("lo", "tcp port " + server.port())) {
            call(server.address(), capture, GET, true, "cookie request");
            try (Rule drop = Host.current().iptables("INPUT", "-p", "tcp", "--dport", String.valueOf(server.port()),
                    "-j", "DROP")) {
                Status.Code[] codes = new Status.Code[2];
                boolean[] terminated = new boolean[2];
                for (int module = 0; module < 2; module++) {
                    ManagedChannel channel = channel(server.address(), module == 1, null);
                    try {
                        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                                () -> ClientCalls.blockingUnaryCall(channel, GET, CallOptions.DEFAULT
                                        .withDeadlineAfter(1500, TimeUnit.MILLISECONDS), new byte[] {1}));
                        codes[module] = e.getStatus().getCode();
                    } finally {
                        channel.shutdownNow();
                        // The plain recipe's channel outlives shutdownNow() here (its handshake is not over): the
                        // module's must do no worse.
                        terminated[module] = channel.awaitTermination(5, TimeUnit.SECONDS);
                    }
                }
                assertTrue(drop.packets() > 0, "the server heard nothing");
                assertNotEquals(Status.Code.OK, codes[1]);
                assertEquals(codes[0], codes[1], "the same failure with and without the module");
                assertTrue(terminated[1] || !terminated[0], "the module's channel terminates if the plain one does");
                System.out.printf("GRPC1RTT silent server: %s with and without the module; terminated within 5 s"
                        + " of shutdownNow(): plain %s, module %s%n", codes[1], terminated[0], terminated[1]);
            }
        }
    }

    /** A new channel: the module's recipe, or the plain one; {@code channel} receives its Netty channel. */
    private static ManagedChannel channel(InetSocketAddress server, boolean module,
            io.netty.channel.ChannelFactory<EpollSocketChannel> channels) {
        io.netty.channel.ChannelFactory<EpollSocketChannel> c = channels != null ? channels : EpollSocketChannel::new;
        NettyChannelBuilder builder = NettyChannelBuilder.forAddress(server).usePlaintext().eventLoopGroup(group);
        return (module ? FrameworkTfo.grpcOneRoundTrip(builder, c) : FrameworkTfo.grpc(builder, c)).build();
    }

    private static Call call(InetSocketAddress server, Capture capture, MethodDescriptor<byte[], byte[]> method,
            boolean module, String what) throws Exception {
        byte[] request = ("request of " + what).getBytes(StandardCharsets.UTF_8);
        TfoCounters before = TfoCounters.snapshot();
        FirstWriteProbe probe = new FirstWriteProbe();
        AtomicReference<Channel> channel = new AtomicReference<>();
        io.netty.channel.ChannelFactory<EpollSocketChannel> channels = () -> {
            EpollSocketChannel ch = new EpollSocketChannel();
            // Once every handler of the factories is in (at registration), the probe goes right after the TFO one.
            ch.pipeline().addFirst(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRegistered(ChannelHandlerContext ctx) {
                    ctx.pipeline().remove(this);
                    FirstWriteProbe.install(ctx.pipeline(), probe);
                    ctx.fireChannelRegistered();
                }
            });
            channel.set(ch);
            return ch;
        };
        return GrpcEcho.call(channel(server, module, channels), method, request, channel, probe, capture, before, what);
    }
}
