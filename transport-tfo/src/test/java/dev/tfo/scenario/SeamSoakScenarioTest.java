package dev.tfo.scenario;

import dev.tfo.TfoTestClients;
import dev.tfo.testkit.LabException;
import dev.tfo.testkit.NeedsLab;
import dev.tfo.testkit.Rule;
import dev.tfo.testkit.Wait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A fault soak on the seams between the application, Netty and the kernel: a client host and a server host on a
 * veth (both {@code tcp_fastopen=3}); both client patterns (connect then write through
 * {@code TfoTestClients.tfo(b)}, and the first flight of {@code TfoBootstraps.connect}), each followed by one
 * of four application patterns (request/echo, half-close once the write succeeded, write then close in the
 * write's listener, write and close at once), at a steady rate, while faults come and go in phases: SYNs with
 * data dropped at the server, connections reset by the server (SO_LINGER 0), SYNs refused with a TCP reset
 * (iptables REJECT), the server's listener closed and bound again. Agents: {@link SeamSoakClientAgent},
 * {@link SeamSoakServerAgent} (paranoid leak detection, like every agent).
 *
 * <p>At the end, each invariant with its counts: no connection hung; no corrupted byte (the echo checked byte for
 * byte by the client, every request byte by the server); every byte of a write whose future succeeded reached the
 * server (unless the server reset that connection on purpose); no wrong verdict (a connection whose handshake is
 * witnessed complete never has a failed {@code TfoResult}, and every {@code TfoResult} completes); every failure
 * seen while the library still watched the handshake (its verdict not yet in) names the server and reached the
 * pipeline ({@code exceptionCaught}; a failed {@code connect()} future of a plain connect excepted); no
 * connection ended silently short of its goal; the agents' file descriptors back to their start; no leak report
 * and exit 0. A summary, per pattern, phase and outcome, is printed (and written to {@code tfo.seamSoak.report}).
 *
 * <p>System properties: {@code tfo.seamSoak.connections} (1200), {@code tfo.seamSoak.seconds} (60: the connections
 * are spread evenly over it), {@code tfo.seamSoak.phaseSeconds} (seconds / 6, at most 10: in 60 s the schedule of six
 * phases runs once, in longer runs again and again), {@code tfo.seamSoak.concurrency} (64),
 * {@code tfo.seamSoak.boundMs} (20000: a connection still open after it is hung), {@code tfo.seamSoak.backoff}
 * ({@code off}: every connection tries TFO, faults or not; {@code default}: the shared backoff),
 * {@code tfo.seamSoak.transport} (epoll|io_uring), {@code tfo.seamSoak.failuresAfterHandshake} ({@code report}:
 * failures after a decided verdict, Netty's own reports of a connection the library is done with, are counted and
 * printed; {@code check}: they must name the server and reach the pipeline too), {@code tfo.seamSoak.report} (a file
 * for the summary),
 * {@code tfo.seamSoak.records} (a file for every record of both agents). {@code benchmarks/seam-soak.sh} runs it
 * with thousands of connections.
 */
@NeedsLab
class SeamSoakScenarioTest {
    private static final int CONNECTIONS = Integer.getInteger("tfo.seamSoak.connections", 1200);
    private static final int SECONDS = Integer.getInteger("tfo.seamSoak.seconds", 60);
    private static final int PHASE_SECONDS = Integer.getInteger("tfo.seamSoak.phaseSeconds",
            Math.max(2, Math.min(10, SECONDS / 6)));
    private static final int CONCURRENCY = Integer.getInteger("tfo.seamSoak.concurrency", 64);
    private static final long BOUND_MS = Long.getLong("tfo.seamSoak.boundMs", 20_000);
    private static final String BACKOFF = System.getProperty("tfo.seamSoak.backoff", "off");
    private static final String TRANSPORT = System.getProperty("tfo.seamSoak.transport", "epoll");
    private static final String REPORT = System.getProperty("tfo.seamSoak.report", "");
    private static final String RECORDS = System.getProperty("tfo.seamSoak.records", "");
    /** {@code check}: failures after the handshake must name the server and reach the pipeline too. */
    private static final boolean CHECK_AFTER_HANDSHAKE =
            "check".equals(System.getProperty("tfo.seamSoak.failuresAfterHandshake", "report"));
    private static final int PORT = 7000;
    private static final int WARM_UP = 16;
    /** File descriptors an agent may hold beyond its count at the start. */
    private static final int FD_SLACK = 3;
    private static final Duration COMMAND = Duration.ofSeconds(30);

    /** The fault schedule, repeated until the soak's time is up. */
    enum Phase {
        CLEAN, DROP_SYN_DATA, RESET, REJECT, RESTART
    }

    private static final List<Phase> SCHEDULE = List.of(Phase.CLEAN, Phase.DROP_SYN_DATA, Phase.RESET, Phase.CLEAN,
            Phase.REJECT, Phase.RESTART);

    @Test
    void faultsComeAndGoWhileBothClientPatternsRun() throws Exception {
        try (Net net = new Net()) {
            net.client.sysctl("net.ipv4.ip_local_port_range", "10000 65000");
            String serverIp = net.serverIp();
            String serverName = serverIp + ":" + PORT;
            Driver server = net.startAgent(net.server, SeamSoakServerAgent.class, "LISTENING ",
                    "port=" + PORT, "transport=" + TRANSPORT);
            Driver client = net.startAgent(net.client, SeamSoakClientAgent.class, null, "host=" + serverIp,
                    "port=" + PORT, "transport=" + TRANSPORT, "concurrency=" + CONCURRENCY, "boundMs=" + BOUND_MS,
                    "backoff=" + BACKOFF);

            // Warm-up: a cookie for the server, every class loaded, every pattern once.
            phase(client, "WARM");
            client.command("RUN " + WARM_UP + " 0", l -> l.startsWith("RUNNING"), COMMAND);
            client.command("AWAIT 60000", l -> l.startsWith("IDLE"), Duration.ofSeconds(90));
            int clientFds = client.fds();
            int serverFds = server.fds();

            // The soak: a steady rate, faults switched on and off in phases.
            long t0 = System.nanoTime();
            double rate = (double) CONNECTIONS / SECONDS;
            client.command("RUN " + CONNECTIONS + " " + rate, l -> l.startsWith("RUNNING"), COMMAND);
            Map<String, Long> evidence = new LinkedHashMap<>();
            List<String> phasesRun = new ArrayList<>();
            long end = t0 + Duration.ofSeconds(SECONDS).toNanos();
            for (int i = 0; System.nanoTime() < end; i++) {
                Phase p = SCHEDULE.get(i % SCHEDULE.size());
                long phaseEnd = Math.min(end, System.nanoTime() + Duration.ofSeconds(PHASE_SECONDS).toNanos());
                phasesRun.add(p.name());
                runPhase(net, server, client, p, phaseEnd, evidence);
            }
            phase(client, "DRAIN");
            long awaitMs = 2 * BOUND_MS + 60_000 + SECONDS * 1000L;
            String idle = client.command("AWAIT " + awaitMs, l -> l.startsWith("IDLE"),
                    Duration.ofMillis(awaitMs + 30_000)).stream().reduce((a, b) -> b).orElseThrow();
            long soakMs = (System.nanoTime() - t0) / 1_000_000;

            List<String> clientLines = client.command("DUMP", l -> l.startsWith("DUMPED"), Duration.ofMinutes(2))
                    .stream().filter(l -> l.startsWith("C\t")).collect(Collectors.toList());
            List<String> serverLines = server.command("DUMP", l -> l.startsWith("DUMPED"), Duration.ofMinutes(2))
                    .stream().filter(l -> l.startsWith("S\t")).collect(Collectors.toList());
            if (!RECORDS.isEmpty()) {
                List<String> all = new ArrayList<>(clientLines);
                all.addAll(serverLines);
                Files.write(Path.of(RECORDS), all, StandardCharsets.UTF_8);
            }
            List<ClientRec> conns = clientLines.stream().map(ClientRec::parse).collect(Collectors.toList());
            List<ServerRec> children = serverLines.stream().map(ServerRec::parse).collect(Collectors.toList());
            int clientFdsEnd = client.fds();
            int serverFdsEnd = awaitFds(server, serverFds);

            if (phasesRun.contains(Phase.RESET.name())) {
                evidence.put("connections reset by the server", children.stream().filter(ServerRec::reset).count());
            }
            Verdicts v = new Verdicts(conns, children, serverName);
            List<String> summary = v.summary(soakMs, idle, phasesRun, evidence, clientFds, clientFdsEnd, serverFds,
                    serverFdsEnd);
            summary.forEach(System.out::println);
            if (!REPORT.isEmpty()) {
                Files.write(Path.of(REPORT), summary, StandardCharsets.UTF_8);
            }

            List<Executable> checks = new ArrayList<>(v.checks());
            checks.add(() -> assertTrue(conns.size() == CONNECTIONS + WARM_UP,
                    "connections started: " + conns.size() + " of " + (CONNECTIONS + WARM_UP) + "; " + idle));
            checks.add(() -> assertTrue(clientFdsEnd <= clientFds + FD_SLACK,
                    "client JVM file descriptors: " + clientFds + " at the start, " + clientFdsEnd + " at the end"));
            checks.add(() -> assertTrue(serverFdsEnd <= serverFds + FD_SLACK,
                    "server JVM file descriptors: " + serverFds + " at the start, " + serverFdsEnd + " at the end"));
            for (Map.Entry<String, Long> e : evidence.entrySet()) {
                checks.add(() -> assertTrue(e.getValue() > 0, "the fault never hit: " + e.getKey() + " = 0"));
            }
            checks.add(net::finish); // exit 0 and no LEAK report from either agent
            assertAll("seam soak: " + v.oneLine(), checks.stream());
        }
    }

    private static void phase(Driver client, String name) {
        client.command("PHASE " + name, l -> l.equals("PHASE " + name), COMMAND);
    }

    /** Switches the phase's fault on, tags new connections with it, waits until {@code until}, switches it off. */
    private static void runPhase(Net net, Driver server, Driver client, Phase p, long until,
                                 Map<String, Long> evidence) throws InterruptedException {
        Rule rule = null;
        long faultUntil = until;
        switch (p) {
            case DROP_SYN_DATA:
                rule = net.server.dropSynWithData();
                break;
            case REJECT:
                // every third SYN (with data or not) refused with a reset, for the first half of the phase
                rule = net.server.iptables("INPUT", "-p", "tcp", "--dport", String.valueOf(PORT), "--syn",
                        "-m", "statistic", "--mode", "nth", "--every", "3", "--packet", "0",
                        "-j", "REJECT", "--reject-with", "tcp-reset");
                faultUntil = System.nanoTime() + (until - System.nanoTime()) / 2;
                break;
            case RESET:
                server.command("RESET 3", l -> l.startsWith("RESETTING"), COMMAND);
                break;
            default:
                break;
        }
        phase(client, p.name());
        if (p == Phase.RESTART) {
            long mid = System.nanoTime() + (until - System.nanoTime()) / 2;
            restart(server, evidence);
            sleepUntil(mid);
            restart(server, evidence);
        }
        sleepUntil(faultUntil);
        if (rule != null) {
            evidence.merge(p == Phase.REJECT ? "SYNs refused by REJECT" : "SYNs with data dropped", rule.packets(),
                    Long::sum);
            rule.close();
        }
        if (p == Phase.RESET) {
            server.command("RESET 0", l -> l.startsWith("RESETTING"), COMMAND);
        }
        if (faultUntil != until) {
            phase(client, Phase.CLEAN.name());  // the rest of a short fault's phase is clean
            sleepUntil(until);
        }
    }

    private static void restart(Driver server, Map<String, Long> evidence) {
        server.command("RESTART 300", l -> l.startsWith("RESTARTED"), COMMAND);
        evidence.merge("server restarts", 1L, Long::sum);
    }

    private static void sleepUntil(long nanos) throws InterruptedException {
        long left = nanos - System.nanoTime();
        if (left > 0) {
            Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
        }
    }

    /** The server's descriptors once its children are gone (they close after their echo or at EOF). */
    private static int awaitFds(Driver server, int start) {
        try {
            return Wait.forValue("the server's descriptors back to " + start + " + " + FD_SLACK, Duration.ofSeconds(20),
                    () -> {
                        int fds = server.fds();
                        return fds <= start + FD_SLACK ? fds : null;
                    });
        } catch (LabException stillOpen) {
            return server.fds(); // the invariant reports the count
        }
    }

    // ---- records -------------------------------------------------------------------------------------------

    /** One exception the client's application saw (see {@link SeamSoakClientAgent}). */
    record Err(String where, boolean app, boolean post, String cls, String msg) {
        static Err parse(String s) {
            String[] p = s.split("\\|", 5);
            return new Err(p[0], p[1].equals("app"), p[2].equals("post"), p[3], p.length > 4 ? p[4] : "");
        }

        String simpleClass() {
            return cls.substring(cls.lastIndexOf('.') + 1);
        }

        boolean closedChannel() {
            return cls.endsWith("ClosedChannelException");
        }

        boolean names(String server) {
            return msg.contains(server);
        }

        /** The message class: the class and message with addresses, ids and numbers normalised. */
        String messageClass(String server) {
            String m = msg.replace("/" + server, "<server>").replace(server, "<server>")
                    .replaceAll("\\d+\\.\\d+\\.\\d+\\.\\d+(:\\d+)?", "<addr>")
                    .replaceAll("0x[0-9a-f]+", "0x?");
            return simpleClass() + ": " + m;
        }

        @Override
        public String toString() {
            return where + (app ? "(after app close)" : "") + (post ? "(post-handshake)" : "") + " " + simpleClass()
                    + ": " + msg;
        }
    }

    /** One client connection. */
    record ClientRec(int id, String cp, String ap, int size, String phaseStart, String phaseEnd, String connect,
                     String write, String verdict, String verdictCause, long echoed, boolean corrupt,
                     boolean appClose, boolean hung, long endMs, List<Err> errors) {
        static ClientRec parse(String line) {
            String[] f = line.split("\t", -1);
            List<Err> errors = new ArrayList<>();
            for (int i = 16; i < f.length; i++) {
                errors.add(Err.parse(f[i]));
            }
            return new ClientRec(Integer.parseInt(f[1]), f[2], f[3], Integer.parseInt(f[4]), f[5], f[6], f[7], f[8],
                    f[9], f[10], Long.parseLong(f[11]), Boolean.parseBoolean(f[12]), Boolean.parseBoolean(f[13]),
                    Boolean.parseBoolean(f[14]), Long.parseLong(f[15]), errors);
        }

        String pattern() {
            return cp + "/" + ap;
        }

        String phase() {
            return phaseStart.equals(phaseEnd) || phaseEnd.equals("-") ? phaseStart : phaseStart + ">" + phaseEnd;
        }

        boolean echoPattern() {
            return ap.equals(SeamSoak.AppPattern.ECHO.tag) || ap.equals(SeamSoak.AppPattern.HALF_CLOSE.tag);
        }

        /**
         * Exceptions that report a failure: all but the "already closed" that follow the application's own close or
         * cancel (a real cause seen after the application closed, say a refusal the application reacted to, counts).
         */
        List<Err> failures() {
            return errors.stream().filter(e -> !(e.app && e.closedChannel())).collect(Collectors.toList());
        }

        @Override
        public String toString() {
            return "#" + id + " " + pattern() + " " + size + "B " + phase() + " connect=" + connect + " write="
                    + write + " verdict=" + verdict + (verdictCause.equals("-") ? "" : "(" + verdictCause + ")")
                    + " echoed=" + echoed + (corrupt ? " CORRUPT" : "") + (appClose ? " appClose" : "")
                    + (hung ? " HUNG" : "") + " " + endMs + "ms " + errors;
        }
    }

    /** One server child. */
    record ServerRec(int id, int length, long received, boolean corrupt, boolean reset, boolean eof, String outcome,
                     String error) {
        static ServerRec parse(String line) {
            String[] f = line.split("\t", -1);
            return new ServerRec(Integer.parseInt(f[1]), Integer.parseInt(f[2]), Long.parseLong(f[3]),
                    Boolean.parseBoolean(f[4]), Boolean.parseBoolean(f[5]), Boolean.parseBoolean(f[6]), f[7], f[8]);
        }
    }

    // ---- the invariants --------------------------------------------------------------------------------------

    /** Joins both sides' records and judges each connection. */
    static final class Verdicts {
        private static final int EXAMPLES = 5;

        final List<ClientRec> conns;
        final String server;
        final Map<Integer, List<ServerRec>> byId = new HashMap<>();
        final List<ServerRec> unidentified = new ArrayList<>();
        final Map<ClientRec, String> outcome = new LinkedHashMap<>();

        final List<ClientRec> hung = new ArrayList<>();
        final List<String> corrupt = new ArrayList<>();
        final List<ClientRec> lost = new ArrayList<>();
        final Map<String, List<ClientRec>> wrongVerdict = new TreeMap<>();
        final List<ClientRec> pendingVerdict = new ArrayList<>();
        final List<ClientRec> silent = new ArrayList<>();
        final Map<String, List<ClientRec>> unnamed = new TreeMap<>();
        final Map<String, List<ClientRec>> notPipelined = new TreeMap<>();
        final Map<String, Integer> failuresByClass = new TreeMap<>();
        final Map<String, Integer> postHandshakeByClass = new TreeMap<>();
        final Map<String, Map<String, Integer>> verdictsByPhase = new TreeMap<>();
        int failed;
        long serverBytes;

        Verdicts(List<ClientRec> conns, List<ServerRec> children, String server) {
            this.conns = conns;
            this.server = server;
            for (ServerRec s : children) {
                serverBytes += s.received;
                if (s.id < 0) {
                    unidentified.add(s);
                } else {
                    byId.computeIfAbsent(s.id, k -> new ArrayList<>()).add(s);
                }
            }
            Map<Integer, ClientRec> clientIds = new HashMap<>();
            for (ClientRec c : conns) {
                clientIds.put(c.id, c);
                judge(c);
            }
            for (ServerRec s : children) {
                if (s.corrupt) {
                    corrupt.add("server child of #" + s.id + ": " + s.received + " of " + s.length
                            + " bytes, a byte differs (" + clientIds.get(s.id) + ")");
                }
                if (s.id >= 0 && !clientIds.containsKey(s.id)) {
                    corrupt.add("server child with an id no client used: " + s);
                }
                if (s.id < 0 && s.received > 0) {
                    corrupt.add("server child with " + s.received + " bytes and no complete header: " + s);
                }
            }
        }

        private void judge(ClientRec c) {
            List<ServerRec> s = byId.getOrDefault(c.id, List.of());
            long received = s.stream().mapToLong(ServerRec::received).max().orElse(0);
            boolean serverReset = s.stream().anyMatch(ServerRec::reset);
            verdictsByPhase.computeIfAbsent(c.phase(), k -> new TreeMap<>()).merge(c.verdict, 1, Integer::sum);

            if (c.hung || c.endMs < 0) {
                hung.add(c);
            }
            if (c.corrupt) {
                corrupt.add("client #" + c.id + ": echo differs: " + c);
            }
            boolean delivered = received >= c.size;
            if (c.write.equals("ok") && !serverReset && !delivered) {
                lost.add(c);
            }
            boolean echoed = c.echoPattern() && c.echoed == c.size && !c.corrupt;
            // the client was established if it got its echo, or if the server got bytes no SYN carried: more than a
            // SYN holds, or any at all on a child whose SYN brought no data
            String witness = echoed ? "full echo"
                    : received > SeamSoak.SYN_DATA_MAX ? "more than a SYN holds at the server"
                    : s.stream().anyMatch(x -> x.received > 0 && x.outcome.equals("NO_SYN_DATA"))
                    ? "bytes at a server child whose SYN had none" : null;
            if (witness != null && c.verdict.equals("FAILED")) {
                String[] cause = c.verdictCause.split("\\|", 3); // class|app|message
                wrongVerdict.computeIfAbsent(witness + ", yet FAILED with " + new Err("result", false, false, cause[0],
                        cause.length > 2 ? cause[2] : "").messageClass(server), k -> new ArrayList<>()).add(c);
            }
            if (c.verdict.equals("PENDING")) {
                pendingVerdict.add(c);
            }

            List<Err> failures = c.failures();
            List<Err> pre = failures.stream().filter(e -> !e.post || CHECK_AFTER_HANDSHAKE)
                    .collect(Collectors.toList());
            for (Err e : failures) {
                (e.post ? postHandshakeByClass : failuresByClass).merge(e.where + " " + e.messageClass(server), 1,
                        Integer::sum);
            }
            if (!failures.isEmpty()) {
                failed++;
            }
            if (!pre.isEmpty()) {
                // named: each report of it, save a bare "already closed" that follows one, names the server
                for (Err e : pre) {
                    if (!e.closedChannel() && !e.names(server)) {
                        unnamed.computeIfAbsent(e.where + " " + e.messageClass(server), k -> new ArrayList<>()).add(c);
                    }
                }
                if (pre.stream().noneMatch(e -> e.names(server))) {
                    unnamed.computeIfAbsent("no report names the server: " + pre.stream()
                            .map(e -> e.where + " " + e.simpleClass()).collect(Collectors.joining(", ")),
                            k -> new ArrayList<>()).add(c);
                }
                // pipelined: exceptionCaught saw it (a failed connect() future is Netty's own report of a plain
                // connect: the caller of sync() got the exception)
                boolean onlyConnect = pre.stream().allMatch(e -> e.where.equals("connect"));
                if (!onlyConnect && pre.stream().noneMatch(e -> e.where.equals("caught"))) {
                    notPipelined.computeIfAbsent(pre.stream().map(e -> e.where + " " + e.messageClass(server))
                            .distinct().collect(Collectors.joining(" + ")), k -> new ArrayList<>()).add(c);
                }
            }

            String o;
            boolean goal = c.echoPattern() ? echoed : c.write.equals("ok") && delivered;
            if (c.hung || c.endMs < 0) {
                o = "hung";
            } else if (c.write.equals("ok") && !serverReset && !delivered) {
                o = failures.isEmpty() ? "lost-silently" : "lost";
            } else if (goal) {
                o = failures.isEmpty() ? "ok" : "ok+error";
            } else if (!failures.isEmpty()) {
                o = serverReset ? "failed(server reset)" : "failed";
            } else if (c.appClose) {
                o = "app-closed";
            } else {
                o = "silent";
                silent.add(c);
            }
            outcome.put(c, o);
        }

        private static String examples(List<ClientRec> list) {
            return list.stream().limit(EXAMPLES).map(c -> "\n    " + c).collect(Collectors.joining());
        }

        private static String grouped(Map<String, List<ClientRec>> m) {
            StringBuilder sb = new StringBuilder();
            m.forEach((k, list) -> sb.append("\n  ").append(list.size()).append("x ").append(k)
                    .append(examples(list)));
            return sb.toString();
        }

        private static String byPatternPhase(List<ClientRec> list) {
            Map<String, Integer> m = new TreeMap<>();
            list.forEach(c -> m.merge(c.pattern() + "@" + c.phase(), 1, Integer::sum));
            return m.toString();
        }

        /** Connections, each once (one may be in several groups). */
        private static long count(Map<String, List<ClientRec>> m) {
            return m.values().stream().flatMap(List::stream).distinct().count();
        }

        String oneLine() {
            return "hung=" + hung.size() + " corrupt=" + corrupt.size() + " lostWrites=" + lost.size()
                    + " wrongVerdicts=" + count(wrongVerdict) + " pendingVerdicts=" + pendingVerdict.size()
                    + " unnamedFailures=" + count(unnamed) + " notPipelinedFailures=" + count(notPipelined)
                    + " silent=" + silent.size() + " (of " + conns.size() + " connections, " + failed + " failed)";
        }

        List<Executable> checks() {
            return List.of(
                    () -> assertTrue(hung.isEmpty(), () -> hung.size() + " of " + conns.size()
                            + " connections hung (not ended within " + BOUND_MS + " ms): " + byPatternPhase(hung)
                            + examples(hung)),
                    () -> assertTrue(corrupt.isEmpty(), () -> corrupt.size() + " corrupted connections: "
                            + corrupt.stream().limit(EXAMPLES).map(s -> "\n    " + s).collect(Collectors.joining())),
                    () -> assertTrue(lost.isEmpty(), () -> lost.size() + " connections whose write future succeeded"
                            + " but whose bytes did not all reach the server (no server reset): " + byPatternPhase(lost)
                            + examples(lost)),
                    () -> assertTrue(wrongVerdict.isEmpty(), () -> count(wrongVerdict) + " wrong verdicts: handshake"
                            + " witnessed complete (full echo, more bytes at the server than a SYN holds, or bytes at a"
                            + " server child whose SYN had none) but the TfoResult FAILED: " + byPatternPhase(
                            wrongVerdict.values().stream().flatMap(List::stream).collect(Collectors.toList()))
                            + ", by witness and failure:" + grouped(wrongVerdict)),
                    () -> assertTrue(pendingVerdict.isEmpty(), () -> pendingVerdict.size() + " connections whose"
                            + " TfoResult future never completed: " + byPatternPhase(pendingVerdict)
                            + examples(pendingVerdict)),
                    () -> assertTrue(unnamed.isEmpty(), () -> count(unnamed) + " connections with a failure"
                            + (CHECK_AFTER_HANDSHAKE ? "" : " before the verdict") + " reported without the server's"
                            + " name (" + server + "), by message class:" + grouped(unnamed)),
                    () -> assertTrue(notPipelined.isEmpty(), () -> count(notPipelined) + " connections with a failure"
                            + (CHECK_AFTER_HANDSHAKE ? "" : " before the verdict") + " that never reached"
                            + " exceptionCaught, by how it was reported:" + grouped(notPipelined)),
                    () -> assertTrue(silent.isEmpty(), () -> silent.size() + " connections ended short of their"
                            + " goal with no error and no close by the application: " + byPatternPhase(silent)
                            + examples(silent)));
        }

        List<String> summary(long soakMs, String idle, List<String> phases, Map<String, Long> evidence,
                             int clientFds, int clientFdsEnd, int serverFds, int serverFdsEnd) {
            List<String> out = new ArrayList<>();
            String p = "[seam-soak] ";
            out.add(p + conns.size() + " connections (" + WARM_UP + " warm-up) in " + soakMs + " ms, concurrency "
                    + CONCURRENCY + ", backoff " + BACKOFF + ", " + TRANSPORT + "; phases " + phases + "; faults "
                    + evidence + "; server children " + byId.values().stream().mapToInt(List::size).sum()
                    + " (+" + unidentified.size() + " without a header), " + serverBytes + " bytes; " + idle);
            // per pattern, phase and outcome
            Map<String, Map<String, Map<String, Integer>>> table = new TreeMap<>();
            outcome.forEach((c, o) -> table.computeIfAbsent(c.pattern(), k -> new TreeMap<>())
                    .computeIfAbsent(c.phase(), k -> new TreeMap<>()).merge(o, 1, Integer::sum));
            StringBuilder line = new StringBuilder(p + "SUMMARY");
            table.forEach((pattern, phasesOf) -> {
                StringBuilder row = new StringBuilder(p + String.format("%-12s", pattern));
                phasesOf.forEach((ph, counts) -> {
                    row.append(' ').append(ph).append(counts);
                    line.append(' ').append(pattern).append('@').append(ph).append(counts.toString().replace(" ", ""));
                });
                out.add(row.toString());
            });
            out.add(p + "verdicts by phase: " + verdictsByPhase);
            Map<String, List<ClientRec>> byOutcome = new TreeMap<>();
            outcome.forEach((c, o) -> byOutcome.computeIfAbsent(o, k -> new ArrayList<>()).add(c));
            byOutcome.forEach((o, list) -> {
                if (!o.equals("ok") && !o.equals("app-closed")) {
                    String e = examples(list).replace("\n    ", "\n" + p + "    ");
                    out.add(p + list.size() + "x " + o + ", e.g.:" + e);
                }
            });
            out.add(p + "failures before the verdict (the library watching the handshake), by where and message:"
                    + (failuresByClass.isEmpty() ? " none" : ""));
            failuresByClass.forEach((k, n) -> out.add(p + "  " + n + "x " + k));
            out.add(p + "failures after a decided verdict (Netty's own reports), by where and message:"
                    + (postHandshakeByClass.isEmpty() ? " none" : ""));
            postHandshakeByClass.forEach((k, n) -> out.add(p + "  " + n + "x " + k));
            out.add(p + "invariants: " + oneLine() + "; fds client " + clientFds + "->" + clientFdsEnd + ", server "
                    + serverFds + "->" + serverFdsEnd);
            out.add(line.toString());
            return out;
        }
    }
}
