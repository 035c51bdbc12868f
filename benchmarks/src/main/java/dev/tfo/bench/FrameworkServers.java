package dev.tfo.bench;

import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.handler.ssl.SslProvider;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.server.HttpServer;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The servers of the framework benchmark, each with {@code TCP_FASTOPEN} (queue 4096) on its listener, on one
 * epoll event loop: a Reactor Netty {@code HttpServer} ({@code GET /hello}: a fixed-size body; Reactor Netty's
 * and Vert.x's GET) on the base port, the same over HTTPS (TLS 1.3, JDK provider, the given self-signed
 * certificate) on base + 1 (Reactor Netty's, Vert.x's and the Boot application's GET on the base port), and a gRPC-java {@code NettyServerBuilder} echo service ({@link #ECHO}: answers a
 * fixed-size reply) on base + 2.
 *
 * <p>As a main (in the server namespace): {@code FrameworkServers BASE_PORT CERT_PEM KEY_PEM REQUEST_BYTES
 * RESPONSE_BYTES LOOPBACK_WARMUP}; warms up on its loopback first (JIT), prints {@code listening BASE_PORT} and
 * runs until stdin closes.
 */
public final class FrameworkServers implements AutoCloseable {
    static final int TFO_QUEUE = 4096;
    static final String PATH = "/hello";

    /** A byte-array marshaller: gRPC without protobuf. */
    static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
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
    /** The unary method of the benchmark's gRPC service. */
    static final MethodDescriptor<byte[], byte[]> ECHO = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName("tfo.Bench", "Call"))
            .setRequestMarshaller(BYTES)
            .setResponseMarshaller(BYTES)
            .build();

    /** An idempotent unary method of the same service (transport-tfo-grpc lets its calls ride in the SYN). */
    static final MethodDescriptor<byte[], byte[]> IDEMPOTENT = ECHO.toBuilder()
            .setFullMethodName(MethodDescriptor.generateFullMethodName("tfo.Bench", "Get"))
            .setIdempotent(true)
            .build();

    private final EventLoopGroup group;
    private final DisposableServer http;
    private final DisposableServer https;
    private final Server grpc;
    private final InetAddress bind;

    private FrameworkServers(EventLoopGroup group, DisposableServer http, DisposableServer https, Server grpc,
                             InetAddress bind) {
        this.group = group;
        this.http = http;
        this.https = https;
        this.grpc = grpc;
        this.bind = bind;
    }

    /**
     * Starts the three servers.
     *
     * @param bind          the address to listen on
     * @param basePort      HTTP on this port, HTTPS on +1, gRPC on +2; 0: ephemeral ports
     * @param cert          the certificate (PEM)
     * @param key           its private key (PEM, PKCS#8)
     * @param responseBytes the size of every response body
     */
    static FrameworkServers start(InetAddress bind, int basePort, File cert, File key, int responseBytes)
            throws IOException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        byte[] body = Payloads.pattern(responseBytes, 'R');
        HttpServer base = HttpServer.create()
                .host(bind.getHostAddress())
                .runOn(group)
                .option(ChannelOption.TCP_FASTOPEN, TFO_QUEUE)
                .route(r -> r.get(PATH, (req, res) -> res.sendByteArray(Mono.just(body))));
        DisposableServer http = base.port(basePort == 0 ? 0 : FrameworkCase.GET.port(basePort))
                .bindNow(Duration.ofSeconds(30));
        Http11SslContextSpec tls = Http11SslContextSpec.forServer(cert, key)
                .configure(b -> b.sslProvider(SslProvider.JDK).protocols("TLSv1.3"));
        DisposableServer https = base.port(basePort == 0 ? 0 : FrameworkCase.HTTPS.port(basePort))
                .secure(spec -> spec.sslContext(tls))
                .bindNow(Duration.ofSeconds(30));
        Server grpc = NettyServerBuilder
                .forAddress(new InetSocketAddress(bind, basePort == 0 ? 0 : FrameworkCase.GRPC.port(basePort)))
                .channelType(EpollServerSocketChannel.class)
                .bossEventLoopGroup(group)
                .workerEventLoopGroup(group)
                .withOption(ChannelOption.TCP_FASTOPEN, TFO_QUEUE)
                .directExecutor()
                .addService(ServerServiceDefinition.builder("tfo.Bench")
                        .addMethod(ECHO, ServerCalls.asyncUnaryCall((request, reply) -> {
                            reply.onNext(body);
                            reply.onCompleted();
                        }))
                        .addMethod(IDEMPOTENT, ServerCalls.asyncUnaryCall((request, reply) -> {
                            reply.onNext(body);
                            reply.onCompleted();
                        }))
                        .build())
                .build()
                .start();
        return new FrameworkServers(group, http, https, grpc, bind);
    }

    /** The server of a case. */
    InetSocketAddress address(FrameworkCase c) {
        switch (c) {
            case GET:
            case VERTX_GET:
            case BOOT_WEBCLIENT:
                return new InetSocketAddress(bind, http.port());
            case HTTPS:
                return new InetSocketAddress(bind, https.port());
            default:
                return new InetSocketAddress(bind, grpc.getPort());
        }
    }

    @Override
    public void close() {
        http.disposeNow(Duration.ofSeconds(10));
        https.disposeNow(Duration.ofSeconds(10));
        grpc.shutdownNow();
        try {
            grpc.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /**
     * @param args base port, certificate, key, request bytes, response bytes, loopback warm-up rounds
     */
    public static void main(String[] args) throws Exception {
        System.out.println("PRIORITY " + Priority.raise(true));
        int basePort = Integer.parseInt(args[0]);
        File cert = new File(args[1]);
        File key = new File(args[2]);
        int req = Integer.parseInt(args[3]);
        int resp = Integer.parseInt(args[4]);
        int warmup = Integer.parseInt(args[5]);
        FrameworkClient.loopbackWarmup(warmup, cert, key, req, resp);
        try (FrameworkServers servers = start(InetAddress.getByName("0.0.0.0"), basePort, cert, key, resp)) {
            System.out.println("listening " + basePort);
            System.out.flush();
            while (System.in.read() >= 0) {
                // runs until stdin closes (the orchestrator ends) or the process is killed
            }
        }
    }
}
