package dev.tfo.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** The allocation profile of {@link AllocationProfileBench}: per variant, per object type and per site. */
final class AllocationResult {
    /** Objects and bytes of one type (or one site) over a variant's connections. */
    record Count(long objects, long bytes) {
    }

    /** One variant's totals. */
    record Totals(int connections, long threadBytes, long eventBytes, long events, long failures, long active) {
    }

    /** An allocation site under a library frame: the innermost library frame and the allocating frame. */
    record Site(String type, String libraryFrame, String topFrame, Count count) {
    }

    final Map<Variant, Totals> totals = new EnumMap<>(Variant.class);
    final Map<Variant, Map<String, Count>> types = new EnumMap<>(Variant.class);
    final Map<Variant, List<Site>> sites = new EnumMap<>(Variant.class);
    /** Per variant: system call name -> {calls, errors}; and the connections they were counted over. */
    final Map<Variant, Map<String, long[]>> syscalls = new EnumMap<>(Variant.class);
    final Map<Variant, Integer> syscallConnections = new EnumMap<>(Variant.class);
    final Map<Variant, Long> syscallFailures = new EnumMap<>(Variant.class);
    final int warmupRounds;

    AllocationResult(int warmupRounds) {
        this.warmupRounds = warmupRounds;
        for (Variant v : Variant.values()) {
            types.put(v, new HashMap<>());
            syscalls.put(v, new TreeMap<>());
            sites.put(v, new ArrayList<>());
        }
    }

    /** Parses one tab-separated line of {@link AllocationProfileBench}'s output. */
    void parse(String line) {
        String[] f = line.split("\t");
        switch (f[0]) {
            case "ALLOC":
                totals.put(Variant.ofKey(f[1]), new Totals(Integer.parseInt(f[2]), Long.parseLong(f[3]),
                        Long.parseLong(f[4]), Long.parseLong(f[5]), Long.parseLong(f[6]), Long.parseLong(f[7])));
                break;
            case "TYPE":
                types.get(Variant.ofKey(f[1])).put(f[2], new Count(Long.parseLong(f[3]), Long.parseLong(f[4])));
                break;
            case "SITE":
                sites.get(Variant.ofKey(f[1])).add(new Site(f[2], f[3], f[4],
                        new Count(Long.parseLong(f[5]), Long.parseLong(f[6]))));
                break;
            case "SYSCALL": {
                Variant v = Variant.ofKey(f[1]);
                syscallConnections.put(v, Integer.parseInt(f[2]));
                syscalls.get(v).put(f[3], new long[] {Long.parseLong(f[4]), Long.parseLong(f[5])});
                syscallFailures.put(v, Long.parseLong(f[6]));
                break;
            }
            default:
                break;
        }
    }

    /** System calls of the client's threads per connection, all kinds together. */
    double syscallsPerConnection(Variant v) {
        Integer n = syscallConnections.get(v);
        return n == null ? Double.NaN
                : syscalls.get(v).values().stream().mapToLong(c -> c[0]).sum() / (double) n;
    }

    double perConnection(Variant v, long value) {
        return (double) value / totals.get(v).connections();
    }

    /** Bytes per connection, from the JFR events. */
    double bytesPerConnection(Variant v) {
        return perConnection(v, totals.get(v).eventBytes());
    }

    /** Extra bytes per connection of a library variant over its hand-written equivalent. */
    double extraBytes(Variant library) {
        return bytesPerConnection(library) - bytesPerConnection(library.handWritten());
    }

    /** Every variant profiled, no failures, TFO every time where expected, events agreeing with the JVM's count. */
    boolean valid() {
        for (Variant v : Variant.values()) {
            Totals t = totals.get(v);
            if (!syscallConnections.isEmpty() && (!syscallConnections.containsKey(v) || syscallFailures.get(v) > 0)) {
                return false;
            }
            if (t == null || t.failures() > 0 || (v.tfo() ? t.active() < t.connections() : t.active() != 0)
                    || Math.abs(t.eventBytes() - t.threadBytes()) > Math.max(0.01 * t.threadBytes(), 64 * 1024)) {
                return false;
            }
        }
        return true;
    }

    private static String f(String fmt, Object... a) {
        return String.format(Locale.ROOT, fmt, a);
    }

    String markdown() {
        StringBuilder sb = new StringBuilder();
        Totals any = totals.values().iterator().next();
        sb.append(f("Exact, per connection: %d connections per variant (after %d warm-up rounds of 500 per variant),"
                + " the overhead benchmark's connections (loopback, 8 in flight, one client event loop) in a JVM with G1"
                + " and -XX:-UseTLAB, so that EVERY allocation of compiled and interpreted code takes the slow path and"
                + " raises a JFR jdk.ObjectAllocationOutsideTLAB event (class, size, stack trace); escape analysis still"
                + " removes what it removes in production. Counted: the client's threads (caller and event loop). The"
                + " JVM's own count of the same threads (ThreadMXBean) is shown as a check.%n%n", any.connections(),
                warmupRounds));
        sb.append("| variant | bytes/conn (events) | bytes/conn (ThreadMXBean) | objects/conn | TFO hit rate |\n"
                + "|---|---|---|---|---|\n");
        for (Variant v : Variant.values()) {
            Totals t = totals.get(v);
            sb.append(f("| %s | %.0f | %.0f | %.1f | %s |%n", v.title(), perConnection(v, t.eventBytes()),
                    perConnection(v, t.threadBytes()), perConnection(v, t.events()),
                    Report.pct((double) t.active() / t.connections())));
        }
        if (!syscallConnections.isEmpty()) {
            sb.append(f("%nSystem calls of the client's two threads per connection (strace -c attached to exactly those"
                    + " threads, %d connections per variant; errors in parentheses: e.g. EINPROGRESS from connect, EAGAIN"
                    + " from read; calls rarer than 0.05 per connection are left out of the rows but not the totals):"
                    + "%n%n| system call |", syscallConnections.values().iterator().next()));
            Set<String> names = new TreeSet<>();
            for (Variant v : Variant.values()) {
                sb.append(' ').append(v.title()).append(" |");
                names.addAll(syscalls.get(v).keySet());
            }
            sb.append("\n|---|");
            for (Variant v : Variant.values()) {
                sb.append("---|");
            }
            sb.append('\n');
            for (String name : names) {
                double most = 0;
                for (Variant v : Variant.values()) {
                    long[] c = syscalls.get(v).get(name);
                    most = Math.max(most, c == null ? 0 : c[0] / (double) syscallConnections.getOrDefault(v, 1));
                }
                if (most < 0.05) {
                    continue; // the event loop's rare housekeeping; still in the totals
                }
                sb.append("| ").append(name).append(" |");
                for (Variant v : Variant.values()) {
                    long[] c = syscalls.get(v).get(name);
                    int n = syscallConnections.getOrDefault(v, 1);
                    sb.append(c == null ? " - |" : c[1] == 0 ? f(" %.2f |", c[0] / (double) n)
                            : f(" %.2f (%.2f) |", c[0] / (double) n, c[1] / (double) n));
                }
                sb.append('\n');
            }
            sb.append("| **total** |");
            for (Variant v : Variant.values()) {
                sb.append(f(" **%.2f** |", syscallsPerConnection(v)));
            }
            sb.append('\n');
        }
        for (Variant lib : OverheadResult.libraryVariants()) {
            Variant hand = lib.handWritten();
            sb.append(f("%n### %s: %+.0f bytes/connection over %s%n%n", lib.title(), extraBytes(lib), hand.title()));
            sb.append("Per object type, the difference (rows of at least 1 byte per connection either way; their sum is"
                    + " the total). \"Library sites\": the innermost library frame on the allocation's stack ->"
                    + " the allocating frame, objects per connection (only allocations with a library frame on the"
                    + " stack; Netty's own work done inside a library call, e.g. the connect, shows up there too).\n\n");
            sb.append("| object type | library objs/conn | library B/conn | hand-written objs/conn | hand-written B/conn |"
                    + " difference B/conn | library sites |\n|---|---|---|---|---|---|---|\n");
            Set<String> keys = new TreeSet<>(types.get(lib).keySet());
            keys.addAll(types.get(hand).keySet());
            List<String[]> rows = new ArrayList<>();
            List<Double> order = new ArrayList<>();
            for (String type : keys) {
                Count l = types.get(lib).getOrDefault(type, new Count(0, 0));
                Count h = types.get(hand).getOrDefault(type, new Count(0, 0));
                double delta = perConnection(lib, l.bytes()) - perConnection(hand, h.bytes());
                if (Math.abs(delta) < 1) {
                    continue;
                }
                rows.add(new String[] {type, f("%.2f", perConnection(lib, l.objects())),
                        f("%.0f", perConnection(lib, l.bytes())), f("%.2f", perConnection(hand, h.objects())),
                        f("%.0f", perConnection(hand, h.bytes())), f("%+.0f", delta), sitesOf(lib, type)});
                order.add(delta);
            }
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < rows.size(); i++) {
                idx.add(i);
            }
            idx.sort(Comparator.comparing((Integer i) -> -order.get(i)));
            for (int i : idx) {
                sb.append("| `").append(rows.get(i)[0]).append("` | ");
                for (int k = 1; k < 7; k++) {
                    sb.append(rows.get(i)[k]).append(k < 6 ? " | " : " |\n");
                }
            }
        }
        return sb.toString();
    }

    /** The library sites of a type, largest first, at most four. */
    private String sitesOf(Variant v, String type) {
        List<Site> s = new ArrayList<>();
        for (Site site : sites.get(v)) {
            if (site.type().equals(type)) {
                s.add(site);
            }
        }
        s.sort(Comparator.comparing((Site x) -> -x.count().bytes()));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(4, s.size()); i++) {
            Site x = s.get(i);
            sb.append(i > 0 ? "; " : "").append('`').append(x.libraryFrame()).append("` -> `").append(x.topFrame())
                    .append('`').append(f(" %.2f", perConnection(v, x.count().objects())));
        }
        if (s.size() > 4) {
            sb.append(f("; +%d more", s.size() - 4));
        }
        return sb.length() == 0 ? "-" : sb.toString();
    }
}
