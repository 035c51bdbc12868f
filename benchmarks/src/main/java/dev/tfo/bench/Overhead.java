package dev.tfo.bench;

import dev.tfo.testkit.Host;
import dev.tfo.testkit.HostProcess;

import java.time.Duration;

/** Runs {@link OverheadBench} in its namespace and parses its rounds. */
final class Overhead {
    private Overhead() {
    }

    static OverheadResult run(BenchMain.Config c, Host loop) {
        BenchMain.log("overhead: " + c.overheadRounds + " rounds (+" + c.overheadWarmupRounds + " warm-up) x "
                + c.overheadConnections + " connections x " + Variant.values().length + " variants on loopback, " + c.overheadConcurrency
                + " in flight");
        HostProcess p = loop.startJava(BenchMain.JVM, OverheadBench.class, Integer.toString(c.overheadRounds),
                Integer.toString(c.overheadWarmupRounds), Integer.toString(c.overheadConnections),
                Integer.toString(c.overheadConcurrency), Integer.toString(c.requestBytes),
                Integer.toString(c.responseBytes));
        int code = p.awaitExit(Duration.ofMinutes(15));
        if (code != 0 || !p.lines().contains("DONE")) {
            throw new IllegalStateException("overhead benchmark failed (exit " + code + ")\n" + p.transcript());
        }
        BenchMain.check(p);
        OverheadResult r = new OverheadResult(c.overheadConnections, c.overheadConcurrency);
        for (String line : p.lines()) {
            String[] f = line.split(" ");
            if (f[0].equals("ROUND")) {
                r.add(Variant.ofKey(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4]), Long.parseLong(f[5]),
                        Long.parseLong(f[6]), Long.parseLong(f[7]));
            }
        }
        return r;
    }
}
