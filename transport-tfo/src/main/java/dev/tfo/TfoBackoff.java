package dev.tfo;

import dev.tfo.internal.BoundedLru;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Stops attempting TFO, for a while, to a destination whose path drops SYNs carrying data or whose server
 * declines their data.
 *
 * <p>The kernel keeps a server's cookie and tries TFO again on every new connection; when a middlebox eats
 * SYNs with data, each attempt costs a SYN retransmission timeout (~1 s) before a plain SYN gets through.
 * With a backoff, one {@link TfoOutcome#SYN_RETRANSMITTED} (or {@code dataNotAckedThreshold} consecutive
 * {@link TfoOutcome#DATA_NOT_ACKED}) makes the next connections to that IP plain connects (same bytes, sent
 * after the handshake; {@link TfoResult} says {@link TfoOutcome#NOT_ATTEMPTED} with the backoff as reason)
 * for {@code initial}, then {@code initial * multiplier}, ... up to {@code max} while the probes keep
 * failing. When a backoff expires ONE connection probes with TFO (concurrent ones stay plain); a
 * {@link TfoOutcome#SYN_DATA_ACKED} forgets the destination.
 *
 * <p>State is per remote IP (the kernel's cookie cache is per IP too) and kept only for failing
 * destinations, at most 65,536 of them (the least recently used is forgotten first).
 * Thread-safe; share one instance among the clients of an application. {@link #shared()} is the default of
 * every {@link TfoClientOptions}; tests and applications that want their own memory build one.
 *
 * <pre>{@code
 * TfoBackoff backoff = TfoBackoff.builder()
 *         .initial(Duration.ofSeconds(30)).max(Duration.ofHours(1)).multiplier(2).dataNotAckedThreshold(3)
 *         .build();
 * TfoClientOptions options = TfoClientOptions.builder().backoff(backoff).build();
 * }</pre>
 */
public final class TfoBackoff {
    /** The most destinations a backoff remembers. */
    static final int MAX_DESTINATIONS = 65_536;
    private static final TfoBackoff SHARED = builder().build();
    private static final TfoBackoff DISABLED = new TfoBackoff();

    private final boolean enabled;
    private final long initialNanos;
    private final long maxNanos;
    private final double multiplier;
    private final int dataNotAckedThreshold;
    private final LongSupplier clock;
    private final BoundedLru<Object, State> states = new BoundedLru<>(MAX_DESTINATIONS);

    private TfoBackoff() {
        this.enabled = false;
        this.initialNanos = 0;
        this.maxNanos = 0;
        this.multiplier = 1;
        this.dataNotAckedThreshold = Integer.MAX_VALUE;
        this.clock = System::nanoTime;
    }

    private TfoBackoff(Builder b, LongSupplier clock) {
        this.enabled = true;
        this.initialNanos = b.initial.toNanos();
        this.maxNanos = b.max.toNanos();
        this.multiplier = b.multiplier;
        this.dataNotAckedThreshold = b.dataNotAckedThreshold;
        this.clock = clock;
    }

    /**
     * The JVM-wide backoff used by clients that do not choose one: 60 s doubling up to 1 h, 3 consecutive
     * {@code DATA_NOT_ACKED}.
     *
     * <p>{@code TfoClientOptions o = TfoClientOptions.builder().backoff(TfoBackoff.shared()).build();}
     *
     * @return the shared instance
     */
    public static TfoBackoff shared() {
        return SHARED;
    }

    /**
     * Never backs off: every connection attempts TFO (the kernel's own behaviour).
     *
     * <p>{@code TfoClientOptions.builder().backoff(TfoBackoff.disabled()).build()}
     *
     * @return the disabled instance
     */
    public static TfoBackoff disabled() {
        return DISABLED;
    }

    /**
     * A builder with the defaults of {@link #shared()}.
     *
     * <p>{@code TfoBackoff b = TfoBackoff.builder().initial(Duration.ofSeconds(10)).build();}
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * How long TFO to {@code destination} is still off; {@link Duration#ZERO} when it is attempted.
     *
     * <p>{@code if (!backoff.remaining(addr).isZero()) log.info("TFO to {} paused", addr);}
     *
     * @param destination a remote IP address
     * @return the remaining backoff
     */
    Duration remaining(java.net.InetAddress destination) {
        requireNonNull(destination, "destination");
        State s = states.get(destination);
        if (s == null) {
            return Duration.ZERO;
        }
        synchronized (s) {
            long left = s.until - clock.getAsLong();
            return s.until == 0 || left <= 0 ? Duration.ZERO : Duration.ofNanos(left);
        }
    }

    /**
     * How many destinations TFO is backing off from right now: a gauge for dashboards.
     *
     * <pre>{@code
     * registry.gauge("tfo.backoff.destinations", backoff, TfoBackoff::backedOffDestinations);
     * }</pre>
     *
     * @return the number of destinations whose backoff has not expired
     */
    public int backedOffDestinations() {
        if (!enabled || states.size() == 0) {
            return 0;
        }
        long now = clock.getAsLong();
        return states.count(s -> {
            synchronized (s) {
                return s.until != 0 && now - s.until < 0;
            }
        });
    }

    /**
     * Why the next connection to {@code remote} must not attempt TFO, or {@code null} when it may (a
     * connection allowed after an expired backoff becomes the probe).
     */
    String skipReason(SocketAddress remote) {
        if (!enabled) {
            return null;
        }
        Object key = keyOf(remote);
        State s = key == null ? null : states.get(key);
        if (s == null) {
            return null;
        }
        long now = clock.getAsLong();
        synchronized (s) {
            if (s.until != 0 && now - s.until < 0) {
                return "TFO to " + describe(key) + " backing off for " + millis(s.until - now) + " ms more after "
                        + s.cause + s.hint;
            }
            if (s.until != 0) {
                if (s.probing && now - s.probeStarted < s.lastInterval + initialNanos) {
                    return "TFO to " + describe(key) + " backing off until a probe connection proves the path "
                            + "(after " + s.cause + ")";
                }
                s.probing = true;
                s.probeStarted = now;
            }
            return null;
        }
    }

    /**
     * Learns from the outcome of a connection to {@code remote}; {@code null} when the connection failed
     * (says nothing about SYN data: neutral, but ends a probe).
     */
    void record(SocketAddress remote, TfoOutcome outcome) {
        if (!enabled) {
            return;
        }
        Object key = keyOf(remote);
        if (key == null) {
            return;
        }
        if (outcome == TfoOutcome.SYN_DATA_ACKED) {
            states.remove(key);
            return;
        }
        boolean retransmitted = outcome == TfoOutcome.SYN_RETRANSMITTED;
        boolean notAcked = outcome == TfoOutcome.DATA_NOT_ACKED;
        if (!retransmitted && !notAcked) {
            State s = states.get(key);
            if (s != null) {
                synchronized (s) {
                    s.probing = false;
                }
            }
            return;
        }
        State s = states.computeIfAbsent(key, k -> new State());
        long now = clock.getAsLong();
        synchronized (s) {
            boolean wasProbe = s.probing;
            s.probing = false;
            if (notAcked && ++s.notAcked < dataNotAckedThreshold && !wasProbe) {
                return;
            }
            s.notAcked = 0;
            long interval = s.lastInterval == 0 ? initialNanos
                    : (long) Math.min((double) maxNanos, s.lastInterval * multiplier);
            s.lastInterval = Math.min(interval, maxNanos);
            s.until = now + s.lastInterval;
            if (s.until == 0) {
                s.until = 1;
            }
            s.cause = retransmitted ? "a SYN with data was retransmitted"
                    : (wasProbe ? "a probe's" : dataNotAckedThreshold + " consecutive") + " SYN data not acked";
            // The SYN reached the server when it declined the data; only a retransmitted SYN says the path drops it.
            s.hint = retransmitted ? " (something on the path drops SYNs carrying data)"
                    : " (the server declined the data: TFO off on the server, its key changed or it restarted "
                    + "without it, or its TFO queue full)";
        }
    }

    private static Object keyOf(SocketAddress remote) {
        if (!(remote instanceof InetSocketAddress)) {
            return null;
        }
        InetSocketAddress isa = (InetSocketAddress) remote;
        return isa.isUnresolved() ? isa.getHostString() : isa.getAddress();
    }

    private static String describe(Object key) {
        return key instanceof java.net.InetAddress ? ((java.net.InetAddress) key).getHostAddress() : key.toString();
    }

    private static long millis(long nanos) {
        return Math.max(1, Duration.ofNanos(nanos).toMillis());
    }

    @Override
    public String toString() {
        if (!enabled) {
            return "TfoBackoff(disabled)";
        }
        return "TfoBackoff(initial=" + Duration.ofNanos(initialNanos) + ", max=" + Duration.ofNanos(maxNanos)
                + ", multiplier=" + multiplier + ", dataNotAckedThreshold=" + dataNotAckedThreshold + ", "
                + states.size() + " destination(s) tracked)";
    }

    private static final class State {
        long until;          // 0: not backing off (only counting DATA_NOT_ACKED)
        long lastInterval;   // 0: never backed off
        int notAcked;
        boolean probing;
        long probeStarted;
        String cause = "";
        String hint = "";
    }

    /** Builds a {@link TfoBackoff}. Not thread-safe. */
    public static final class Builder {
        private Duration initial = Duration.ofSeconds(60);
        private Duration max = Duration.ofHours(1);
        private double multiplier = 2;
        private int dataNotAckedThreshold = 3;

        private Builder() {
        }

        /**
         * The first backoff after a failure.
         *
         * <p>{@code builder.initial(Duration.ofSeconds(30))}
         *
         * @param initial &gt; 0
         * @return this builder
         * @throws IllegalArgumentException when not positive
         */
        public Builder initial(Duration initial) {
            requireNonNull(initial, "initial");
            if (initial.isNegative() || initial.isZero()) {
                throw new IllegalArgumentException("initial must be > 0, was " + initial);
            }
            this.initial = initial;
            return this;
        }

        /**
         * The longest backoff.
         *
         * <p>{@code builder.max(Duration.ofHours(6))}
         *
         * @param max &gt; 0 and &gt;= initial (checked by {@link #build()})
         * @return this builder
         * @throws IllegalArgumentException when not positive
         */
        public Builder max(Duration max) {
            requireNonNull(max, "max");
            if (max.isNegative() || max.isZero()) {
                throw new IllegalArgumentException("max must be > 0, was " + max);
            }
            this.max = max;
            return this;
        }

        /**
         * The growth of the backoff after each failed probe.
         *
         * <p>{@code builder.multiplier(1.5)}
         *
         * @param multiplier &gt;= 1
         * @return this builder
         * @throws IllegalArgumentException when &lt; 1 or not finite
         */
        public Builder multiplier(double multiplier) {
            if (!(multiplier >= 1) || Double.isInfinite(multiplier)) {
                throw new IllegalArgumentException("multiplier must be >= 1 and finite, was " + multiplier);
            }
            this.multiplier = multiplier;
            return this;
        }

        /**
         * How many consecutive {@link TfoOutcome#DATA_NOT_ACKED} start a backoff (a single one is normal
         * after a server's key changed: the next connection gets a new cookie).
         *
         * <p>{@code builder.dataNotAckedThreshold(5)}
         *
         * @param threshold &gt;= 1
         * @return this builder
         * @throws IllegalArgumentException when &lt; 1
         */
        public Builder dataNotAckedThreshold(int threshold) {
            if (threshold < 1) {
                throw new IllegalArgumentException("threshold must be >= 1, was " + threshold);
            }
            this.dataNotAckedThreshold = threshold;
            return this;
        }

        /**
         * The backoff.
         *
         * @return a new backoff with no state
         * @throws IllegalArgumentException when {@code max < initial}
         */
        public TfoBackoff build() {
            if (max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("max (" + max + ") must be >= initial (" + initial + ")");
            }
            return new TfoBackoff(this, System::nanoTime);
        }

        TfoBackoff build(LongSupplier clock) {
            build();
            return new TfoBackoff(this, clock);
        }
    }
}
