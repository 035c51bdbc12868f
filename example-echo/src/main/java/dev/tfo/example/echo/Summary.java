package dev.tfo.example.echo;

import dev.tfo.TfoOutcome;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The totals of a client run, and their one-line wording, e.g.
 * {@code 9/10 connections carried data in the SYN; 1 requested a cookie}.
 *
 * @param connections how many connections were made
 * @param intact      how many were echoed back intact
 * @param outcomes    how many connections ended with each TFO outcome (only outcomes that occurred)
 */
public record Summary(int connections, int intact, Map<TfoOutcome, Integer> outcomes) {

    /** Totals of {@code results}. */
    public static Summary of(List<ConnectionResult> results) {
        Map<TfoOutcome, Integer> outcomes = new EnumMap<>(TfoOutcome.class);
        int intact = 0;
        for (ConnectionResult r : results) {
            outcomes.merge(r.outcome(), 1, Integer::sum);
            intact += r.intact() ? 1 : 0;
        }
        return new Summary(results.size(), intact, Map.copyOf(outcomes));
    }

    /** How many connections carried data in the SYN (the round trip was saved). */
    public int dataInSyn() {
        int n = 0;
        for (Map.Entry<TfoOutcome, Integer> e : outcomes.entrySet()) {
            n += e.getKey().dataInSyn() ? e.getValue() : 0;
        }
        return n;
    }

    /** How many ended with {@code outcome}. */
    public int count(TfoOutcome outcome) {
        return outcomes.getOrDefault(outcome, 0);
    }

    /** Whether every connection was echoed intact. */
    public boolean allIntact() {
        return intact == connections;
    }

    /** The summary line. */
    public String text() {
        StringBuilder sb = new StringBuilder()
                .append(dataInSyn()).append('/').append(connections)
                .append(connections == 1 ? " connection" : " connections").append(" carried data in the SYN");
        part(sb, count(TfoOutcome.COOKIE_REQUESTED), "requested a cookie");
        part(sb, count(TfoOutcome.DATA_NOT_ACKED), "had its SYN data not acked by the server");
        part(sb, count(TfoOutcome.SYN_RETRANSMITTED), "had its SYN with data retransmitted");
        part(sb, count(TfoOutcome.NOT_ATTEMPTED), "did not attempt TFO");
        part(sb, connections - intact, "NOT echoed intact");
        return sb.toString();
    }

    private static void part(StringBuilder sb, int count, String what) {
        if (count > 0) {
            sb.append("; ").append(count).append(' ').append(what);
        }
    }
}
