package dev.tfo.bench;

import dev.tfo.testkit.DelayWire;
import dev.tfo.testkit.Host;
import dev.tfo.testkit.HostProcess;

import java.time.Duration;

/** Runs {@link BlackholeClient} over a delay wire (RTT 20 ms) that drops SYNs carrying data. */
final class Blackhole {
    static final int RTT_MS = 20;

    private Blackhole() {
    }

    static BlackholeResult run(BenchMain.Config c, Host client, Host server) {
        DelayWire wire = DelayWire.between(client, server, Duration.ofMillis(RTT_MS / 2), true);
        BenchMain.log("black hole: " + c.blackholeConnections + " sequential connections without, then with, the"
                + " backoff (RTT " + RTT_MS + " ms, SYNs with data dropped)");
        HostProcess p = client.startJava(BenchMain.JVM, BlackholeClient.class,
                wire.address(server).getHostAddress() + ":" + BenchMain.PORT,
                Integer.toString(c.blackholeConnections), Integer.toString(c.requestBytes),
                Integer.toString(c.responseBytes));
        int code = p.awaitExit(Duration.ofSeconds(60 + 5L * c.blackholeConnections));
        if (code != 0 || !p.lines().contains("DONE")) {
            throw new IllegalStateException("black-hole client failed (exit " + code + ")\n" + p.transcript());
        }
        BenchMain.check(p);
        BlackholeResult r = new BlackholeResult(c.blackholeConnections, RTT_MS, wire.stats().dropped());
        wire.close();
        for (String line : p.lines()) {
            String[] f = line.split(" ");
            switch (f[0]) {
                case "PRIME":
                    r.primeOutcome = f[1];
                    break;
                case "BH":
                    r.add(f[1], Long.parseLong(f[3]) / 1e6, f[4]);
                    break;
                case "BHTOTAL":
                    r.total(f[1], Long.parseLong(f[2]) / 1e6, Long.parseLong(f[3]));
                    break;
                default:
                    break;
            }
        }
        return r;
    }
}
