package dev.tfo.example.echo;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the TFO samples of a Prometheus text exposition, and sums series as PromQL's {@code sum} would. */
final class Prometheus {
    private static final Pattern SAMPLE = Pattern.compile("^(tfo_[a-z_]+)(\\{([^}]*)})? (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("([a-z_]+)=\"([^\"]*)\"");

    private Prometheus() {
    }

    /** Every {@code tfo_*} sample among {@code text}'s lines (other lines are skipped): series to value. */
    static Map<String, Double> samples(String text) {
        Map<String, Double> out = new HashMap<>();
        for (String line : text.split("\n")) {
            Matcher m = SAMPLE.matcher(line.strip());
            if (m.matches()) {
                out.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.parseDouble(m.group(4)));
            }
        }
        return out;
    }

    /** The sum of the samples of {@code name} whose labels include every one of {@code match}. */
    static double sum(Map<String, Double> samples, String name, Map<String, String> match) {
        double total = 0;
        for (Map.Entry<String, Double> e : samples.entrySet()) {
            String series = e.getKey();
            if (!series.equals(name) && !series.startsWith(name + "{")) {
                continue;
            }
            Map<String, String> labels = new HashMap<>();
            Matcher m = LABEL.matcher(series);
            while (m.find()) {
                labels.put(m.group(1), m.group(2));
            }
            if (labels.entrySet().containsAll(match.entrySet())) {
                total += e.getValue();
            }
        }
        return total;
    }
}
