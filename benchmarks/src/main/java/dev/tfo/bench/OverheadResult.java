package dev.tfo.bench;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Rounds of {@link OverheadBench}: connections per second and bytes allocated per connection. */
final class OverheadResult {
    record Round(long nanos, long allocated, long active, long failures, long cpuNanos) {
    }

    final int connections;
    final int concurrency;
    final Map<Variant, List<Round>> rounds = new EnumMap<>(Variant.class);

    OverheadResult(int connections, int concurrency) {
        this.connections = connections;
        this.concurrency = concurrency;
        for (Variant v : Variant.values()) {
            rounds.put(v, new ArrayList<>());
        }
    }

    void add(Variant v, long nanos, long allocated, long active, long failures, long cpuNanos) {
        rounds.get(v).add(new Round(nanos, allocated, active, failures, cpuNanos));
    }

    /** CPU time of the client's threads per connection, microseconds, each round. */
    Percentiles cpuMicrosPerConnection(Variant v) {
        return new Percentiles(rounds.get(v).stream().mapToDouble(r -> r.cpuNanos() / 1e3 / connections).toArray());
    }

    /** Hand-written client CPU per connection over TfoBootstraps' (median of per-round ratios). */
    double cpuRatio() {
        List<Round> h = rounds.get(Variant.HAND_TFO);
        List<Round> t = rounds.get(Variant.TFO_BOOTSTRAPS);
        int n = Math.min(h.size(), t.size());
        double[] r = new double[n];
        for (int i = 0; i < n; i++) {
            r[i] = (double) h.get(i).cpuNanos() / t.get(i).cpuNanos();
        }
        return new Percentiles(r).median();
    }

    /** Connections per second of each round. */
    Percentiles connsPerSecond(Variant v) {
        return new Percentiles(rounds.get(v).stream().mapToDouble(r -> connections * 1e9 / r.nanos()).toArray());
    }

    /** Bytes allocated by the client threads per connection, each round. */
    Percentiles bytesPerConnection(Variant v) {
        return new Percentiles(rounds.get(v).stream().mapToDouble(r -> (double) r.allocated() / connections)
                .toArray());
    }

    double hitRate(Variant v) {
        List<Round> rs = rounds.get(v);
        return rs.stream().mapToLong(Round::active).sum() / (double) (rs.size() * (long) connections);
    }

    long failures(Variant v) {
        return rounds.get(v).stream().mapToLong(Round::failures).sum();
    }

    /** Helper conn/s over hand-written conn/s: the median of the per-round ratios (rounds are interleaved). */
    double ratio() {
        List<Round> h = rounds.get(Variant.HAND_TFO);
        List<Round> t = rounds.get(Variant.TFO_BOOTSTRAPS);
        int n = Math.min(h.size(), t.size());
        double[] r = new double[n];
        for (int i = 0; i < n; i++) {
            r[i] = (double) h.get(i).nanos() / t.get(i).nanos();
        }
        return new Percentiles(r).median();
    }

    double extraBytes() {
        return bytesPerConnection(Variant.TFO_BOOTSTRAPS).median() - bytesPerConnection(Variant.HAND_TFO).median();
    }

    boolean valid() {
        for (Variant v : Variant.values()) {
            if (rounds.get(v).isEmpty() || failures(v) > 0) {
                return false;
            }
        }
        return hitRate(Variant.PLAIN) == 0 && hitRate(Variant.HAND_TFO) >= 1.0
                && hitRate(Variant.TFO_BOOTSTRAPS) >= 1.0;
    }

    private static String f(String fmt, Object... a) {
        return String.format(Locale.ROOT, fmt, a);
    }

    String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append(f("%d rounds per variant of %d request/response connections (%d in flight), variants interleaved"
                + " (order rotating every round), client on one epoll event loop, server on another in the same"
                + " JVM, loopback of a namespace with tcp_fastopen=3, threads at nice -15 (no realtime: a throughput loop)."
                + " TfoBootstraps runs with its defaults (TfoBootstraps.client(bootstrap): the shared TfoBackoff)."
                + " Allocation = bytes allocated by the client's"
                + " threads (caller + event loop, ThreadMXBean.getThreadAllocatedBytes) / connections.%n%n",
                rounds.get(Variant.HAND_TFO).size(), connections, concurrency));
        sb.append("| variant | conn/s median | conn/s min..max | client CPU us/conn median | bytes/conn median |"
                + " bytes/conn min..max | TFO hit rate | failures |\n|---|---|---|---|---|---|---|---|\n");
        for (Variant v : Variant.values()) {
            Percentiles c = connsPerSecond(v);
            Percentiles b = bytesPerConnection(v);
            sb.append(f("| %s | %.0f | %.0f..%.0f | %.1f | %.0f | %.0f..%.0f | %s | %d |%n", v.title(), c.median(),
                    c.min(), c.max(), cpuMicrosPerConnection(v).median(), b.median(), b.min(), b.max(),
                    Report.pct(hitRate(v)), failures(v)));
        }
        sb.append(f("%nTfoBootstraps / hand-written conn/s (median of per-round ratios): **%.3f**; the same from the"
                + " client threads' CPU time per connection (less sensitive to other load on the machine): **%.3f**;"
                + " extra allocation of TfoBootstraps: **%+.0f bytes/connection**.%n", ratio(), cpuRatio(),
                extraBytes()));
        return sb.toString();
    }

    List<String[]> targets() {
        return List.of(
                Report.row("overhead: TfoBootstraps / hand-written conn/s >= " + Report.OVERHEAD_RATIO,
                        f("%.3f", ratio()), ratio() >= Report.OVERHEAD_RATIO),
                Report.row("overhead: no extra allocation per connection", f("%+.0f B/conn", extraBytes()),
                        extraBytes() <= 0));
    }
}
