package dev.tfo.bench;

import dev.tfo.testkit.NeedsLab;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
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

        BenchMain.Results r = BenchMain.run(c);

        assertEquals(1, r.latency.size());
        LatencyResult l = r.latency.get(0);
        String table = Report.markdown(r, c);
        for (Variant v : Variant.values()) {
            assertEquals(10, l.samples.get(v).size(), v + "\n" + table);
            assertEquals(0, l.failures(v), v + " had failed connections\n" + table);
        }
        assertEquals(0.0, l.hitRate(Variant.PLAIN), "plain connections must not use TFO\n" + table);
        assertEquals(1.0, l.hitRate(Variant.HAND_TFO), "hand-written TFO hit rate\n" + table);
        assertEquals(1.0, l.hitRate(Variant.TFO_BOOTSTRAPS), "TfoBootstraps hit rate\n" + table);
        assertEquals("COOKIE_REQUESTED", l.primeOutcome, table);
        // Lower bounds only: one RTT for TFO, two for plain (the wire cannot be beaten).
        assertTrue(l.percentiles(Variant.TFO_BOOTSTRAPS).min() >= 20.0 * 0.98, table);
        assertTrue(l.percentiles(Variant.PLAIN).min() >= 40.0 * 0.98, table);

        assertNotNull(r.overhead, table);
        assertTrue(r.overhead.valid(), "overhead benchmark:\n" + table);

        assertNotNull(r.blackhole, table);
        assertTrue(r.blackhole.valid(), "black-hole benchmark:\n" + table);

        Path png = out.resolve("latency.png");
        Report.chart(r, png);
        assertTrue(Files.size(png) > 10_000, "chart written");
    }
}
