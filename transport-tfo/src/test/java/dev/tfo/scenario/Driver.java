package dev.tfo.scenario;

import dev.tfo.testkit.Host;
import dev.tfo.testkit.HostProcess;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/** Drives an agent process over stdin and parses its answers (scenario helper). */
final class Driver {
    /** How long an agent JVM may take to start. */
    static final Duration START = Duration.ofSeconds(20);

    private final HostProcess process;
    private int seen;

    Driver(HostProcess process) {
        this.process = process;
    }

    /** Starts a {@link ServerAgent} on {@code host} and waits until it listens. */
    static Driver server(Host host, String... args) {
        Driver d = new Driver(host.startJava(ServerAgent.class, args));
        d.process.awaitLine(l -> l.startsWith("LISTENING "), START);
        return d;
    }

    /** Starts a {@link ClientAgent} on {@code host}. */
    static Driver client(Host host, String... args) {
        return new Driver(host.startJava(ClientAgent.class, args));
    }

    HostProcess process() {
        return process;
    }

    /** Sends a command and returns the lines printed up to and including the first matching one. */
    synchronized List<String> command(String command, Predicate<String> last, Duration timeout) {
        int from = seen;
        process.send(command);
        int[] index = new int[1];
        process.awaitLine(new Predicate<>() {
            int i;

            @Override
            public boolean test(String l) {
                int me = i++;
                if (me >= from && last.test(l)) {
                    index[0] = me;
                    return true;
                }
                return false;
            }
        }, timeout);
        List<String> lines = process.lines();
        seen = index[0] + 1;
        return new ArrayList<>(lines.subList(from, seen));
    }

    /** {@code RUN n concurrency size} on a client agent. */
    Run run(int n, int concurrency, int size, Duration timeout) {
        return new Run(command("RUN " + n + " " + concurrency + " " + size, l -> l.startsWith("DONE "), timeout));
    }

    /** {@code FDS} on either agent: the number of file descriptors the agent's JVM holds open. */
    int fds() {
        List<String> lines = command("FDS", l -> l.startsWith("FDS "), Duration.ofSeconds(10));
        return Integer.parseInt(lines.get(lines.size() - 1).substring(4).trim());
    }

    /** {@code STATS} on a server agent: how many children it accepted with each server outcome so far. */
    Map<String, Long> acceptedOutcomes() {
        List<String> lines = command("STATS", l -> l.startsWith("STATS "), Duration.ofSeconds(10));
        String line = lines.get(lines.size() - 1);
        String map = line.substring(line.indexOf("outcomes={") + "outcomes={".length(), line.lastIndexOf('}'));
        Map<String, Long> m = new TreeMap<>();
        for (String kv : map.split(",")) {
            if (!kv.isBlank()) {
                String[] p = kv.trim().split("=");
                m.put(p[0], Long.parseLong(p[1]));
            }
        }
        return m;
    }

    /** One {@code RESULT}/{@code FAIL} line. */
    static final class Conn {
        final int index;
        final String outcome;   // or "FAIL"
        final boolean intact;
        final long bytes;
        final long millis;
        final String rest;      // reason, or exception and message

        Conn(String line) {
            String[] p = line.split(" ", 6);
            index = Integer.parseInt(p[1]);
            if (p[0].equals("FAIL")) {
                outcome = "FAIL";
                intact = false;
                bytes = 0;
                millis = Long.parseLong(p[3]);
                rest = p[2] + " " + (p.length > 4 ? p[4] + (p.length > 5 ? " " + p[5] : "") : "");
            } else {
                outcome = p[2];
                intact = Boolean.parseBoolean(p[3]);
                bytes = Long.parseLong(p[4]);
                String[] q = p[5].split(" ", 2);
                millis = Long.parseLong(q[0]);
                rest = q.length > 1 ? q[1] : "";
            }
        }

        @Override
        public String toString() {
            return "#" + index + " " + outcome + " intact=" + intact + " " + bytes + "B " + millis + "ms " + rest;
        }
    }

    /** The result of a RUN. */
    static final class Run {
        final List<String> lines;
        final List<Conn> conns = new ArrayList<>();
        final int n;
        final int ok;
        final int failed;
        final long millis;
        final String outcomes;

        Run(List<String> lines) {
            this.lines = lines;
            for (String l : lines) {
                if (l.startsWith("RESULT ") || l.startsWith("FAIL ")) {
                    conns.add(new Conn(l));
                }
            }
            conns.sort((x, y) -> Integer.compare(x.index, y.index));
            String[] d = lines.get(lines.size() - 1).split(" ");
            n = Integer.parseInt(d[1]);
            ok = Integer.parseInt(d[2]);
            failed = Integer.parseInt(d[3]);
            millis = Long.parseLong(d[4]);
            outcomes = d.length > 5 ? d[5] : "";
        }

        Conn single() {
            if (conns.size() != 1) {
                throw new AssertionError("expected one connection: " + lines);
            }
            return conns.get(0);
        }

        @Override
        public String toString() {
            return "Run(n=" + n + " ok=" + ok + " failed=" + failed + " " + millis + "ms " + outcomes + ")\n"
                    + String.join("\n", lines);
        }
    }
}
