package dev.tfo.bench;

import dev.tfo.testkit.DelayWire;
import dev.tfo.testkit.Host;
import dev.tfo.testkit.HostProcess;
import dev.tfo.testkit.Lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs the benchmarks and writes {@code results.md}, {@code latency.png}, {@code frameworks.png} and
 * {@code latency-samples.csv}.
 *
 * <pre>
 *   benchmarks/run.sh [--out DIR] [--iterations N] [--rtts 20,50] ...     (root: network namespaces)
 * </pre>
 *
 * <p>Layout: a {@link Lab} with a client and a server namespace ({@code tcp_fastopen=3} in each), joined by
 * one {@link DelayWire} per round-trip time (one-way delay RTT/2), plus a wire of RTT 20 ms that drops
 * SYNs carrying data (the black hole), and one for the frameworks (Reactor Netty, gRPC-java, Vert.x). The
 * server JVMs run in the server namespace, the client JVMs in the client namespace (Netty reads {@code tcp_fastopen} once per JVM, and cookies and counters are per
 * namespace); this main only orchestrates, in the root namespace. The overhead benchmark runs on the
 * loopback of a third namespace.
 */
public final class BenchMain {
    static final int PORT = 7000;
    /** JVM options of every benchmark JVM: a fixed heap big enough for no GC during a run, no leak detection. */
    static final List<String> JVM = List.of("-Xms512m", "-Xmx512m", "-XX:+UseParallelGC", "-XX:+AlwaysPreTouch",
            "-Dio.netty.leakDetection.level=disabled");

    private BenchMain() {
    }

    /** What to run. */
    static final class Config {
        Path out = Path.of("benchmarks/results");
        int iterations = 200;
        int warmup = 20;
        int loopbackWarmup = 1500;
        List<Integer> rtts = List.of(20, 50);
        int requestBytes = 64;
        int responseBytes = 64;
        boolean latency = true;
        boolean overhead = true;
        boolean blackhole = true;
        boolean frameworks = true;
        boolean alloc = true;
        int allocConnections = 5000;
        int allocWarmupRounds = 40;
        int syscallConnections = 2000;
        int frameworkIterations = 200;
        int frameworkRtt = 20;
        int frameworkLoopbackWarmup = 300;
        int overheadRounds = 60;
        int overheadWarmupRounds = 6;
        int overheadConnections = 500;
        int overheadConcurrency = 8;
        int blackholeConnections = 20;
        boolean writeFiles = true;

        static Config parse(String[] args) {
            Config c = new Config();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                String v = i + 1 < args.length ? args[i + 1] : null;
                switch (a) {
                    case "--out": c.out = Path.of(v); i++; break;
                    case "--iterations": c.iterations = Integer.parseInt(v); i++; break;
                    case "--warmup": c.warmup = Integer.parseInt(v); i++; break;
                    case "--loopback-warmup": c.loopbackWarmup = Integer.parseInt(v); i++; break;
                    case "--rtts": c.rtts = parseInts(v); i++; break;
                    case "--request-bytes": c.requestBytes = Integer.parseInt(v); i++; break;
                    case "--response-bytes": c.responseBytes = Integer.parseInt(v); i++; break;
                    case "--overhead-rounds": c.overheadRounds = Integer.parseInt(v); i++; break;
                    case "--overhead-connections": c.overheadConnections = Integer.parseInt(v); i++; break;
                    case "--overhead-concurrency": c.overheadConcurrency = Integer.parseInt(v); i++; break;
                    case "--blackhole-connections": c.blackholeConnections = Integer.parseInt(v); i++; break;
                    case "--alloc-connections": c.allocConnections = Integer.parseInt(v); i++; break;
                    case "--alloc-warmup-rounds": c.allocWarmupRounds = Integer.parseInt(v); i++; break;
                    case "--syscall-connections": c.syscallConnections = Integer.parseInt(v); i++; break;
                    case "--framework-iterations": c.frameworkIterations = Integer.parseInt(v); i++; break;
                    case "--framework-rtt": c.frameworkRtt = Integer.parseInt(v); i++; break;
                    case "--framework-loopback-warmup": c.frameworkLoopbackWarmup = Integer.parseInt(v); i++; break;
                    case "--only": {
                        List<String> only = List.of(v.split(","));
                        c.latency = only.contains("latency");
                        c.overhead = only.contains("overhead");
                        c.blackhole = only.contains("blackhole");
                        c.frameworks = only.contains("frameworks");
                        c.alloc = only.contains("alloc");
                        if (!c.latency && !c.overhead && !c.blackhole && !c.frameworks && !c.alloc) {
                            throw new IllegalArgumentException("--only " + v + ": none of latency, frameworks,"
                                    + " overhead, alloc, blackhole\n" + USAGE);
                        }
                        i++;
                        break;
                    }
                    case "--help":
                    case "-h":
                        System.out.println(USAGE);
                        System.exit(0);
                        break;
                    default:
                        throw new IllegalArgumentException("unknown option " + a + "\n" + USAGE);
                }
            }
            return c;
        }

        private static List<Integer> parseInts(String v) {
            List<Integer> l = new ArrayList<>();
            for (String s : v.split(",")) {
                l.add(Integer.parseInt(s.trim()));
            }
            return l;
        }
    }

    static final String USAGE = "usage: BenchMain [--out DIR] [--iterations N] [--warmup N] [--loopback-warmup N] [--rtts 20,50]\n"
            + "  [--request-bytes N] [--response-bytes N] [--only latency,frameworks,overhead,alloc,blackhole]\n"
            + "  [--framework-iterations N] [--framework-rtt MS] [--framework-loopback-warmup N]\n"
            + "  [--overhead-rounds N] [--overhead-connections N] [--overhead-concurrency N]\n"
            + "  [--alloc-connections N] [--alloc-warmup-rounds N] [--syscall-connections N] [--blackhole-connections N]\n"
            + "Needs root (network namespaces, TUN devices) and gcc (the delay wire).";

    /** Everything measured. */
    static final class Results {
        final List<LatencyResult> latency = new ArrayList<>();
        FrameworkResult frameworks;
        OverheadResult overhead;
        AllocationResult alloc;
        BlackholeResult blackhole;
        final String machine = Machine.describe();
        String priority = "?";
        final String date = java.time.ZonedDateTime.now().withNano(0).toString();
    }

    /**
     * Runs what the config asks for.
     *
     * @param c the config
     * @return the results
     */
    static Results run(Config c) throws IOException {
        Results results = new Results();
        try (Lab lab = Lab.create()) {
            Host client = lab.host("bench-client").sysctl("net.ipv4.tcp_fastopen", "3");
            Host server = lab.host("bench-server").sysctl("net.ipv4.tcp_fastopen", "3");
            if (c.frameworks) {
                results.frameworks = Frameworks.run(c, client, server);
            }
            if (c.latency || c.blackhole) {
                HostProcess srv = server.startJava(JVM, BenchServer.class, Integer.toString(PORT),
                        Integer.toString(c.requestBytes), Integer.toString(c.responseBytes),
                        Integer.toString(c.loopbackWarmup));
                srv.awaitLine(l -> l.startsWith("listening"), Duration.ofSeconds(120));
                if (c.latency) {
                    results.latency.addAll(latency(c, client, server, results));
                }
                if (c.blackhole) {
                    results.blackhole = Blackhole.run(c, client, server);
                }
                srv.close();
                check(srv);
            }
            if (c.overhead || c.alloc) {
                Host loop = lab.host("bench-loop").sysctl("net.ipv4.tcp_fastopen", "3")
                        .sysctl("net.ipv4.ip_local_port_range", "1024 65535");
                if (c.overhead) {
                    results.overhead = Overhead.run(c, loop);
                }
                if (c.alloc) {
                    results.alloc = AllocationProfile.run(c, loop);
                }
            }
        }
        return results;
    }

    private static List<LatencyResult> latency(Config c, Host client, Host server, Results results) {
        List<LatencyResult> out = new ArrayList<>();
        List<DelayWire> wires = new ArrayList<>();
        List<String> args = new ArrayList<>(List.of(Integer.toString(c.iterations), Integer.toString(c.warmup),
                Integer.toString(c.loopbackWarmup),
                Integer.toString(c.requestBytes), Integer.toString(c.responseBytes)));
        for (int rtt : c.rtts) {
            DelayWire wire = DelayWire.between(client, server, Duration.ofNanos(rtt * 1_000_000L / 2));
            String label = "rtt" + rtt;
            out.add(new LatencyResult(label, rtt));
            wires.add(wire);
            args.add(label + "=" + wire.address(server).getHostAddress() + ":" + PORT);
        }
        log("latency: " + c.iterations + " iterations (+" + c.warmup + " warm-up) x " + Variant.values().length
                + " variants at RTT " + c.rtts
                + " ms");
        HostProcess cli = client.startJava(JVM, LatencyClient.class, args.toArray(String[]::new));
        long expected = (long) c.iterations * c.rtts.size() * Variant.values().length;
        long budgetMs = 60_000 + (c.iterations + c.warmup) * c.rtts.stream().mapToLong(r -> 12L * r).sum();
        long deadline = System.currentTimeMillis() + budgetMs;
        while (cli.isAlive() && System.currentTimeMillis() < deadline) {
            sleep(5000);
            long n = cli.lines().stream().filter(l -> l.startsWith("SAMPLE")).count();
            log("latency: " + n + "/" + expected + " connections measured");
        }
        int code = cli.awaitExit(Duration.ofMillis(Math.max(1000, deadline - System.currentTimeMillis())));
        if (code != 0 || !cli.lines().contains("DONE")) {
            throw new IllegalStateException("latency client failed (exit " + code + ")\n" + cli.transcript());
        }
        check(cli);
        for (int i = 0; i < wires.size(); i++) {
            out.get(i).wireStats = wires.get(i).stats().toString();
            wires.get(i).close();
        }
        for (String line : cli.lines()) {
            if (line.startsWith("PRIORITY ")) {
                results.priority = line.substring("PRIORITY ".length());
            }
            String[] f = line.split(" ");
            for (LatencyResult r : out) {
                if (f.length >= 3 && f[1].equals(r.label)) {
                    if (f[0].equals("SAMPLE")) {
                        r.add(f);
                    } else if (f[0].equals("PRIME")) {
                        r.primeOutcome = f[2];
                    }
                }
            }
        }
        return out;
    }

    /**
     * Every measured connection or request: the latency benchmark's (variant = {@link Variant#key()}) and the
     * framework benchmark's (variant = case-plain or case-tfo, e.g. {@code grpc-tfo}; no connect time, no kernel
     * RTT: -1).
     */
    static String samplesCsv(Results r) {
        StringBuilder csv = new StringBuilder("rtt_ms,variant,iteration,latency_ms,connect_ms,active_delta,"
                + "active_fail_delta,outcome,kernel_rtt_ms\n");
        for (LatencyResult l : r.latency) {
            for (Variant v : Variant.values()) {
                for (LatencyResult.Sample s : l.samples.get(v)) {
                    csv.append(String.format(Locale.ROOT, "%.0f,%s,%d,%.4f,%.4f,%d,%d,%s,%.3f%n", l.nominalRttMs,
                            v.key(), s.iteration(), s.latencyMs(), s.connectMs(), s.active(), s.activeFail(),
                            s.outcome(), s.kernelRttMs()));
                }
            }
        }
        if (r.frameworks != null) {
            for (FrameworkCase fc : FrameworkCase.values()) {
                for (boolean tfo : new boolean[] {false, true}) {
                    for (FrameworkResult.Sample s : r.frameworks.samples(fc, tfo)) {
                        csv.append(String.format(Locale.ROOT, "%.0f,%s-%s,%d,%.4f,-1,%d,%d,%s,-1%n",
                                r.frameworks.nominalRttMs, fc.key(), tfo ? "tfo" : "plain", s.iteration(),
                                s.latencyMs(), s.active(), s.activeFail(), s.outcome()));
                    }
                }
            }
        }
        return csv.toString();
    }

    /** Fails on leak reports or exceptions printed by a benchmark JVM. */
    static void check(HostProcess p) {
        if (!p.leakReports().isEmpty()) {
            throw new IllegalStateException("leaks reported by " + p + ": " + p.leakReports());
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static void log(String s) {
        System.err.println("[bench " + java.time.LocalTime.now().withNano(0) + "] " + s);
    }

    /**
     * {@code BenchMain [options]}: see {@link #USAGE}.
     *
     * @param args options
     */
    public static void main(String[] args) throws Exception {
        Config c = Config.parse(args);
        Results r = run(c);
        String md = Report.markdown(r, c);
        System.out.println(md);
        Files.createDirectories(c.out);
        Files.writeString(c.out.resolve("results.md"), md);
        if (!r.latency.isEmpty() || r.frameworks != null) {
            Files.writeString(c.out.resolve("latency-samples.csv"), samplesCsv(r));
        }
        if (!r.latency.isEmpty()) {
            Path png = c.out.resolve("latency.png");
            Report.chart(r, png);
            log("wrote " + png.toAbsolutePath());
        }
        if (r.frameworks != null) {
            Path png = c.out.resolve("frameworks.png");
            Report.frameworkChart(r.frameworks, png);
            log("wrote " + png.toAbsolutePath());
        }
        log("wrote " + c.out.resolve("results.md").toAbsolutePath());
        System.out.println(String.format(Locale.ROOT, "%nTargets: %s", Report.targetsMet(r) ? "ALL MET" : "SOME MISSED"));
        System.exit(0);
    }
}
