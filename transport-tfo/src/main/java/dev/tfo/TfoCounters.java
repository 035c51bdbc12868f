package dev.tfo;

import dev.tfo.internal.Procfs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * A snapshot of the kernel's {@code TcpExt TCPFastOpen*} counters of one network namespace (from
 * {@code /proc/net/netstat}), or the difference between two snapshots.
 *
 * <pre>{@code
 * TfoCounters before = TfoCounters.snapshot();
 * // ... connections ...
 * TfoCounters delta = TfoCounters.snapshot().minus(before);
 * System.out.println(delta.active() + " connections had their SYN data acked");
 * }</pre>
 *
 * <p>Counters are per network namespace: a container's are its own, and a JVM sees those of the namespace
 * it runs in.
 */
public final class TfoCounters {
    /** {@code TCPFastOpenActive}: client connections whose SYN data was acked. */
    public static final String ACTIVE = "TCPFastOpenActive";
    /** {@code TCPFastOpenActiveFail}: client SYN data not acked, or the SYN with data timed out. */
    public static final String ACTIVE_FAIL = "TCPFastOpenActiveFail";
    /** {@code TCPFastOpenPassive}: server connections accepted with data in the SYN. */
    public static final String PASSIVE = "TCPFastOpenPassive";
    /** {@code TCPFastOpenPassiveFail}: server SYNs with an invalid cookie (data ignored). */
    public static final String PASSIVE_FAIL = "TCPFastOpenPassiveFail";
    /** {@code TCPFastOpenListenOverflow}: server TFO queue full (data ignored, plain handshake). */
    public static final String LISTEN_OVERFLOW = "TCPFastOpenListenOverflow";
    /**
     * {@code TCPFastOpenCookieReqd}: SYNs received with a cookie request: counted by the server's namespace,
     * even when the server itself has TFO off (a client's own request does not count in its namespace).
     */
    public static final String COOKIE_REQD = "TCPFastOpenCookieReqd";
    /** {@code TCPFastOpenBlackhole}: times the kernel disabled active TFO after suspecting a black hole. */
    public static final String BLACKHOLE = "TCPFastOpenBlackhole";
    /** {@code TCPFastOpenPassiveAltKey}: cookies accepted with the backup key. */
    public static final String PASSIVE_ALT_KEY = "TCPFastOpenPassiveAltKey";

    private final Map<String, Long> values;

    private TfoCounters(Map<String, Long> values) {
        this.values = Collections.unmodifiableMap(values);
    }

    /**
     * Reads the counters of the calling JVM's network namespace now.
     *
     * @return the current values
     * @throws UncheckedIOException when {@code /proc/net/netstat} cannot be read (not Linux)
     */
    public static TfoCounters snapshot() {
        try {
            return parse(Procfs.read(Procfs.NETSTAT));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + Procfs.NETSTAT, e);
        }
    }

    /**
     * Parses the text of a {@code /proc/net/netstat} file, e.g. one read inside a container or another
     * network namespace.
     *
     * @param netstat the whole file's text
     * @return its {@code TCPFastOpen*} counters
     * @throws IllegalArgumentException when {@code netstat} has no well-formed {@code TcpExt} section
     */
    public static TfoCounters parse(String netstat) {
        requireNonNull(netstat, "netstat");
        Map<String, Long> tfo = new LinkedHashMap<>();
        Procfs.parseTcpExt(netstat).forEach((name, value) -> {
            if (name.startsWith("TCPFastOpen")) {
                tfo.put(name, value);
            }
        });
        return new TfoCounters(tfo);
    }

    /**
     * This snapshot minus an earlier one: what happened in between.
     *
     * @param earlier the snapshot taken before
     * @return each counter's increase since {@code earlier}
     */
    public TfoCounters minus(TfoCounters earlier) {
        requireNonNull(earlier, "earlier");
        Map<String, Long> diff = new LinkedHashMap<>();
        values.forEach((name, value) -> diff.put(name, value - earlier.get(name)));
        return new TfoCounters(diff);
    }

    /**
     * One counter by its kernel name (e.g. {@code "TCPFastOpenPassive"}); 0 when this kernel has no such
     * counter.
     *
     * @param name the counter's name
     * @return its value
     */
    public long get(String name) {
        requireNonNull(name, "name");
        return values.getOrDefault(name, 0L);
    }

    /**
     * Every {@code TCPFastOpen*} counter, in the kernel's order.
     *
     * @return an unmodifiable map of kernel name to value
     */
    public Map<String, Long> asMap() {
        return values;
    }

    /**
     * The {@value #ACTIVE} counter.
     *
     * @return its value
     */
    public long active() {
        return get(ACTIVE);
    }

    /**
     * The {@value #ACTIVE_FAIL} counter.
     *
     * @return its value
     */
    public long activeFail() {
        return get(ACTIVE_FAIL);
    }

    /**
     * The {@value #PASSIVE} counter.
     *
     * @return its value
     */
    public long passive() {
        return get(PASSIVE);
    }

    /**
     * The {@value #PASSIVE_FAIL} counter.
     *
     * @return its value
     */
    public long passiveFail() {
        return get(PASSIVE_FAIL);
    }

    /**
     * The {@value #LISTEN_OVERFLOW} counter.
     *
     * @return its value
     */
    public long listenOverflow() {
        return get(LISTEN_OVERFLOW);
    }

    /**
     * The {@value #COOKIE_REQD} counter.
     *
     * @return its value
     */
    public long cookieReqd() {
        return get(COOKIE_REQD);
    }

    /**
     * The {@value #BLACKHOLE} counter.
     *
     * @return its value
     */
    public long blackhole() {
        return get(BLACKHOLE);
    }

    /**
     * The {@value #PASSIVE_ALT_KEY} counter.
     *
     * @return its value
     */
    public long passiveAltKey() {
        return get(PASSIVE_ALT_KEY);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TfoCounters && values.equals(((TfoCounters) o).values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    /**
     * The counters without their {@code TCPFastOpen} prefix.
     *
     * @return e.g. {@code Active=3 ActiveFail=0 ...}
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        values.forEach((name, value) -> {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(name.substring("TCPFastOpen".length())).append('=').append(value);
        });
        return sb.toString();
    }
}
