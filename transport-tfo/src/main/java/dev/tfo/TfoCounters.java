package dev.tfo;

import dev.tfo.internal.Procfs;

import java.io.IOException;
import java.io.UncheckedIOException;
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
 * <p>A counter this kernel does not have (older kernels lack some) reads 0. Counters are per network namespace: a container's are its own, and a JVM sees those of the namespace
 * it runs in.
 */
public final class TfoCounters {
    private static final String PREFIX = "TCPFastOpen";
    /** The kernel's names, after {@code TCPFastOpen}, in the kernel's order. */
    private static final String[] NAMES = {"Active", "ActiveFail", "Passive", "PassiveFail", "ListenOverflow", "CookieReqd", "Blackhole", "PassiveAltKey"};

    private final long[] values;

    private TfoCounters(long[] values) {
        this.values = values;
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
        Map<String, Long> tcpExt = Procfs.parseTcpExt(netstat);
        long[] values = new long[NAMES.length];
        for (int i = 0; i < NAMES.length; i++) {
            values[i] = tcpExt.getOrDefault(PREFIX + NAMES[i], 0L);
        }
        return new TfoCounters(values);
    }

    /**
     * This snapshot minus an earlier one: what happened in between.
     *
     * @param earlier the snapshot taken before
     * @return each counter's increase since {@code earlier}
     */
    public TfoCounters minus(TfoCounters earlier) {
        requireNonNull(earlier, "earlier");
        long[] diff = new long[NAMES.length];
        for (int i = 0; i < NAMES.length; i++) {
            diff[i] = values[i] - earlier.values[i];
        }
        return new TfoCounters(diff);
    }

    /**
     * {@code TCPFastOpenActive}: Client connections whose data in the SYN the server acknowledged.
     *
     * @return its value
     */
    public long active() {
        return values[0];
    }

    /**
     * {@code TCPFastOpenActiveFail}: Client connections whose data in the SYN was not acknowledged, or whose SYN with data timed out.
     *
     * @return its value
     */
    public long activeFail() {
        return values[1];
    }

    /**
     * {@code TCPFastOpenPassive}: Server connections accepted with data in the SYN.
     *
     * @return its value
     */
    public long passive() {
        return values[2];
    }

    /**
     * {@code TCPFastOpenPassiveFail}: SYNs received with an invalid cookie: their data was ignored.
     *
     * @return its value
     */
    public long passiveFail() {
        return values[3];
    }

    /**
     * {@code TCPFastOpenPassiveAltKey}: Cookies accepted with the backup key.
     *
     * @return its value
     */
    public long passiveAltKey() {
        return values[7];
    }

    /**
     * {@code TCPFastOpenCookieReqd}: SYNs received that asked for a cookie.
     *
     * @return its value
     */
    public long cookieReqd() {
        return values[5];
    }

    /**
     * {@code TCPFastOpenListenOverflow}: SYNs with data that found the listener's TFO queue full: their data was ignored.
     *
     * @return its value
     */
    public long listenOverflow() {
        return values[4];
    }

    /**
     * {@code TCPFastOpenBlackhole}: Times the kernel turned client TFO off after suspecting a black hole.
     *
     * @return its value
     */
    public long blackhole() {
        return values[6];
    }

    /**
     * Every counter, e.g. {@code "Active=3 ActiveFail=0 Passive=3 ..."}: the kernel's names after
     * {@code TCPFastOpen}.
     *
     * @return one line
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < NAMES.length; i++) {
            sb.append(i == 0 ? "" : " ").append(NAMES[i]).append('=').append(values[i]);
        }
        return sb.toString();
    }
}
