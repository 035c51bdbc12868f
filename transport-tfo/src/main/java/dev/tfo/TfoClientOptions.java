package dev.tfo;

import static java.util.Objects.requireNonNull;

/**
 * How {@link TfoBootstraps#client(io.netty.bootstrap.Bootstrap, TfoClientOptions)} sets up a client: the
 * {@link TfoBackoff} consulted by {@link TfoBootstraps#connect} and cookie-less mode. Immutable.
 *
 * <p>{@code
 * TfoClientOptions options = TfoClientOptions.builder()
 *         .backoff(TfoBackoff.builder().initial(Duration.ofSeconds(10)).build())
 *         .build();
 * TfoBootstraps.client(bootstrap, options);
 * }
 */
public final class TfoClientOptions {
    private static final TfoClientOptions DEFAULTS = builder().build();

    private final TfoBackoff backoff;
    private final boolean noCookie;

    private TfoClientOptions(Builder b) {
        this.backoff = b.backoff;
        this.noCookie = b.noCookie;
    }

    /**
     * The options of {@link TfoBootstraps#client(io.netty.bootstrap.Bootstrap)}: the shared backoff
     * ({@link TfoBackoff#shared()}), cookies required.
     *
     * <p>{@code TfoBootstraps.client(bootstrap, TfoClientOptions.defaults());}
     *
     * @return the default options
     */
    public static TfoClientOptions defaults() {
        return DEFAULTS;
    }

    /**
     * A builder starting from {@link #defaults()}.
     *
     * <p>{@code TfoClientOptions o = TfoClientOptions.builder().backoff(TfoBackoff.disabled()).build();}
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The backoff consulted before, and taught after, each {@link TfoBootstraps#connect}.
     *
     * <p>{@code Duration left = options.backoff().remaining(serverIp);}
     *
     * @return the backoff
     */
    public TfoBackoff backoff() {
        return backoff;
    }

    /**
     * Whether data is sent in the SYN without a cookie ({@code TCP_FASTOPEN_NO_COOKIE}).
     *
     * <p>{@code boolean risky = options.noCookie();}
     *
     * @return whether cookie-less mode is on
     */
    public boolean noCookie() {
        return noCookie;
    }

    @Override
    public String toString() {
        return "TfoClientOptions(backoff=" + backoff + ", noCookie=" + noCookie + ')';
    }

    /** Builds {@link TfoClientOptions}. Not thread-safe. */
    public static final class Builder {
        private TfoBackoff backoff = TfoBackoff.shared();
        private boolean noCookie;

        private Builder() {
        }

        /**
         * The backoff; {@link TfoBackoff#disabled()} attempts TFO on every connection.
         *
         * <p>{@code builder.backoff(TfoBackoff.disabled())}
         *
         * @param backoff the backoff, typically shared by all bootstraps of an application
         * @return this builder
         */
        public Builder backoff(TfoBackoff backoff) {
            this.backoff = requireNonNull(backoff, "backoff");
            return this;
        }

        /**
         * Sends data in the SYN even without a cookie ({@code TCP_FASTOPEN_NO_COOKIE}), saving the round trip
         * on the very first connection too. <b>Only towards servers on a trusted network that opted in</b>
         * ({@link TfoServerOptions.Builder#noCookie}): a server that requires cookies drops the SYN's data
         * (resent after the handshake, {@link TfoOutcome#DATA_NOT_ACKED}), and a cookie-less server can be
         * made to process requests from spoofed addresses.
         *
         * <p>{@code builder.noCookie(true)}
         *
         * @param noCookie whether to send SYN data without a cookie
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
        public TfoClientOptions build() {
            return new TfoClientOptions(this);
        }
    }
}
