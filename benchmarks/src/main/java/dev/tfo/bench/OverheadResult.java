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

    /**
     * The hand-written variant's client CPU per connection over the library variant's (median of per-round
     * ratios): &gt;= 1 when the library costs no more CPU.
     */
    double cpuRatio(Variant library) {
        return medianRatio(library, Round::cpuNanos);
    }

    private double medianRatio(Variant library, java.util.function.ToLongFunction<Round> cost) {
        List<Round> h = rounds.get(library.handWritten());
        List<Round> t = rounds.get(library);
        int n = Math.min(h.size(), t.size());
        double[] r = new double[n];
        for (int i = 0; i < n; i++) {
            r[i] = (double) cost.applyAsLong(h.get(i)) / cost.applyAsLong(t.get(i));
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

    /**
     * The library variant's conn/s over its hand-written equivalent's: the median of the per-round ratios
     * (rounds are interleaved, so adjacent rounds share the machine's load).
     */
    double ratio(Variant library) {
        return medianRatio(library, Round::nanos);
    }

    /** Bytes per connection the library variant allocates beyond its hand-written equivalent (medians). */
    double extraBytes(Variant library) {
        return bytesPerConnection(library).median() - bytesPerConnection(library.handWritten()).median();
    }

    /** The library variants, each compared with its hand-written equivalent. */
    static List<Variant> libraryVariants() {
        List<Variant> l = new ArrayList<>();
        for (Variant v : Variant.values()) {
            if (v.library()) {
                l.add(v);
            }
        }
        return l;
    }

    boolean valid() {
        for (Variant v : Variant.values()) {
            if (rounds.get(v).isEmpty() || failures(v) > 0) {
                return false;
            }
        }
        for (Variant v : Variant.values()) {
            if (v.tfo() && hitRate(v) < 1.0) {
                return false;
            }
        }
        return hitRate(Variant.PLAIN) == 0;
    }

    private static String f(String fmt, Object... a) {
        return String.format(Locale.ROOT, fmt, a);
    }

    String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append(f("%d rounds per variant of %d request/response connections (%d in flight), variants interleaved"
                + " (order rotating every round), client on one epoll event loop, server on another in the same"
                + " JVM, loopback of a namespace with tcp_fastopen=3, threads at nice -15 (no realtime: a throughput loop)."
                + " The library variants run with its defaults (TfoChannels.clientFactory with TfoClientOptions.defaults(): the shared TfoBackoff);"
                + " the connect-then-write variants write from the connect future's listener (on the event loop)."
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
        sb.append(f("%nEach library variant against its hand-written equivalent (medians of per-round ratios;"
                + " the CPU ratio is hand-written CPU time per connection over the library's, so >= 1 means the library"
                + " costs no more; it is less sensitive to other load on the machine than conn/s):%n%n"
                + "| library variant | vs hand-written | conn/s ratio | CPU ratio | extra bytes/conn |%n|---|---|---|---|---|%n"));
        for (Variant v : libraryVariants()) {
            sb.append(f("| %s | %s | **%.3f** | **%.3f** | **%+.0f** |%n", v.title(), v.handWritten().title(), ratio(v),
                    cpuRatio(v), extraBytes(v)));
        }
        return sb.toString();
    }

    List<String[]> targets() {
        List<String[]> out = new ArrayList<>();
        for (Variant v : libraryVariants()) {
            String who = "overhead: " + v.title() + " vs " + v.handWritten().title();
            out.add(Report.row(who + ": conn/s ratio >= " + Report.OVERHEAD_RATIO, f("%.3f", ratio(v)),
                    ratio(v) >= Report.OVERHEAD_RATIO));
            out.add(Report.row(who + ": CPU time ratio >= " + Report.OVERHEAD_CPU_RATIO, f("%.3f", cpuRatio(v)),
                    cpuRatio(v) >= Report.OVERHEAD_CPU_RATIO));
            out.add(Report.row(who + ": extra allocation <= +" + Report.OVERHEAD_EXTRA_BYTES + " B/conn",
                    f("%+.0f B/conn", extraBytes(v)), extraBytes(v) <= Report.OVERHEAD_EXTRA_BYTES));
        }
        return out;
    }
}
