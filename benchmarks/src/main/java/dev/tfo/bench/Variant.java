package dev.tfo.bench;

/**
 * The ways a plain Netty client opens a connection and sends its request, measured side by side: plain, and
 * for each of the two TFO client patterns (a first flight written before the connect; connect, then write)
 * the hand-written Netty code and the library.
 */
public enum Variant {
    /** Plain Netty: {@code connect()}, then {@code writeAndFlush(request)} once connected (2 RTT). */
    PLAIN("plain Netty", "plain"),
    /**
     * Hand-written Netty TFO, first flight: Netty's {@code TCP_FASTOPEN_CONNECT}, {@code write(request)} in
     * {@code initChannel}, {@code connect()}, {@code flush()} when the connect future succeeds (1 RTT with a
     * cookie).
     */
    HAND_TFO("hand-written Netty TFO (first flight)", "hand"),
    /** {@code TfoBootstraps.connect(bootstrap, server, request)}, channels from {@code TfoChannels.clientFactory}. */
    TFO_BOOTSTRAPS("TfoBootstraps.connect (first flight)", "helper"),
    /**
     * Hand-written connect-then-write TFO: the kernel's {@code TCP_FASTOPEN_CONNECT} set raw
     * ({@code IntegerUnixChannelOption("TCP_FASTOPEN_CONNECT", 6, 30)} = 1), {@code connect()}, then
     * {@code writeAndFlush(request)} once connected: no result, no handshake timeout, no replay policy.
     */
    HAND_CTW("hand-written kernel TCP_FASTOPEN_CONNECT (connect, then write)", "hand-ctw"),
    /** Channels from {@code TfoChannels.clientFactory}, {@code connect()}, then {@code writeAndFlush(request)} once connected. */
    TFO_CTW("TfoChannels.clientFactory (connect, then write)", "helper-ctw");

    private final String title;
    private final String key;

    Variant(String title, String key) {
        this.title = title;
        this.key = key;
    }

    /** Human name, for tables and charts. */
    public String title() {
        return title;
    }

    /** Short key, for the sample lines. */
    public String key() {
        return key;
    }

    /** Whether this variant sends the request in the SYN (given a cookie). */
    public boolean tfo() {
        return this != PLAIN;
    }

    /** Whether the library makes this variant's connections ({@code TfoResult} available). */
    public boolean library() {
        return this == TFO_BOOTSTRAPS || this == TFO_CTW;
    }

    /** Whether the client connects first and writes once connected (rather than writing a first flight first). */
    public boolean connectThenWrite() {
        return this == PLAIN || this == HAND_CTW || this == TFO_CTW;
    }

    /** The hand-written code a library variant is compared with; {@code null} for the others. */
    public Variant handWritten() {
        switch (this) {
            case TFO_BOOTSTRAPS:
                return HAND_TFO;
            case TFO_CTW:
                return HAND_CTW;
            default:
                return null;
        }
    }

    static Variant ofKey(String key) {
        for (Variant v : values()) {
            if (v.key.equals(key)) {
                return v;
            }
        }
        throw new IllegalArgumentException("no variant " + key);
    }
}
