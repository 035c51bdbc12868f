package dev.tfo;

import java.time.Duration;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * How a client does TCP Fast Open: the {@link TfoBackoff} consulted before each connection, what may ride in
 * the SYN ({@link TfoSynDataPolicy}), how long a connection waits for its first write before it starts the
 * handshake without data, cookie-less mode, and who is told each result. Immutable; given to
 * {@link TfoChannels#clientFactory(io.netty.channel.ChannelFactory, TfoClientOptions)} or
 * {@link TfoChannels#client(io.netty.channel.Channel, TfoClientOptions)}.
 *
 * <pre>{@code
 * TfoClientOptions options = TfoClientOptions.builder()
 *         .backoff(TfoBackoff.builder().initial(Duration.ofSeconds(10)).build())
 *         .synDataPolicy(TfoSynDataPolicy.replaySafe())
 *         .build();
 * bootstrap.channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new, options));
 * }</pre>
 *
 * <p>Each options object remembers which servers it asked for a cookie (to tell, from the second
 * {@link TfoOutcome#COOKIE_REQUESTED} on, that a server issues none): share one options object among the
 * bootstraps that talk to the same servers.
 */
public final class TfoClientOptions {
    /** The default {@link Builder#firstWriteWait}. */
    public static final Duration DEFAULT_FIRST_WRITE_WAIT = Duration.ofMillis(250);
    /** The longest {@link Builder#firstWriteWait} accepted. */
    public static final Duration MAX_FIRST_WRITE_WAIT = Duration.ofMinutes(1);
    private static final TfoClientOptions DEFAULTS = builder().build();

    private final TfoBackoff backoff;
    private final boolean noCookie;
    private final TfoSynDataPolicy synDataPolicy;
    private final long firstWriteWaitNanos;
    private final TfoResultListener resultListener;
    private final CookieRequests cookieRequests = new CookieRequests();
    private final Destinations destinations = new Destinations();

    private TfoClientOptions(Builder b) {
        this.backoff = b.backoff;
        this.noCookie = b.noCookie;
        this.synDataPolicy = b.synDataPolicy;
        this.firstWriteWaitNanos = b.firstWriteWait.toNanos();
        this.resultListener = b.resultListener;
    }

    /**
     * The defaults, also those of a {@link TfoBootstraps#connect first flight} on a bootstrap whose channels
     * are not from {@link TfoChannels}: the shared backoff ({@link TfoBackoff#shared()}),
     * {@link TfoSynDataPolicy#replaySafe()}, a first-write wait of {@link #DEFAULT_FIRST_WRITE_WAIT}, cookies
     * required, no listener.
     *
     * <pre>{@code
     * bootstrap.channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new, TfoClientOptions.defaults()));
     * }</pre>
     *
     * @return the default options
     */
    public static TfoClientOptions defaults() {
        return DEFAULTS;
    }

    /**
     * A builder starting from the values of {@link #defaults()}.
     *
     * <pre>{@code
     * TfoClientOptions o = TfoClientOptions.builder().backoff(TfoBackoff.disabled()).build();
     * }</pre>
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder starting from these options' values: the way to derive options with one change.
     *
     * <pre>{@code
     * TfoClientOptions mine = options.toBuilder().synDataPolicy(new MyPolicy(options.synDataPolicy())).build();
     * }</pre>
     *
     * <p>The options it builds are a new object, with a memory of cookie requests of their own.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        Builder b = new Builder().backoff(backoff).noCookie(noCookie).synDataPolicy(synDataPolicy)
                .firstWriteWait(firstWriteWait());
        return resultListener == null ? b : b.resultListener(resultListener);
    }

    TfoBackoff backoff() {
        return backoff;
    }

    boolean noCookie() {
        return noCookie;
    }

    /**
     * What may ride in the SYN: the one option a framework module reads back, to wrap it in a policy of its own
     * (see {@link #toBuilder()}).
     *
     * @return the policy
     */
    public TfoSynDataPolicy synDataPolicy() {
        return synDataPolicy;
    }

    Duration firstWriteWait() {
        return Duration.ofNanos(firstWriteWaitNanos);
    }

    long firstWriteWaitNanos() {
        return firstWriteWaitNanos;
    }

    Optional<TfoResultListener> resultListener() {
        return Optional.ofNullable(resultListener);
    }

    /** The listener without an Optional, for the per-connection path. */
    TfoResultListener listener() {
        return resultListener;
    }

    Destinations destinations() {
        return destinations;
    }

    CookieRequests cookieRequests() {
        return cookieRequests;
    }

    @Override
    public String toString() {
        return "TfoClientOptions(backoff=" + backoff + ", synDataPolicy=" + synDataPolicy + ", firstWriteWait="
                + firstWriteWait() + ", noCookie=" + noCookie
                + (resultListener == null ? "" : ", resultListener=" + resultListener) + ')';
    }

    /** Builds {@link TfoClientOptions}. Not thread-safe. */
    public static final class Builder {
        private TfoBackoff backoff = TfoBackoff.shared();
        private boolean noCookie;
        private TfoSynDataPolicy synDataPolicy = TfoSynDataPolicy.replaySafe();
        private Duration firstWriteWait = DEFAULT_FIRST_WRITE_WAIT;
        private TfoResultListener resultListener;

        private Builder() {
        }

        /**
         * The backoff; {@link TfoBackoff#disabled()} attempts TFO on every connection.
         *
         * <pre>{@code
         * builder.backoff(TfoBackoff.disabled())
         * }</pre>
         *
         * @param backoff the backoff, typically shared by all clients of an application
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
         * <pre>{@code
         * builder.noCookie(true)
         * }</pre>
         *
         * @param noCookie whether to send SYN data without a cookie
         * @return this builder
         */
        public Builder noCookie(boolean noCookie) {
            this.noCookie = noCookie;
            return this;
        }

        /**
         * What of the first write may ride in the SYN; default {@link TfoSynDataPolicy#replaySafe()}.
         *
         * <pre>{@code
         * builder.synDataPolicy(TfoSynDataPolicy.any())   // every first write is safe to replay here
         * }</pre>
         *
         * @param synDataPolicy the policy
         * @return this builder
         */
        public Builder synDataPolicy(TfoSynDataPolicy synDataPolicy) {
            this.synDataPolicy = requireNonNull(synDataPolicy, "synDataPolicy");
            return this;
        }

        /**
         * How long a deferred connection waits for its first write before it starts the handshake without
         * data, so that a client that reads first never waits forever for a SYN that only a write would send.
         * A server that spoke first on an earlier connection of these options (SMTP, MySQL, FTP, SSH: a banner)
         * gets its SYN at once, without this wait; the wait is for servers not met yet, and long enough by
         * default ({@link #DEFAULT_FIRST_WRITE_WAIT}) that the first write of a cold JVM, whose
         * {@code connect().sync()} can return 200 ms late under load, still rides in the SYN.
         * {@link Duration#ZERO} starts every handshake at once (no TFO data for clients that write after the
         * connect).
         *
         * <pre>{@code
         * builder.firstWriteWait(Duration.ZERO)   // a server-speaks-first protocol
         * }</pre>
         *
         * @param firstWriteWait from {@link Duration#ZERO} to {@link #MAX_FIRST_WRITE_WAIT}
         * @return this builder
         * @throws IllegalArgumentException when negative or longer than {@link #MAX_FIRST_WRITE_WAIT}
         */
        public Builder firstWriteWait(Duration firstWriteWait) {
            requireNonNull(firstWriteWait, "firstWriteWait");
            if (firstWriteWait.isNegative() || firstWriteWait.compareTo(MAX_FIRST_WRITE_WAIT) > 0) {
                throw new IllegalArgumentException("firstWriteWait must be between 0 and " + MAX_FIRST_WRITE_WAIT
                        + ", was " + firstWriteWait);
            }
            this.firstWriteWait = firstWriteWait;
            return this;
        }

        /**
         * Who is told each connection's result (metrics, logs).
         *
         * <pre>{@code
         * builder.resultListener((channel, result) -> outcomes.increment(result.outcome()))
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
         * The options.
         *
         * <pre>{@code
         * TfoClientOptions options = builder.build();
         * }</pre>
         *
         * @return immutable options
         */
        public TfoClientOptions build() {
            return new TfoClientOptions(this);
        }
    }
}
