package dev.tfo.spring.boot;

import dev.tfo.TfoChannels;
import dev.tfo.TfoCounters;
import dev.tfo.TfoOutcome;
import dev.tfo.TfoResult;
import dev.tfo.testkit.Capture;
import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.Packet;
import io.grpc.BindableService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.grpc.client.GrpcChannelFactory;
import org.springframework.grpc.server.lifecycle.GrpcServerLifecycle;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static dev.tfo.spring.boot.Witness.WAIT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two real Spring Boot 4.0 applications on Spring gRPC 1.0 (its Boot 4.0 auto-configuration) and unshaded grpc-netty
 * 1.85, the starter on their class path and no TFO code, in a fresh network namespace
 * ({@code net.ipv4.tcp_fastopen=3}): a gRPC server application (a {@code BindableService} bean; Spring gRPC binds it
 * on grpc-netty's epoll) and a client application (a channel named in its properties, made by Spring gRPC's
 * {@code GrpcChannelFactory}). A unary call on a new channel: the first connection asks for a cookie, from the second
 * on the HTTP/2 preface and the client's SETTINGS ride in the SYN and the server accepts them. Witnesses as in
 * tfo-frameworks-it's GrpcTfoTest: the client connection's {@link TfoResult} (told by the starter to the
 * application's {@link TfoProbe} bean), the TcpExt counter deltas (the server's {@code Passive} stands for its
 * accept: Spring gRPC exposes no accepted channel), the captured SYN. {@code tfo.grpc.enabled=false} gives none of
 * it. No protobuf: a hand-written {@link MethodDescriptor} with a byte-array marshaller.
 */
@FreshNetns
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GrpcAppTfoTest {
    private static final String SERVER_IP = "127.0.0.41";
    private static final String OFF_SERVER_IP = "127.0.0.42";
    private static final String PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
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
    static final MethodDescriptor<byte[], byte[]> ECHO = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName("tfo.Echo", "Echo"))
            .setRequestMarshaller(BYTES)
            .setResponseMarshaller(BYTES)
            .build();

    /** The gRPC server application: one service, found by Spring gRPC as a {@link BindableService} bean. */
    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class EchoServerApp {
        @Bean
        BindableService echo() {
            return () -> ServerServiceDefinition.builder("tfo.Echo")
                    .addMethod(ECHO, ServerCalls.asyncUnaryCall((request, reply) -> {
                        reply.onNext(request);
                        reply.onCompleted();
                    }))
                    .build();
        }
    }

    /** The client application: Spring gRPC's channel factory, and a probe told every TFO result. */
    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class ClientApp {
        @Bean
        TfoProbe tfoProbe() {
            return new TfoProbe();
        }
    }

    private static ConfigurableApplicationContext server;
    private static ConfigurableApplicationContext client;

    @BeforeAll
    static void startApplications() {
        assertFalse(isPresent("io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder"),
                "no grpc-netty-shaded: Spring gRPC would build on it");
        server = start(EchoServerApp.class, "spring.grpc.server.host=" + SERVER_IP, "spring.grpc.server.port=0");
        client = start(ClientApp.class, "spring.grpc.client.channels.echo.address=static://" + SERVER_IP + ":"
                + port(server));
    }

    @AfterAll
    static void stopApplications() {
        for (ConfigurableApplicationContext c : new ConfigurableApplicationContext[] {client, server}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    @Order(1)
    void aCallOnANewChannelCarriesTheHttp2PrefaceInTheSynFromTheSecondConnectionOn() throws Exception {
        TfoProbe probe = client.getBean(TfoProbe.class);
        MeterRegistry meters = client.getBean(MeterRegistry.class);
        double ackedBefore = count(meters, TfoOutcome.SYN_DATA_ACKED);
        double cookieBefore = count(meters, TfoOutcome.COOKIE_REQUESTED);
        TfoGrpcChannelCustomizer customizer = client.getBean(TfoGrpcChannelCustomizer.class);
        try (Capture capture = Capture.here("lo", "tcp port " + port(server))) {
            for (int i = 0; i < 3; i++) {
                String what = "Spring gRPC call #" + (i + 1) + " on a new channel";
                Call call = call(client, "echo", probe, what);
                Packet syn = Witness.syn(capture, Witness.localPort(call.channel));
                if (i == 0) {
                    Witness.assertCookieRequest(what, syn, call.result, null, call.delta);
                } else {
                    Witness.assertDataInSyn(what, syn, PREFACE, call.result, null, call.delta);
                }
                assertInstanceOf(EpollSocketChannel.class, call.channel, what + ": the starter's transport");
                assertSame(customizer.group(), call.channel.eventLoop().parent(),
                        what + ": on the starter's event loop group");
                int port = Witness.localPort(call.channel);
                capture.await(p -> p.srcPort() == port && (p.isFin() || p.isRst()), WAIT);
                assertEquals(1, capture.packets().stream().filter(p -> p.isSyn() && p.srcPort() == port).count(),
                        what + ": one SYN, no retransmission");
                System.out.printf("GRPC %s: %s, SYN carried %d bytes, counters %s%n", what, call.result.outcome(),
                        syn.payloadLength(), call.delta);
            }
        }
        assertEquals(2, count(meters, TfoOutcome.SYN_DATA_ACKED) - ackedBefore, "tfo.connections acked");
        assertEquals(1, count(meters, TfoOutcome.COOKIE_REQUESTED) - cookieBefore, "tfo.connections cookie");
    }

    @Test
    @Order(2)
    void theStartupLineNamesTheGrpcParts() {
        String clientLine = client.getBean(TfoStartupReport.class).line();
        assertTrue(clientLine.startsWith("TCP Fast Open for ") && clientLine.contains("gRPC channels on grpc-netty"
                + " (epoll, TfoSynDataPolicy.replaySafe())"), clientLine);
        String serverLine = server.getBean(TfoStartupReport.class).line();
        assertTrue(serverLine.contains("gRPC server on grpc-netty (TFO queue 256)"), serverLine);
    }

    /**
     * {@code tfo.grpc.enabled=false} on both applications: no gRPC bean of the starter; the client's SYNs carry no
     * cookie and no data; the server's listener issues no cookie to a TFO client (the README recipe).
     */
    @Test
    @Order(3)
    void tfoGrpcEnabledFalseGivesNoTfo() throws Exception {
        try (ConfigurableApplicationContext offServer = start(EchoServerApp.class, "tfo.grpc.enabled=false",
                "spring.grpc.server.host=" + OFF_SERVER_IP, "spring.grpc.server.port=0");
             ConfigurableApplicationContext offClient = start(ClientApp.class, "tfo.grpc.enabled=false",
                     "spring.grpc.client.channels.echo.address=static://" + SERVER_IP + ":" + port(server));
             Capture capture = Capture.here("lo", "tcp")) {
            for (ConfigurableApplicationContext c : List.of(offServer, offClient)) {
                assertTrue(c.getBeansOfType(TfoGrpcChannelCustomizer.class).isEmpty(), "no channel customizer");
                assertTrue(c.getBeansOfType(TfoGrpcServerCustomizer.class).isEmpty(), "no server customizer");
            }
            TfoProbe offProbe = offClient.getBean(TfoProbe.class);
            TfoCounters before = TfoCounters.snapshot();
            for (int i = 0; i < 2; i++) {
                ManagedChannel channel = offClient.getBean(GrpcChannelFactory.class).createChannel("echo");
                try {
                    byte[] request = ("off #" + i).getBytes(StandardCharsets.UTF_8);
                    assertArrayEquals(request, ClientCalls.blockingUnaryCall(channel, ECHO, deadline(), request));
                } finally {
                    channel.shutdown();
                    channel.awaitTermination(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                }
            }
            int onPort = port(server);
            List<Packet> toServer = capture.packets().stream().filter(p -> p.isSyn() && p.dstPort() == onPort).toList();
            assertEquals(2, toServer.size(), "two connections from the client application: " + toServer);
            for (Packet syn : toServer) {
                assertTrue(syn.fastOpenCookie().isEmpty(), "no cookie option: " + syn);
                assertEquals(0, syn.payloadLength(), "no data: " + syn);
            }
            assertTrue(offProbe.clients.isEmpty(), "no result was told: " + offProbe.clients);
            // A TFO client of the test's own (the README recipe) to the server without TFO, twice.
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
            try {
                for (int i = 0; i < 2; i++) {
                    AtomicReference<Channel> made = new AtomicReference<>();
                    ChannelFactory<EpollSocketChannel> channels = () -> {
                        EpollSocketChannel ch = new EpollSocketChannel();
                        made.set(ch);
                        return ch;
                    };
                    ManagedChannel channel = NettyChannelBuilder.forAddress(
                                    new InetSocketAddress(OFF_SERVER_IP, port(offServer)))
                            .usePlaintext().eventLoopGroup(group)
                            .channelFactory(TfoChannels.clientFactory(channels)).build();
                    try {
                        byte[] request = ("to the server without TFO #" + i).getBytes(StandardCharsets.UTF_8);
                        assertArrayEquals(request, ClientCalls.blockingUnaryCall(channel, ECHO, deadline(), request));
                        TfoResult result = TfoResult.of(made.get()).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                        assertEquals(TfoOutcome.COOKIE_REQUESTED, result.outcome(),
                                "connection " + (i + 1) + ": the listener issues no cookie: " + result);
                    } finally {
                        channel.shutdown();
                        channel.awaitTermination(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    }
                }
            } finally {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            }
            TfoCounters delta = TfoCounters.snapshot().minus(before);
            assertEquals(0, delta.active(), "no SYN data acked: " + delta);
            assertEquals(0, delta.passive(), "no TFO accept: " + delta);
        }
    }

    /** What one call on a new channel of the client application left behind. */
    private record Call(Channel channel, TfoResult result, TfoCounters delta) {
    }

    private static Call call(ConfigurableApplicationContext app, String target, TfoProbe probe, String what)
            throws Exception {
        probe.clients.clear();
        TfoCounters before = TfoCounters.snapshot();
        ManagedChannel channel = app.getBean(GrpcChannelFactory.class).createChannel(target);
        try {
            byte[] request = ("request of " + what).getBytes(StandardCharsets.UTF_8);
            byte[] reply = ClientCalls.blockingUnaryCall(channel, ECHO, deadline(), request);
            assertArrayEquals(request, reply, what + ": echoed");
            // The connection stays open until the channel shuts down: the verdict cannot race a close.
            TfoProbe.Seen seen = TfoProbe.next(probe.clients, what);
            TfoCounters delta = TfoCounters.snapshot().minus(before);
            assertNotNull(seen.channel(), what);
            return new Call(seen.channel(), seen.result(), delta);
        } finally {
            channel.shutdown();
            channel.awaitTermination(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private static CallOptions deadline() {
        return CallOptions.DEFAULT.withDeadlineAfter(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static ConfigurableApplicationContext start(Class<?> app, String... properties) {
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("spring.main.banner-mode", "off");
        for (String p : properties) {
            int eq = p.indexOf('=');
            props.put(p.substring(0, eq), p.substring(eq + 1));
        }
        return new SpringApplicationBuilder(app).web(WebApplicationType.NONE).properties(props).run();
    }

    private static int port(ConfigurableApplicationContext app) {
        return app.getBean(GrpcServerLifecycle.class).getPort();
    }

    private static double count(MeterRegistry meters, TfoOutcome outcome) {
        Counter c = meters.find("tfo.connections").tags("side", "client", "outcome", outcome.name()).counter();
        return c == null ? 0 : c.count();
    }

    private static boolean isPresent(String className) {
        try {
            Class.forName(className, false, GrpcAppTfoTest.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
