package dev.tfo.bench;

import dev.tfo.testkit.Host;
import dev.tfo.testkit.HostProcess;

import java.time.Duration;
import java.util.List;

/** Runs {@link AllocationProfileBench} in its namespace (the overhead benchmark's) and parses its profile. */
final class AllocationProfile {
    /** G1 without TLABs: every allocation raises a JFR event (see {@link AllocationProfileBench}). */
    static final List<String> JVM = List.of("-Xms2g", "-Xmx2g", "-XX:+UseG1GC", "-XX:-UseTLAB",
            "-XX:FlightRecorderOptions:stackdepth=128", "-Dio.netty.leakDetection.level=disabled");

    private AllocationProfile() {
    }

    static AllocationResult run(BenchMain.Config c, Host loop) {
        BenchMain.log("allocation profile: " + c.allocConnections + " connections x " + Variant.values().length
                + " variants on loopback (after " + c.allocWarmupRounds + " warm-up rounds), every allocation traced");
        HostProcess p = loop.startJava(JVM, AllocationProfileBench.class, Integer.toString(c.allocWarmupRounds),
                Integer.toString(c.allocConnections), Integer.toString(c.overheadConcurrency),
                Integer.toString(c.requestBytes), Integer.toString(c.responseBytes),
                Integer.toString(c.syscallConnections));
        int code = p.awaitExit(Duration.ofMinutes(15));
        if (code != 0 || !p.lines().contains("DONE")) {
            throw new IllegalStateException("allocation profile failed (exit " + code + ")\n" + p.transcript());
        }
        BenchMain.check(p);
        AllocationResult r = new AllocationResult(c.allocWarmupRounds);
        for (String line : p.lines()) {
            r.parse(line);
        }
        return r;
    }
}
