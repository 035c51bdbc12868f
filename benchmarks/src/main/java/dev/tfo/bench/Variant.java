package dev.tfo.bench;

/** The three ways a client opens a connection and sends its request, measured side by side. */
public enum Variant {
    /** Plain Netty: {@code connect()}, then {@code writeAndFlush(request)} once connected (2 RTT). */
    PLAIN("plain Netty", "plain"),
    /**
     * Hand-written Netty TFO: {@code TCP_FASTOPEN_CONNECT}, {@code write(request)} in {@code initChannel},
     * {@code connect()}, {@code flush()} when the connect future succeeds (1 RTT with a cookie).
     */
    HAND_TFO("hand-written Netty TFO", "hand"),
    /** {@code TfoBootstraps.client} + {@code TfoBootstraps.connect(bootstrap, server, request)}. */
    TFO_BOOTSTRAPS("TfoBootstraps", "helper");

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

    static Variant ofKey(String key) {
        for (Variant v : values()) {
            if (v.key.equals(key)) {
                return v;
            }
        }
        throw new IllegalArgumentException("no variant " + key);
    }
}
