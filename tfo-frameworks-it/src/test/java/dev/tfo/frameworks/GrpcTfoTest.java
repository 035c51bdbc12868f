package dev.tfo.frameworks;

import dev.tfo.TfoCounters;
import dev.tfo.frameworks.GrpcEcho.Call;
import dev.tfo.frameworks.GrpcEcho.EchoServer;
import dev.tfo.TfoResult;
import dev.tfo.testkit.Capture;
import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.TestTransport;
import dev.tfo.testkit.Packet;
import io.grpc.MethodDescriptor;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * gRPC-java 1.85 ({@code grpc-netty}, not shaded): a unary call on a NEW channel each time, plaintext, against a
 * {@code NettyServerBuilder} server on epoll with {@code TCP_FASTOPEN} on its listener. The client is configured
 * by the README recipe "gRPC-java (grpc-netty)" ({@link FrameworkTfo#grpc}); the channels it wraps add only
 * the probe. No protobuf: a hand-written {@link MethodDescriptor} with a byte-array marshaller.
 *
 * <p>Witnesses: the client's {@code TfoResult} (the channel comes from our {@code channelFactory}), counters, the
 * captured SYN. The server's own outcome is out of reach: {@code NettyServerBuilder} exposes no accepted channel
 * ({@code EpollServerSocketChannel} is final, no connection hook); the counters' {@code Passive} stands for it.
 */
@FreshNetns
class GrpcTfoTest {
    static final MethodDescriptor<byte[], byte[]> ECHO = GrpcEcho.method("Echo", false);
    private static final long HOLD_MILLIS = 200;

    private static EventLoopGroup group;

    @BeforeAll
    static void startGroup() {
        group = TestTransport.EPOLL.newGroup(2);
    }

    /** Each test reports the declared skip on Netty 4.1 (a class-level abort would leave no trace in the report). */
    @org.junit.jupiter.api.BeforeEach
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
    void aUnaryCallOnANewChannelCarriesTheHttp2PrefaceInTheSyn() throws Exception {
        try (EchoServer server = new EchoServer("127.0.0.14", group, true, ECHO);
             Capture capture = Capture.here("lo", "tcp port " + server.port())) {
            for (int i = 0; i < 3; i++) {
                String what = "gRPC call #" + (i + 1);
                Call call = call(server.address(), capture, 0, what);
                if (i == 0) {
                    Witness.assertCookieRequest(what, call.syn(), call.client(), null, call.delta());
                    assertTrue(!call.trace().first(true, Http2Trace.SETTINGS).packet().has(Packet.SYN),
                            what + ": the preface follows the handshake\n" + call.trace().render());
                } else {
                    assertTrue(Witness.startsWith(call.syn().payload(), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
                            what + ": the HTTP/2 preface in the SYN: " + call.syn());
                    assertTrue(call.trace().first(true, Http2Trace.SETTINGS).packet().isSyn(),
                            what + ": the client's SETTINGS in the SYN too\n" + call.trace().render());
                    Witness.assertDataInSyn(what, call.syn(), call.probe().firstFlight(), call.client(), null,
                            call.delta());
                }
                assertTrue(call.trace().hasPreface(), what + ": the client's stream opens with the HTTP/2 preface");
                Packet serverSettings = call.trace().first(false, Http2Trace.SETTINGS).packet();
                Packet request = call.trace().first(true, Http2Trace.HEADERS).packet();
                assertTrue(request.timestamp().isAfter(serverSettings.timestamp()),
                        what + ": the request's HEADERS leave after the server's SETTINGS\n" + call.trace().render());
                report(what, call);
            }
        }
    }

    /**
     * Why a unary call on a new channel costs 3 round trips without TFO and 2 with it: gRPC-java does not send a
     * call before the server's SETTINGS arrived (the transport is "ready" only then). Shown causally: the probe
     * holds the client's first inbound bytes (the server's SETTINGS) for {@value #HOLD_MILLIS} ms, and the
     * request's HEADERS are written only after they are let through, with and without TFO.
     */
    @Test
    void theCallWaitsForTheServerSettings() throws Exception {
        try (EchoServer server = new EchoServer("127.0.0.24", group, true, ECHO);
             Capture capture = Capture.here("lo", "tcp port " + server.port())) {
            for (int i = 0; i < 2; i++) {
                String what = "gRPC call #" + (i + 1) + " with the server's SETTINGS held back " + HOLD_MILLIS + " ms";
                Call call = call(server.address(), capture, HOLD_MILLIS, what);
                if (i == 0) {
                    Witness.assertCookieRequest(what, call.syn(), call.client(), null, call.delta());
                } else {
                    Witness.assertDataInSyn(what, call.syn(), call.probe().firstFlight(), call.client(), null,
                            call.delta());
                }
                List<Http2Trace.Seen> read = Http2Trace.seen(call.probe().events(), false);
                assertEquals(Http2Trace.SETTINGS, read.get(0).type(), what + ": the first bytes read are the"
                        + " server's SETTINGS: " + read);
                Http2Trace.Seen headers = Http2Trace.seen(call.probe().events(), true).stream()
                        .filter(f -> f.type() == Http2Trace.HEADERS).findFirst().orElseThrow();
                double waitedMs = (headers.nanos() - call.probe().firstReadNanos) / 1e6;
                assertTrue(headers.nanos() >= call.probe().releasedNanos, what + ": HEADERS written "
                        + (call.probe().releasedNanos - headers.nanos()) / 1e3
                        + " us before the SETTINGS were let through");
                assertTrue(waitedMs >= HOLD_MILLIS, what + ": HEADERS " + waitedMs + " ms after the SETTINGS arrived");
                System.out.printf("GRPC %s: HEADERS written %.3f ms after the server's SETTINGS arrived"
                                + " (%.3f ms after they were let through); outcome %s%n", what, waitedMs,
                        (headers.nanos() - call.probe().releasedNanos) / 1e6, call.client().outcome());
            }
        }
    }

    private static void report(String what, Call call) {
        Packet response = call.trace().frames().stream().filter(f -> !f.fromClient() && f.is(Http2Trace.HEADERS))
                .findFirst().orElseThrow().packet();
        System.out.printf("TIMING %s (%s, %s): %s%n", what, call.client().outcome(),
                call.channel().getClass().getSimpleName(), call.probe().summary());
        System.out.printf("GRPC %s: SYN -> response HEADERS %.1f us on loopback; capture:%n%s", what,
                Http2Trace.micros(call.syn(), response), call.trace().render());
    }

    private static Call call(InetSocketAddress server, Capture capture, long holdMillis, String what)
            throws Exception {
        byte[] request = ("request of " + what).getBytes(StandardCharsets.UTF_8);
        TfoCounters before = TfoCounters.snapshot();
        FirstWriteProbe probe = new FirstWriteProbe(holdMillis);
        AtomicReference<Channel> channel = new AtomicReference<>();
        io.netty.channel.ChannelFactory<EpollSocketChannel> channels = () -> {
            EpollSocketChannel ch = new EpollSocketChannel();
            ch.pipeline().addFirst(FirstWriteProbe.NAME, probe); // the TFO handler goes before it
            channel.set(ch);
            return ch;
        };
        NettyChannelBuilder builder = NettyChannelBuilder.forAddress(server).usePlaintext().eventLoopGroup(group);
        return GrpcEcho.call(FrameworkTfo.grpc(builder, channels).build(), ECHO, request, channel, probe, capture,
                before, what);
    }
}
