package dev.tfo.bench;

import dev.tfo.testkit.DelayWire;
import dev.tfo.testkit.Host;
import dev.tfo.testkit.HostProcess;
import dev.tfo.testkit.Lab;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The example client ({@code java -jar example-echo.jar}) of two builds side by side, e.g. before and after
 * {@code TfoBootstraps.connect} stopped configuring a clone of an unconfigured bootstrap (a probe socket, opened and
 * closed, per connection): the client clones its bootstrap with a per-connection handler for every connection.
 *
 * <p>Measured, in a {@link Lab} (client and server namespaces, {@code tcp_fastopen=3}, the "after" jar's server
 * with {@code --listen-only} in the server namespace):
 * <ul>
 *   <li>system calls per connection: {@code strace -f -c --seccomp-bpf} of the whole client JVM, for
 *       {@code --count 1} and {@code --count 1+N}; the difference divided by N (JVM start-up cancels out);</li>
 *   <li>time per connection through a {@link DelayWire} of RTT 20 ms, and on the server namespace's loopback:
 *       the client's own {@code elapsedMs} (connect call to the last echoed byte) from {@code --json}, the
 *       first connections of each JVM left out (JIT warm-up), runs of the two builds alternating.</li>
 * </ul>
 *
 * <pre>
 *   benchmarks/example-before-after.sh [COMMIT]      (root; builds the example at COMMIT, default f2ee2c7)
 *   java -cp ... dev.tfo.bench.ExampleBeforeAfter BEFORE_LABEL BEFORE_JAR AFTER_LABEL AFTER_JAR OUT_MD [RUNS]
 *       [CONNECTIONS]
 * </pre>
 */
public final class ExampleBeforeAfter {
    static final int PORT = 2222;
    static final List<String> SYSCALLS = List.of("socket", "close", "connect", "sendto", "setsockopt", "getsockopt");
    private static final Pattern ELAPSED = Pattern.compile("\"elapsedMs\":([0-9.]+)");
    private static final Pattern OUTCOME = Pattern.compile("\"outcome\":\"([A-Z_]+)\"");

    private ExampleBeforeAfter() {
    }

    /** The connections of one build: elapsed times and outcomes. */
    static final class Timing {
        final List<Double> ms = new ArrayList<>();
        final Map<String, Integer> outcomes = new TreeMap<>();
    }

    /**
     * @param args before label, before jar, after label, after jar, output markdown file, runs per build (default 3),
     *             connections per run (default 60)
     */
    public static void main(String[] args) throws Exception {
        String beforeLabel = args[0];
        Path before = Path.of(args[1]).toAbsolutePath();
        String afterLabel = args[2];
        Path after = Path.of(args[3]).toAbsolutePath();
        Path out = Path.of(args[4]);
        int runs = args.length > 5 ? Integer.parseInt(args[5]) : 3;
        int connections = args.length > 6 ? Integer.parseInt(args[6]) : 60;
        int skip = 10;
        Map<String, Path> jars = new LinkedHashMap<>();
        jars.put("before", before);
        jars.put("after", after);
        StringBuilder md = new StringBuilder();
        try (Lab lab = Lab.create()) {
            Host client = lab.host("ex-client").sysctl("net.ipv4.tcp_fastopen", "3");
            Host server = lab.host("ex-server").sysctl("net.ipv4.tcp_fastopen", "3");
            DelayWire wire = DelayWire.between(client, server, Duration.ofMillis(10));
            String ip = wire.address(server).getHostAddress();
            HostProcess srv = server.start("java", "-jar", after.toString(), "--listen-only", "--port",
                    Integer.toString(PORT));
            srv.awaitLine(l -> l.contains("listening"), Duration.ofSeconds(60));

            // System calls per connection.
            Map<String, Map<String, Double>> perConnection = new LinkedHashMap<>();
            int n = 100;
            for (Map.Entry<String, Path> jar : jars.entrySet()) {
                Map<String, Long> one = strace(client, jar.getValue(), ip, 1);
                Map<String, Long> many = strace(client, jar.getValue(), ip, 1 + n);
                Map<String, Double> d = new LinkedHashMap<>();
                for (String s : SYSCALLS) {
                    d.put(s, (many.getOrDefault(s, 0L) - one.getOrDefault(s, 0L)) / (double) n);
                }
                perConnection.put(jar.getKey(), d);
                log(jar.getKey() + ": system calls per connection " + d);
            }

            // Time per connection, through the wire and on loopback; the builds alternate.
            Map<String, Timing> wired = new LinkedHashMap<>();
            Map<String, Timing> loop = new LinkedHashMap<>();
            for (String k : jars.keySet()) {
                wired.put(k, new Timing());
                loop.put(k, new Timing());
            }
            for (int r = 0; r < runs; r++) {
                for (Map.Entry<String, Path> jar : jars.entrySet()) {
                    echo(client, jar.getValue(), ip, connections, skip, wired.get(jar.getKey()));
                    echo(server, jar.getValue(), "127.0.0.1", connections * 10, skip * 10, loop.get(jar.getKey()));
                }
                log("run " + (r + 1) + "/" + runs + " done");
            }
            srv.close();

            md.append("# The example client before and after\n\n");
            md.append(f("- Date: %s; machine: %s.%n", java.time.ZonedDateTime.now().withNano(0), Machine.describe()));
            md.append(f("- before: %s; after: %s.%n", beforeLabel, afterLabel));
            md.append("- `java -jar example-echo.jar --server IP --port 2222 --count N --json`: one JVM, N sequential"
                    + " connections, each `TfoBootstraps.connect(bootstrap.clone().handler(check), server, payload)` on channels from `TfoChannels.clientFactory`"
                    + " (the default 21-byte message), against the after build's `--listen-only` server.\n\n");
            md.append(f("## System calls per connection%n%n`strace -f -c --seccomp-bpf -e trace=%s` of the whole"
                    + " client JVM: (calls with --count %d - calls with --count 1) / %d.%n%n| system call | before |"
                    + " after |%n|---|---|---|%n", String.join(",", SYSCALLS), 1 + n, n));
            for (String s : SYSCALLS) {
                md.append(f("| %s | %.2f | %.2f |%n", s, perConnection.get("before").get(s),
                        perConnection.get("after").get(s)));
            }
            md.append(f("%n## Time per connection%n%nThe client's own elapsedMs (connect call to the last echoed byte),"
                    + " %d runs per build alternating, the first %d connections of each JVM left out (JIT warm-up):"
                    + " through the DelayWire (RTT 20 ms, %d connections per run) and on the server namespace's"
                    + " loopback (client and server in one namespace, %d connections per run).%n%n"
                    + "| path | build | n | median ms | p10 ms | p90 ms | outcomes |%n|---|---|---|---|---|---|---|%n",
                    runs, skip, connections, connections * 10));
            for (String path : List.of("RTT 20 ms", "loopback")) {
                Map<String, Timing> t = path.equals("loopback") ? loop : wired;
                for (String k : jars.keySet()) {
                    Percentiles p = new Percentiles(t.get(k).ms);
                    md.append(f("| %s | %s | %d | %.3f | %.3f | %.3f | %s |%n", path, k, p.count(), p.median(), p.at(10),
                            p.at(90), t.get(k).outcomes));
                }
            }
        }
        System.out.println(md);
        Files.writeString(out, md);
        log("wrote " + out.toAbsolutePath());
    }

    /** Runs the client under strace; returns calls per system call. */
    private static Map<String, Long> strace(Host host, Path jar, String ip, int count) throws Exception {
        Path file = Files.createTempFile("tfo-example-strace", ".txt");
        try {
            HostProcess p = host.start("strace", "-f", "-c", "--seccomp-bpf", "-e", "trace=" + String.join(",", SYSCALLS),
                    "-o", file.toString(), "java", "-jar", jar.toString(), "--server", ip, "--port",
                    Integer.toString(PORT), "--count", Integer.toString(count), "--json");
            int code = p.awaitExit(Duration.ofMinutes(5));
            if (code != 0) {
                throw new IllegalStateException("client under strace failed (exit " + code + ")\n" + p.transcript());
            }
            Map<String, Long> calls = new TreeMap<>();
            for (String l : Files.readAllLines(file)) {
                String[] f = l.trim().split("\\s+");
                if (f.length >= 5 && f[0].matches("[0-9.]+") && !f[f.length - 1].equals("total")) {
                    calls.put(f[f.length - 1], Long.parseLong(f[3]));
                }
            }
            return calls;
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Runs the client for {@code count} connections; adds the elapsed times after the first {@code skip}. */
    private static void echo(Host host, Path jar, String ip, int count, int skip, Timing into) {
        HostProcess p = host.start("java", "-jar", jar.toString(), "--server", ip, "--port", Integer.toString(PORT),
                "--count", Integer.toString(count), "--json");
        int code = p.awaitExit(Duration.ofMinutes(10));
        if (code != 0) {
            throw new IllegalStateException("client failed (exit " + code + ")\n" + p.transcript());
        }
        int i = 0;
        for (String line : p.lines()) {
            Matcher e = ELAPSED.matcher(line);
            Matcher o = OUTCOME.matcher(line);
            if (e.find() && o.find()) {
                if (i++ >= skip) {
                    into.ms.add(Double.parseDouble(e.group(1)));
                    into.outcomes.merge(o.group(1), 1, Integer::sum);
                }
            }
        }
    }

    private static String f(String fmt, Object... a) {
        return String.format(Locale.ROOT, fmt, a);
    }

    private static void log(String s) {
        System.err.println("[example " + java.time.LocalTime.now().withNano(0) + "] " + s);
    }
}
