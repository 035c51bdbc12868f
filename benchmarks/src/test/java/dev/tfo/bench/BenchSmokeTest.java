package dev.tfo.bench;

import dev.tfo.testkit.NeedsLab;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A short run of every benchmark (not a timed test): checks that the harness works end to end and that
 * TFO really happened (hit rate 100 % from the kernel's counters), never the timing targets, except lower
 * bounds that physics guarantees (nothing beats the wire's round trip).
 */
@NeedsLab
@Tag("benchmark-smoke")
class BenchSmokeTest {

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void everyBenchmarkRunsAndTfoHitsEveryTime(@TempDir Path out) throws Exception {
        BenchMain.Config c = new BenchMain.Config();
        c.out = out;
        c.iterations = 10;
        c.warmup = 2;
        c.loopbackWarmup = 50;
        c.rtts = List.of(20);
        c.overheadRounds = 2;
        c.overheadWarmupRounds = 1;
        c.overheadConnections = 200;
        c.blackholeConnections = 2;
        c.frameworkIterations = 6;
        c.frameworkLoopbackWarmup = 5;
        c.allocConnections = 200;
        c.allocWarmupRounds = 1;
        c.syscallConnections = 100;

        BenchMain.Results r = BenchMain.run(c);

        assertEquals(1, r.latency.size());
        LatencyResult l = r.latency.get(0);
        String table = Report.markdown(r, c);
        for (Variant v : Variant.values()) {
            assertEquals(10, l.samples.get(v).size(), v + "\n" + table);
            assertEquals(0, l.failures(v), v + " had failed connections\n" + table);
        }
        assertEquals(0.0, l.hitRate(Variant.PLAIN), "plain connections must not use TFO\n" + table);
        for (Variant v : Variant.values()) {
            if (v.tfo()) {
                assertEquals(1.0, l.hitRate(v), v.title() + " hit rate\n" + table);
            }
            if (v.library()) {
                assertEquals(Map.of("SYN_DATA_ACKED", 10L), l.outcomes(v), v.title() + " outcomes\n" + table);
            }
        }
        assertEquals("COOKIE_REQUESTED", l.primeOutcome, table);
        // Lower bounds only: one RTT for TFO, two for plain (the wire cannot be beaten).
        assertTrue(l.percentiles(Variant.TFO_BOOTSTRAPS).min() >= 20.0 * 0.98, table);
        assertTrue(l.percentiles(Variant.PLAIN).min() >= 40.0 * 0.98, table);

        FrameworkResult fw = r.frameworks;
        assertNotNull(fw, table);
        for (FrameworkCase fc : FrameworkCase.values()) {
            assertEquals(6, fw.samples(fc, false).size(), fc + " plain\n" + table);
            assertEquals(6, fw.samples(fc, true).size(), fc + " TFO\n" + table);
            assertEquals(0, fw.failures(fc, false) + fw.failures(fc, true), fc + " had failed requests\n" + table);
            assertEquals(0.0, fw.hitRate(fc, false), fc + ": plain requests must not use TFO\n" + table);
            assertEquals(1.0, fw.hitRate(fc, true), fc + ": TFO hit rate with the README recipe\n" + table);
            assertEquals(Map.of("SYN_DATA_ACKED", 6L), fw.outcomes(fc), fc + " outcomes\n" + table);
            // Lower bounds only: the wire cannot be beaten.
            double rtt = fw.nominalRttMs;
            assertTrue(fw.percentiles(fc, true).min() >= fc.tfoRtts() * rtt * 0.98, fc + "\n" + table);
            assertTrue(fw.percentiles(fc, false).min() >= fc.plainRtts() * rtt * 0.98, fc + "\n" + table);
        }
        assertTrue(fw.valid(), table);
        assertEquals("COOKIE_REQUESTED", fw.primeOutcomes.get(FrameworkCase.GET), table);

        assertNotNull(r.overhead, table);
        assertTrue(r.overhead.valid(), "overhead benchmark:\n" + table);

        AllocationResult alloc = r.alloc;
        assertNotNull(alloc, table);
        assertTrue(alloc.valid(), "allocation profile (events must agree with the JVM's count):\n" + table);
        for (Variant v : OverheadResult.libraryVariants()) {
            assertEquals(200, alloc.types.get(v).get("dev.tfo.SynGate").objects(), v + ": one gate per connection\n"
                    + table);
            assertTrue(alloc.syscallsPerConnection(v) > 5, v + ": system calls counted\n" + table);
        }

        assertNotNull(r.blackhole, table);
        assertTrue(r.blackhole.valid(), "black-hole benchmark:\n" + table);

        Path png = out.resolve("latency.png");
        Report.chart(r, png);
        assertTrue(Files.size(png) > 10_000, "chart written");
        Path frameworks = out.resolve("frameworks.png");
        Report.frameworkChart(fw, frameworks);
        assertTrue(Files.size(frameworks) > 10_000, "framework chart written");
        String csv = BenchMain.samplesCsv(r);
        assertEquals(1 + 10 * Variant.values().length + 6 * 2 * FrameworkCase.values().length,
                csv.split("\n").length, "one CSV line per sample");
    }
}
