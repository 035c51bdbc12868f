package dev.tfo.testkit;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the samples of a Prometheus text exposition and sums series as PromQL's {@code sum} does: enough to
 * check what a scrape says (e.g. a TFO hit rate) without a Prometheus server.
 *
 * <pre>{@code
 * Map<String, Double> s = PrometheusText.parse(registry.scrape());
 * double acked = PrometheusText.sum(s, "tfo_connections_total", Map.of("side", "client", "outcome", "SYN_DATA_ACKED"));
 * }</pre>
 */
public final class PrometheusText {
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"([^\"]*)\"");

    private PrometheusText() {
    }

    /**
     * The samples of a scrape, every line of which is a sample, a comment or blank.
     *
     * @param scrape the exposition text
     * @return series ({@code name} or {@code name{labels}}) to value
     * @throws IllegalArgumentException on any other line
     */
    public static Map<String, Double> parse(String scrape) {
        return read(scrape, true);
    }

    /**
     * The samples among lines of any text (e.g. a program's output that also holds other lines), which are
     * skipped.
     *
     * @param text the text
     * @return series to value
     */
    public static Map<String, Double> samplesIn(String text) {
        return read(text, false);
    }

    /**
     * The sum of the samples of {@code name} whose labels include every one of {@code match}.
     *
     * @param samples series to value
     * @param name    the metric name
     * @param match   labels that must be present with these values
     * @return the sum, 0 when none match
     */
    public static double sum(Map<String, Double> samples, String name, Map<String, String> match) {
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

    private static Map<String, Double> read(String text, boolean strict) {
        Map<String, Double> out = new HashMap<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                if (strict) {
                    throw new IllegalArgumentException("not a Prometheus sample: " + line);
                }
                continue;
            }
            try {
                out.put(m.group(1) + (m.group(3) == null ? "" : "{" + m.group(3) + "}"), Double.parseDouble(m.group(4)));
            } catch (NumberFormatException e) {
                if (strict) {
                    throw new IllegalArgumentException("not a Prometheus sample value: " + line, e);
                }
            }
        }
        return out;
    }
}
