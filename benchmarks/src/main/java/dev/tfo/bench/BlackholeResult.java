package dev.tfo.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** The black-hole benchmark: per mode ("without", "with" the backoff) each connection and the total. */
final class BlackholeResult {
    record Conn(double ms, String outcome) {
    }

    final int connections;
    final int rttMs;
    final long droppedByWire;
    String primeOutcome = "?";
    final Map<String, List<Conn>> conns = new LinkedHashMap<>();
    final Map<String, Double> totalMs = new LinkedHashMap<>();
    final Map<String, Long> activeFail = new LinkedHashMap<>();

    BlackholeResult(int connections, int rttMs, long droppedByWire) {
        this.connections = connections;
        this.rttMs = rttMs;
        this.droppedByWire = droppedByWire;
    }

    void add(String mode, double ms, String outcome) {
        conns.computeIfAbsent(mode, k -> new ArrayList<>()).add(new Conn(ms, outcome));
    }

    void total(String mode, double ms, long fails) {
        totalMs.put(mode, ms);
        activeFail.put(mode, fails);
    }

    double ratio() {
        return totalMs.getOrDefault("with", Double.NaN) / totalMs.getOrDefault("without", Double.NaN);
    }

    long failures(String mode) {
        return conns.getOrDefault(mode, List.of()).stream().filter(c -> c.ms() < 0).count();
    }

    Map<String, Long> outcomes(String mode) {
        Map<String, Long> m = new TreeMap<>();
        for (Conn c : conns.getOrDefault(mode, List.of())) {
            m.merge(c.outcome(), 1L, Long::sum);
        }
        return m;
    }

    /** The harness worked: every connection got its response, the wire really dropped SYN data. */
    boolean valid() {
        return totalMs.containsKey("without") && totalMs.containsKey("with") && failures("without") == 0
                && failures("with") == 0 && droppedByWire > 0
                && conns.get("without").size() == connections && conns.get("with").size() == connections;
    }

    private static String f(String fmt, Object... a) {
        return String.format(Locale.ROOT, fmt, a);
    }

    String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append(f("%d sequential TfoBootstraps request/response connections over a wire of RTT %d ms that drops"
                + " every TCP SYN carrying data (the kernel keeps the cookie, so each TFO attempt waits for the"
                + " SYN retransmission timeout). Cookie priming connection: %s. SYNs with data dropped by the"
                + " wire: %d.%n%n", connections, rttMs, primeOutcome, droppedByWire));
        sb.append("| mode | total s | per connection ms (median) | max ms | ActiveFail delta | TfoResult outcomes |\n"
                + "|---|---|---|---|---|---|\n");
        for (String mode : totalMs.keySet()) {
            double[] ms = conns.get(mode).stream().mapToDouble(Conn::ms).toArray();
            Percentiles p = new Percentiles(ms);
            sb.append(f("| %s backoff (%s) | %.2f | %.1f | %.1f | %d | %s |%n", mode,
                    mode.equals("with") ? "TfoBackoff defaults" : "TfoBackoff.disabled()", totalMs.get(mode) / 1000,
                    p.median(), p.max(), activeFail.get(mode), outcomes(mode)));
        }
        sb.append(f("%nTotal with / without backoff: **%.3f** (%.1fx faster).%n", ratio(), 1 / ratio()));
        return sb.toString();
    }

    List<String[]> targets() {
        return List.<String[]>of(Report.row("black hole: " + connections + " connections with backoff faster than without",
                f("%.2f s vs %.2f s (ratio %.3f)", totalMs.getOrDefault("with", Double.NaN) / 1000,
                        totalMs.getOrDefault("without", Double.NaN) / 1000, ratio()), ratio() < 0.5));
    }
}
