package dev.tfo.bench;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** The latency samples of one round-trip time, per variant, parsed from {@link LatencyClient}'s output. */
final class LatencyResult {
    /** One measured connection. */
    record Sample(int iteration, double latencyMs, double connectMs, long active, long activeFail, String outcome,
                  double kernelRttMs) {
    }

    final String label;
    final double nominalRttMs;
    final Map<Variant, List<Sample>> samples = new EnumMap<>(Variant.class);
    String primeOutcome = "?";
    String wireStats = "?";

    LatencyResult(String label, double nominalRttMs) {
        this.label = label;
        this.nominalRttMs = nominalRttMs;
        for (Variant v : Variant.values()) {
            samples.put(v, new ArrayList<>());
        }
    }

    /** Parses a {@code SAMPLE label variant iteration latencyNanos connectNanos active activeFail outcome} line. */
    void add(String[] f) {
        Variant v = Variant.ofKey(f[2]);
        samples.get(v).add(new Sample(Integer.parseInt(f[3]), Long.parseLong(f[4]) / 1e6, Long.parseLong(f[5]) / 1e6,
                Long.parseLong(f[6]), Long.parseLong(f[7]), f[8], Long.parseLong(f[9]) / 1e3));
    }

    /** Latencies (ms) of the successful connections of a variant. */
    double[] latencies(Variant v) {
        return samples.get(v).stream().filter(s -> s.latencyMs() >= 0).mapToDouble(Sample::latencyMs).toArray();
    }

    Percentiles percentiles(Variant v) {
        return new Percentiles(latencies(v));
    }

    long failures(Variant v) {
        return samples.get(v).stream().filter(s -> s.latencyMs() < 0).count();
    }

    /** TCPFastOpenActive delta over the variant's connections / its connections. */
    double hitRate(Variant v) {
        List<Sample> s = samples.get(v);
        return s.isEmpty() ? Double.NaN : s.stream().mapToLong(Sample::active).sum() / (double) s.size();
    }

    long activeFail(Variant v) {
        return samples.get(v).stream().mapToLong(Sample::activeFail).sum();
    }

    /** The wire's measured RTT: median time to the plain connect's completion (one handshake). */
    double handshakeRttMs() {
        return new Percentiles(samples.get(Variant.PLAIN).stream().filter(s -> s.connectMs() >= 0)
                .mapToDouble(Sample::connectMs).toArray()).median();
    }

    /**
     * The path's RTT as the client kernel measured it: median {@code tcpi_rtt} of the plain connections
     * (their smoothed RTT once the response is in: handshake and request samples), in ms.
     */
    double kernelRttMs() {
        return new Percentiles(samples.get(Variant.PLAIN).stream().filter(s -> s.kernelRttMs() >= 0)
                .mapToDouble(Sample::kernelRttMs).toArray()).median();
    }

    /** How many of a library variant's connections reported each TfoResult outcome. */
    Map<String, Long> outcomes(Variant v) {
        Map<String, Long> m = new java.util.TreeMap<>();
        for (Sample s : samples.get(v)) {
            m.merge(s.outcome(), 1L, Long::sum);
        }
        return m;
    }
}
