package dev.tfo.example.echo;

import dev.tfo.TfoCounters;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/**
 * Human text, e.g.
 * {@code connection 2: sent 26 bytes, echoed 26 bytes intact in 0.412 ms; SYN_DATA_ACKED (the SYN carried data
 * and the server acked it); counters Active+1 Passive+1}.
 */
final class HumanReport implements Report {
    private final PrintStream out;

    HumanReport(PrintStream out) {
        this.out = out;
    }

    @Override
    public void connection(ConnectionResult r) {
        out.println(String.format(Locale.ROOT, "connection %d: sent %d bytes, echoed %d bytes %s in %.3f ms; %s (%s); %s",
                r.index(), r.bytesSent(), r.bytesEchoed(),
                r.intact() ? "intact" : r.firstMismatch() >= 0 ? "CORRUPTED from byte " + r.firstMismatch() : "INCOMPLETE",
                r.elapsedMs(), r.outcome(), r.reason(), counters(r.counters())));
    }

    @Override
    public void summary(Summary summary) {
        out.println(summary.text());
    }

    /** The counters that changed, without their {@code TCPFastOpen} prefix: {@code counters Active+1 Passive+1}. */
    static String counters(TfoCounters delta) {
        if (delta == null) {
            return "counters unavailable";
        }
        StringBuilder sb = new StringBuilder("counters");
        for (Map.Entry<String, Long> e : KernelCounters.of(delta).entrySet()) {
            if (e.getValue() != 0) {
                sb.append(' ').append(e.getKey().replaceFirst("^TCPFastOpen", ""))
                        .append(e.getValue() > 0 ? "+" : "").append(e.getValue());
            }
        }
        return sb.length() == "counters".length() ? "counters unchanged" : sb.toString();
    }
}
