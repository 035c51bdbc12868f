package dev.tfo;

import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * How a listener from {@link TfoChannels#serverFactory TfoChannels.serverFactory} is set up: the TFO queue
 * length, the keys (optional; default: the host's {@code net.ipv4.tcp_fastopen_key}, random
 * per boot and per network namespace), cookie-less mode and a result listener. Immutable.
 *
 * <pre>{@code
 * TfoKeyRing keys = TfoKeyRing.watch(Path.of("/run/secrets/tfo/key"));
 * TfoServerOptions options = TfoServerOptions.builder()
 *         .queueLength(256)
 *         .keys(keys)
 *         .build();
 * serverBootstrap.channelFactory(TfoChannels.serverFactory(EpollServerSocketChannel::new, options));
 * }</pre>
 */
public final class TfoServerOptions {
    /** The default TFO queue length. */
    public static final int DEFAULT_QUEUE_LENGTH = 256;

    private final int queueLength;
    private final TfoKeyRing keys;
    private final boolean noCookie;
    private final TfoResultListener resultListener;

    private static final TfoServerOptions DEFAULTS = new Builder().build();

    private TfoServerOptions(Builder b) {
        this.resultListener = b.resultListener;
        this.queueLength = b.queueLength;
        this.keys = b.keys;
        this.noCookie = b.noCookie;
    }

    /**
     * The defaults: queue length {@value #DEFAULT_QUEUE_LENGTH}, the host's key, cookies required, no result
     * listener.
     *
     * <pre>{@code
     * TfoChannels.serverFactory(EpollServerSocketChannel::new, TfoServerOptions.defaults())
     * }</pre>
     *
     * @return the default options
     */
    public static TfoServerOptions defaults() {
        return DEFAULTS;
    }

    /**
     * A builder with the defaults: queue length {@value #DEFAULT_QUEUE_LENGTH}, the host's key, cookies
     * required.
     *
     * <p>{@code TfoServerOptions o = TfoServerOptions.builder().queueLength(64).build();}
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    int queueLength() {
        return queueLength;
    }

    Optional<TfoKeyRing> keys() {
        return Optional.ofNullable(keys);
    }

    boolean noCookie() {
        return noCookie;
    }

    Optional<TfoResultListener> resultListener() {
        return Optional.ofNullable(resultListener);
    }

    @Override
    public String toString() {
        return "TfoServerOptions(queueLength=" + queueLength + ", keys=" + (keys == null ? "host" : keys)
                + ", noCookie=" + noCookie + (resultListener == null ? "" : ", resultListener=" + resultListener) + ')';
    }

    /** Builds {@link TfoServerOptions}. Not thread-safe. */
    public static final class Builder {
        private int queueLength = DEFAULT_QUEUE_LENGTH;
        private TfoKeyRing keys;
        private boolean noCookie;
        private TfoResultListener resultListener;

        private Builder() {
        }

        /**
         * Who is told the {@link TfoResult} of every accepted connection (metrics, logs), on the listener's
         * event loop as the connection is accepted.
         *
         * <pre>{@code
         * builder.resultListener((child, result) -> accepted.increment(result.outcome()))
         * }</pre>
         *
         * @param resultListener the listener
         * @return this builder
         */
        public Builder resultListener(TfoResultListener resultListener) {
            this.resultListener = requireNonNull(resultListener, "resultListener");
            return this;
        }

        /**
         * The TFO queue length ({@code TCP_FASTOPEN}); the kernel caps it at {@code net.core.somaxconn}. When
         * it is full, SYN data is not accepted (the client resends it after the handshake).
         *
         * <p>{@code builder.queueLength(1024)}
         *
         * @param queueLength &gt; 0
         * @return this builder
         * @throws IllegalArgumentException when {@code queueLength <= 0}
         */
        public Builder queueLength(int queueLength) {
            if (queueLength <= 0) {
                throw new IllegalArgumentException("queueLength must be > 0, was " + queueLength);
            }
            this.queueLength = queueLength;
            return this;
        }

        /**
         * The listener's keys ({@code TCP_FASTOPEN_KEY}), set on each listener when it registers and changed
         * live by {@link TfoKeyRing#rotate} (or by the key file a ring from
         * {@link TfoKeyRing#watch(java.nio.file.Path)} follows). Servers sharing an address must share their
         * keys for the cookies one issues to be accepted by the others.
         *
         * <p>{@code builder.keys(TfoKeyRing.of(TfoKey.parse(secret)))}
         *
         * @param keys the key ring; may be shared by several listeners and bootstraps
         * @return this builder
         */
        public Builder keys(TfoKeyRing keys) {
            this.keys = requireNonNull(keys, "keys");
            return this;
        }

        /**
         * Accepts data in a SYN without a cookie ({@code TCP_FASTOPEN_NO_COOKIE}). <b>Only on trusted
         * networks</b>: without the cookie, any host (or spoofed source address) can make the server process
         * a request before the handshake proves the client's address, i.e. cheap amplification and
         * request-flooding. Clients must opt in as well ({@link TfoClientOptions.Builder#noCookie}).
         *
         * <p>{@code builder.noCookie(true)}
         *
         * @param noCookie whether to accept SYN data without a cookie
         * @return this builder
         */
        public Builder noCookie(boolean noCookie) {
            this.noCookie = noCookie;
            return this;
        }

        /**
         * The options.
         *
         * @return immutable options
         */
        public TfoServerOptions build() {
            return new TfoServerOptions(this);
        }
    }
}
