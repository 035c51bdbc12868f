package dev.tfo.micrometer;

import dev.tfo.TfoBackoff;
import dev.tfo.TfoClientOptions;
import dev.tfo.TfoCounters;
import dev.tfo.TfoOutcome;
import dev.tfo.TfoResult;
import dev.tfo.TfoResultListener;
import dev.tfo.TfoServerOptions;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.netty.channel.Channel;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

import static java.util.Objects.requireNonNull;

/**
 * TCP Fast Open on the dashboard: binds to a Micrometer {@link MeterRegistry} a counter of connections per
 * TFO outcome, the kernel's {@code TCPFastOpen*} counters, and the number of destinations the
 * {@link TfoBackoff} is backing off from. It is the {@link TfoResultListener} that feeds the connection
 * counter: attach it to clients and servers, then bind it to a registry.
 *
 * <pre>{@code
 * TfoMetrics metrics = new TfoMetrics();   // watches TfoBackoff.shared(), the default backoff
 * metrics.bindTo(registry);
 *
 * // a client bootstrap (first flights through TfoBootstraps.connect, or connect then write)
 * bootstrap.channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new, metrics.clientOptions()));
 * // a server bootstrap
 * serverBootstrap.channelFactory(
 *         TfoChannels.serverFactory(EpollServerSocketChannel::new, metrics.serverOptions()));
 * // the connect-then-write mode of a framework (Reactor Netty, gRPC, Lettuce)
 * HttpClient.create().doOnChannelInit((observer, channel, address) ->
 *         TfoChannels.client(channel, metrics.clientOptions()));
 * NettyChannelBuilder.forAddress(host, port)
 *         .channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new, metrics.clientOptions()));
 *
 * // with options of your own: the binder is the listener
 * serverBootstrap.channelFactory(TfoChannels.serverFactory(EpollServerSocketChannel::new,
 *         TfoServerOptions.builder().keys(ring).resultListener(metrics).build()));
 * }</pre>
 *
 * <table>
 *   <caption>The meters</caption>
 *   <tr><th>name</th><th>type</th><th>base unit</th><th>what</th></tr>
 *   <tr><td>{@code tfo.connections}</td><td>counter</td><td>connections</td><td>connections whose
 *       {@link TfoResult} was decided, tagged {@code outcome} (the {@link TfoOutcome} name), {@code side}
 *       ({@code client} or {@code server}) and {@code transport} ({@code epoll}, {@code io_uring},
 *       {@code nio} or {@code other}, from the channel's class)</td></tr>
 *   <tr><td>{@code tfo.kernel.active}</td><td>function counter</td><td>connections</td>
 *       <td>{@code TCPFastOpenActive}: client connections whose SYN data the server acked</td></tr>
 *   <tr><td>{@code tfo.kernel.active.fail}</td><td>function counter</td><td>connections</td>
 *       <td>{@code TCPFastOpenActiveFail}: client connections whose SYN data was not acked, or whose SYN
 *       with data timed out</td></tr>
 *   <tr><td>{@code tfo.kernel.passive}</td><td>function counter</td><td>connections</td>
 *       <td>{@code TCPFastOpenPassive}: server connections accepted with data in the SYN</td></tr>
 *   <tr><td>{@code tfo.kernel.passive.fail}</td><td>function counter</td><td>connections</td>
 *       <td>{@code TCPFastOpenPassiveFail}: SYNs received with an invalid cookie (data ignored)</td></tr>
 *   <tr><td>{@code tfo.kernel.cookie.requested}</td><td>function counter</td><td>connections</td>
 *       <td>{@code TCPFastOpenCookieReqd}: SYNs received that asked for a cookie</td></tr>
 *   <tr><td>{@code tfo.kernel.listen.overflow}</td><td>function counter</td><td>connections</td>
 *       <td>{@code TCPFastOpenListenOverflow}: SYNs with data that found the TFO queue full (data
 *       ignored)</td></tr>
 *   <tr><td>{@code tfo.kernel.blackhole}</td><td>function counter</td><td>events</td>
 *       <td>{@code TCPFastOpenBlackhole}: times the kernel turned active TFO off after suspecting a black
 *       hole</td></tr>
 *   <tr><td>{@code tfo.kernel.passive.alt.key}</td><td>function counter</td><td>connections</td>
 *       <td>{@code TCPFastOpenPassiveAltKey}: cookies accepted with the backup key</td></tr>
 *   <tr><td>{@code tfo.backoff.destinations}</td><td>gauge</td><td>destinations</td><td>destinations
 *       (remote IPs) to which the backoff sends no data in the SYN right now</td></tr>
 * </table>
 *
 * <p><b>Connection counter.</b> Told once per connection whose handshake completed, on its event loop, at
 * the cost of an array lookup and an increment. The counters of one {@code side} and {@code transport}
 * appear together, at zero, with that side's first connection on that transport, so that ratios such as
 * the client's TFO hit rate never lack a series. Results decided before {@link #bindTo} are not counted.
 * No meter carries an address (cardinality: at most 7 outcomes on each of 4 transports) and no key
 * material.
 *
 * <p><b>Kernel counters.</b> Those of the network namespace the JVM runs in (a container's are its own;
 * client and server in one namespace add up), read from {@code /proc/net/netstat} when the registry reads
 * them. One read serves a whole scrape: each read serves each of the 8 meters once, so a scrape costs one
 * read, and a value is never older than one second. Where {@code /proc/net/netstat} cannot be read when
 * the binder is bound (not Linux, no {@code /proc}) these meters are not registered at all, and a kernel
 * that lacks one of the counters gets no meter for it; should a later read fail, they read {@code NaN}.
 *
 * <p>Its configuration (the backoff, the options it hands out) is immutable; it is thread-safe. Bind one
 * binder per registry (binding it twice to the same registry changes nothing); several binders bound to one
 * registry add up into the same connection counters, but the gauge follows the backoff of the first.
 */
public final class TfoMetrics implements MeterBinder, TfoResultListener {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(TfoMetrics.class);

    /** The {@code transport} tag values, indexed by {@link #transportIndex}. */
    private static final String[] TRANSPORTS = {"epoll", "io_uring", "nio", "other"};
    private static final int OTHER = 3;
    private static final String[] SIDES = {"client", "server"};
    private static final TfoOutcome[] OUTCOMES = TfoOutcome.values();

    private final TfoBackoff backoff;
    private final KernelCounters kernel;
    private final TfoClientOptions clientOptions;
    private final TfoServerOptions serverOptions;
    private final Object lock = new Object();
    private volatile Bound[] bound = new Bound[0];

    /**
     * A binder whose gauge watches {@link TfoBackoff#shared()}, the backoff of every client that does not
     * choose one.
     *
     * <pre>{@code
     * TfoMetrics metrics = new TfoMetrics();
     * metrics.bindTo(registry);
     * }</pre>
     */
    public TfoMetrics() {
        this(TfoBackoff.shared());
    }

    /**
     * A binder whose gauge watches {@code backoff}; its {@link #clientOptions()} use that backoff.
     *
     * <pre>{@code
     * TfoBackoff backoff = TfoBackoff.builder().initial(Duration.ofSeconds(30)).build();
     * TfoMetrics metrics = new TfoMetrics(backoff);
     * bootstrap.channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new, metrics.clientOptions())); // consults and teaches that backoff
     * }</pre>
     *
     * @param backoff the backoff whose backed-off destinations {@code tfo.backoff.destinations} counts
     */
    public TfoMetrics(TfoBackoff backoff) {
        this(requireNonNull(backoff, "backoff"), TfoCounters::snapshot, System::nanoTime);
    }

    /** For tests: where the kernel counters come from, and the clock of their one-second bound. */
    TfoMetrics(TfoBackoff backoff, Supplier<TfoCounters> kernelSource, LongSupplier nanoClock) {
        this.backoff = backoff;
        this.kernel = new KernelCounters(kernelSource, nanoClock);
        this.clientOptions = TfoClientOptions.builder().backoff(backoff).resultListener(this).build();
        this.serverOptions = TfoServerOptions.builder().resultListener(this).build();
    }

    /**
     * Client options that count every connection here: {@link TfoClientOptions#defaults()} with this
     * binder's backoff and this binder as {@link TfoClientOptions.Builder#resultListener result listener}. Always the same object,
     * so that the clients sharing it share its memory of cookie requests: use it for every client.
     *
     * <pre>{@code
     * bootstrap.channelFactory(TfoChannels.clientFactory(EpollSocketChannel::new, metrics.clientOptions()));
     * TfoChannels.client(channel, metrics.clientOptions());
     * TfoChannels.clientFactory(EpollSocketChannel::new, metrics.clientOptions());
     * }</pre>
     *
     * <p>Other options (a {@link dev.tfo.TfoSynDataPolicy}, cookie-less mode) with the same counting:
     * {@code TfoClientOptions.builder().synDataPolicy(policy).resultListener(metrics).build()}.
     *
     * @return the options
     */
    public TfoClientOptions clientOptions() {
        return clientOptions;
    }

    /**
     * Server options that count every accepted connection here: the defaults of
     * {@link TfoServerOptions#builder()} (queue length {@value TfoServerOptions#DEFAULT_QUEUE_LENGTH}, the
     * host's key) with this binder as {@link TfoServerOptions.Builder#resultListener result listener}.
     *
     * <pre>{@code
     * serverBootstrap.channelFactory(TfoChannels.serverFactory(EpollServerSocketChannel::new,
     *         metrics.serverOptions()));
     * }</pre>
     *
     * <p>Another queue length or keys, with the same counting:
     * {@code TfoServerOptions.builder().queueLength(1024).keys(ring).resultListener(metrics).build()}.
     *
     * @return the options
     */
    public TfoServerOptions serverOptions() {
        return serverOptions;
    }

    /**
     * The backoff that {@code tfo.backoff.destinations} watches.
     *
     * <pre>{@code
     * TfoClientOptions mine = TfoClientOptions.builder().backoff(metrics.backoff()).resultListener(metrics).build();
     * }</pre>
     *
     * @return the backoff
     */
    public TfoBackoff backoff() {
        return backoff;
    }

    /**
     * Registers the meters with {@code registry}: the gauge, the kernel's counters (where
     * {@code /proc/net/netstat} can be read now), and from then on the connection counters. Binding to the
     * same registry again changes nothing.
     *
     * <pre>{@code
     * new TfoMetrics().bindTo(Metrics.globalRegistry);
     * }</pre>
     *
     * @param registry the registry
     */
    @Override
    public void bindTo(MeterRegistry registry) {
        requireNonNull(registry, "registry");
        synchronized (lock) {
            for (Bound b : bound) {
                if (b.registry == registry) {
                    return;
                }
            }
            Gauge.builder("tfo.backoff.destinations", backoff, TfoBackoff::backedOffDestinations)
                    .description("Destinations (remote IPs) to which TCP Fast Open is backed off: no data in "
                            + "the SYN until the backoff expires")
                    .baseUnit("destinations")
                    .strongReference(true)
                    .register(registry);
            kernel.bindTo(registry);
            Bound[] next = Arrays.copyOf(bound, bound.length + 1);
            next[bound.length] = new Bound(registry);
            bound = next;
        }
    }

    /**
     * Counts one connection's result in {@code tfo.connections} of every registry this binder is bound to.
     * Called by transport-tfo once per connection, on its event loop, when this binder is the result listener
     * of its options.
     *
     * <pre>{@code
     * TfoResult.of(channel).addListener(f -> metrics.onResult(channel, (TfoResult) f.getNow()));   // by hand
     * }</pre>
     *
     * @param channel the connection: a client channel, or a server's accepted child channel
     * @param result  its result
     */
    @Override
    public void onResult(Channel channel, TfoResult result) {
        requireNonNull(channel, "channel");
        requireNonNull(result, "result");
        int transport = transportIndex(result.transport());
        TfoOutcome outcome = result.outcome();
        for (Bound b : bound) {
            b.counter(transport, outcome).increment();
        }
    }

    /**
     * For example {@code TfoMetrics(backoff=TfoBackoff(...), registries=1)}.
     *
     * @return the backoff watched and how many registries are bound
     */
    @Override
    public String toString() {
        return "TfoMetrics(backoff=" + backoff + ", registries=" + bound.length + ')';
    }

    /** The index of a {@link TfoResult#transport()} in {@link #TRANSPORTS}. */
    private static int transportIndex(String transport) {
        for (int i = 0; i < OTHER; i++) {
            if (TRANSPORTS[i].equals(transport)) {
                return i;
            }
        }
        return OTHER;
    }

    private static int sideIndex(TfoOutcome outcome) {
        return outcome.server() ? 1 : 0;
    }

    /** The connection counters of one registry, registered per side and transport on first use. */
    private static final class Bound {
        final MeterRegistry registry;
        /** Index transport * 2 + side: the counters of that side, indexed by outcome ordinal. */
        private final AtomicReferenceArray<Counter[]> counters =
                new AtomicReferenceArray<>(TRANSPORTS.length * SIDES.length);

        Bound(MeterRegistry registry) {
            this.registry = registry;
        }

        Counter counter(int transport, TfoOutcome outcome) {
            int side = sideIndex(outcome);
            int slot = transport * SIDES.length + side;
            Counter[] cs = counters.get(slot);
            if (cs == null) {
                cs = register(transport, side);
                // A racing thread registered the same meters: the registry handed both of us the same ones.
                counters.compareAndSet(slot, null, cs);
            }
            return cs[outcome.ordinal()];
        }

        private Counter[] register(int transport, int side) {
            Counter[] cs = new Counter[OUTCOMES.length];
            for (TfoOutcome o : OUTCOMES) {
                if (sideIndex(o) == side) {
                    cs[o.ordinal()] = Counter.builder("tfo.connections")
                            .description("New TCP connections by TCP Fast Open outcome (outcome: the TfoOutcome; "
                                    + "SYN_DATA_ACKED and SYN_DATA_ACCEPTED saved a round trip)")
                            .baseUnit("connections")
                            .tag("outcome", o.name())
                            .tag("side", SIDES[side])
                            .tag("transport", TRANSPORTS[transport])
                            .register(registry);
                }
            }
            return cs;
        }
    }

    /**
     * The kernel's counters as function counters, all served from one read of {@code /proc/net/netstat}:
     * a read serves each meter once (a scrape reads each once), and is never reused after one second.
     */
    private static final class KernelCounters {
        static final long MAX_AGE_NANOS = TimeUnit.SECONDS.toNanos(1);

        /** One meter: its name, the counter it reads, its description and base unit. */
        private static final class Meter {
            final String name;
            final ToLongFunction<TfoCounters> counter;
            final String description;
            final String unit;

            Meter(String name, ToLongFunction<TfoCounters> counter, String description, String unit) {
                this.name = name;
                this.counter = counter;
                this.description = description;
                this.unit = unit;
            }
        }

        static final Meter[] METERS = {
            new Meter("tfo.kernel.active", TfoCounters::active,
                "Client connections whose data in the SYN the server acknowledged (TcpExt TCPFastOpenActive)",
                "connections"),
            new Meter("tfo.kernel.active.fail", TfoCounters::activeFail,
                "Client connections whose data in the SYN was not acknowledged, or whose SYN with data timed out "
                    + "(TcpExt TCPFastOpenActiveFail)", "connections"),
            new Meter("tfo.kernel.passive", TfoCounters::passive,
                "Server connections accepted with data in the SYN (TcpExt TCPFastOpenPassive)", "connections"),
            new Meter("tfo.kernel.passive.fail", TfoCounters::passiveFail,
                "SYNs received with an invalid cookie, their data ignored (TcpExt TCPFastOpenPassiveFail)",
                "connections"),
            new Meter("tfo.kernel.cookie.requested", TfoCounters::cookieReqd,
                "SYNs received that asked for a TFO cookie (TcpExt TCPFastOpenCookieReqd)", "connections"),
            new Meter("tfo.kernel.listen.overflow", TfoCounters::listenOverflow,
                "SYNs with data that found the listener's TFO queue full, their data ignored "
                    + "(TcpExt TCPFastOpenListenOverflow)", "connections"),
            new Meter("tfo.kernel.blackhole", TfoCounters::blackhole,
                "Times the kernel turned active TFO off after suspecting a black hole (TcpExt TCPFastOpenBlackhole)",
                "events"),
            new Meter("tfo.kernel.passive.alt.key", TfoCounters::passiveAltKey,
                "Cookies accepted with the backup key (TcpExt TCPFastOpenPassiveAltKey)", "connections"),
        };

        private final Supplier<TfoCounters> source;
        private final LongSupplier nanoClock;
        private boolean read;
        private TfoCounters last;
        private long readAt;
        private int served;
        private boolean warned;

        KernelCounters(Supplier<TfoCounters> source, LongSupplier nanoClock) {
            this.source = source;
            this.nanoClock = nanoClock;
        }

        /** Registers a function counter for each counter (0 where this kernel lacks it); none where they cannot be read. */
        void bindTo(MeterRegistry registry) {
            try {
                source.get();
            } catch (UncheckedIOException | IllegalArgumentException e) {
                logger.debug("no tfo.kernel.* meters: the kernel's TCPFastOpen counters cannot be read", e);
                return;
            }
            for (int i = 0; i < METERS.length; i++) {
                Meter m = METERS[i];
                int index = i;
                // Micrometer holds the object weakly; the function holds it strongly, so that the meters
                // live as long as the registry keeps them, whether or not the binder is kept.
                FunctionCounter.builder(m.name, this, ignored -> value(index))
                        .description(m.description)
                        .baseUnit(m.unit)
                        .register(registry);
            }
        }

        /** One counter's value, from the current read, or from a new one when this counter was served. */
        synchronized double value(int index) {
            int bit = 1 << index;
            long now = nanoClock.getAsLong();
            if (!read || (served & bit) != 0 || now - readAt > MAX_AGE_NANOS) {
                read = true;
                readAt = now;
                served = 0;
                try {
                    last = source.get();
                } catch (UncheckedIOException | IllegalArgumentException e) {
                    last = null;
                    if (!warned) {
                        warned = true;
                        logger.warn("tfo.kernel.* read NaN: the kernel's TCPFastOpen counters cannot be read", e);
                    }
                }
            }
            served |= bit;
            return last == null ? Double.NaN : METERS[index].counter.applyAsLong(last);
        }
    }
}
