package dev.tfo.bench;

/**
 * The framework requests measured under real round trips, each on a NEW connection, with and without TFO: the
 * client set up by the README recipe of the framework, the server with {@code TCP_FASTOPEN} on its listener.
 */
enum FrameworkCase {
    /** Reactor Netty {@code HttpClient} GET ({@code ConnectionProvider.newConnection()}): 2 RTT, 1 with TFO. */
    GET("Reactor Netty HttpClient GET", "get", 0, 2),
    /** The same over HTTPS (TLS 1.3, JDK provider, self-signed certificate): 3 RTT, 2 with TFO. */
    HTTPS("Reactor Netty HttpClient HTTPS GET (TLS 1.3)", "https", 1, 3),
    /**
     * A gRPC-java unary call on a new {@code ManagedChannel} (plaintext): 3 RTT, 2 with TFO (the call waits for
     * the server's SETTINGS, which a TFO server sends when the SYN arrives).
     */
    GRPC("gRPC-java unary call, new channel", "grpc", 2, 3),
    /**
     * The same call of an idempotent method ({@code MethodDescriptor.isIdempotent()}), with transport-tfo-grpc
     * ({@code TfoGrpc.configure}): the whole call rides in the SYN with the preface: 3 RTT, 1 with TFO.
     */
    GRPC_1RTT("gRPC-java idempotent unary call, new channel, transport-tfo-grpc", "grpc1rtt", 2, 3),
    /**
     * The non-idempotent call of {@link #GRPC} with transport-tfo-grpc: it must stay as with the plain recipe (only
     * the preface in the SYN): 3 RTT, 2 with TFO.
     */
    GRPC_1RTT_UNSAFE("gRPC-java non-idempotent unary call, new channel, transport-tfo-grpc", "grpc1rtt-unsafe", 2, 3),
    /**
     * Vert.x 5 {@code HttpClient} GET (keep-alive off: a new connection per request), to the same server as
     * {@link #GET}: 2 RTT, 1 with TFO.
     */
    VERTX_GET("Vert.x HttpClient GET", "vertx", 0, 2),
    /**
     * A Spring Boot 4.0 application's {@code WebClient} (Boot's {@code WebClient.Builder}, Reactor Netty) GET, a new
     * connection per request ({@code Connection: close}), to the same server as {@link #GET}: plain =
     * {@code tfo.enabled=false}, TFO = transport-tfo-spring-boot-starter's default ({@link BootClients}): 2 RTT, 1
     * with TFO.
     */
    BOOT_WEBCLIENT("Spring Boot WebClient GET (starter)", "boot", 0, 2);

    private final String title;
    private final String key;
    private final int portOffset;
    private final int plainRtts;

    FrameworkCase(String title, String key, int portOffset, int plainRtts) {
        this.title = title;
        this.key = key;
        this.portOffset = portOffset;
        this.plainRtts = plainRtts;
    }

    String title() {
        return title;
    }

    String key() {
        return key;
    }

    /** The server's port: the base port plus this. */
    int port(int base) {
        return base + portOffset;
    }

    /** Round trips a request takes without TFO. */
    int plainRtts() {
        return plainRtts;
    }

    /** Round trips it takes with TFO: one fewer, two fewer for the call that rides in the SYN whole. */
    int tfoRtts() {
        return this == GRPC_1RTT ? 1 : plainRtts - 1;
    }

    static FrameworkCase ofKey(String key) {
        for (FrameworkCase c : values()) {
            if (c.key.equals(key)) {
                return c;
            }
        }
        throw new IllegalArgumentException("no framework case " + key);
    }
}
