package dev.tfo.bench;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** The requests of {@link FrameworkClient}, per {@link FrameworkCase}, without and with TFO. */
final class FrameworkResult {
    /** One measured request. */
    record Sample(int iteration, double latencyMs, long active, long activeFail, String outcome) {
    }

    final double nominalRttMs;
    final Map<FrameworkCase, List<Sample>> plain = new EnumMap<>(FrameworkCase.class);
    final Map<FrameworkCase, List<Sample>> tfo = new EnumMap<>(FrameworkCase.class);
    final Map<FrameworkCase, String> primeOutcomes = new EnumMap<>(FrameworkCase.class);
    /** The class of the TFO client's channel (from the cookie priming request). */
    final Map<FrameworkCase, String> transports = new EnumMap<>(FrameworkCase.class);
    String wireStats = "?";

    FrameworkResult(double nominalRttMs) {
        this.nominalRttMs = nominalRttMs;
        for (FrameworkCase c : FrameworkCase.values()) {
            plain.put(c, new ArrayList<>());
            tfo.put(c, new ArrayList<>());
        }
    }

    /** Parses {@code FSAMPLE case plain|tfo iteration latencyNanos activeDelta activeFailDelta outcome}. */
    void add(String[] f) {
        FrameworkCase c = FrameworkCase.ofKey(f[1]);
        Sample s = new Sample(Integer.parseInt(f[3]), Long.parseLong(f[4]) / 1e6, Long.parseLong(f[5]),
                Long.parseLong(f[6]), f[7]);
        (f[2].equals("tfo") ? tfo : plain).get(c).add(s);
    }

    List<Sample> samples(FrameworkCase c, boolean withTfo) {
        return (withTfo ? tfo : plain).get(c);
    }

    Percentiles percentiles(FrameworkCase c, boolean withTfo) {
        return new Percentiles(samples(c, withTfo).stream().filter(s -> s.latencyMs() >= 0)
                .mapToDouble(Sample::latencyMs).toArray());
    }

    long failures(FrameworkCase c, boolean withTfo) {
        return samples(c, withTfo).stream().filter(s -> s.latencyMs() < 0).count();
    }

    /** TCPFastOpenActive delta / requests. */
    double hitRate(FrameworkCase c, boolean withTfo) {
        List<Sample> s = samples(c, withTfo);
        return s.isEmpty() ? Double.NaN : s.stream().mapToLong(Sample::active).sum() / (double) s.size();
    }

    long activeFail(FrameworkCase c, boolean withTfo) {
        return samples(c, withTfo).stream().mapToLong(Sample::activeFail).sum();
    }

    /** Round trips saved at the median: (plain median - TFO median) / RTT. */
    double rttSaved(FrameworkCase c) {
        return (percentiles(c, false).median() - percentiles(c, true).median()) / nominalRttMs;
    }

    /** TFO median / plain median. */
    double ratio(FrameworkCase c) {
        return percentiles(c, true).median() / percentiles(c, false).median();
    }

    double medianRtt(FrameworkCase c, boolean withTfo) {
        return percentiles(c, withTfo).median() / nominalRttMs;
    }

    Map<String, Long> outcomes(FrameworkCase c) {
        Map<String, Long> m = new TreeMap<>();
        for (Sample s : tfo.get(c)) {
            m.merge(s.outcome(), 1L, Long::sum);
        }
        return m;
    }

    /** Every request measured, none failed, TFO hit every time with the recipe and never without. */
    boolean valid() {
        for (FrameworkCase c : FrameworkCase.values()) {
            if (plain.get(c).isEmpty() || tfo.get(c).isEmpty() || failures(c, false) > 0 || failures(c, true) > 0
                    || hitRate(c, false) != 0 || hitRate(c, true) < 1.0) {
                return false;
            }
        }
        return true;
    }

    private static String f(String fmt, Object... a) {
        return String.format(Locale.ROOT, fmt, a);
    }

    String markdown(int iterations, int warmup) {
        StringBuilder sb = new StringBuilder();
        sb.append(f("%d measured requests per row (after %d warm-up rounds), each on a NEW connection (no pooling),"
                + " the %d rows interleaved round-robin (order rotating every round), through the DelayWire at RTT"
                + " %.0f ms. Client: one epoll event loop in the client namespace (Vert.x: a Vertx of one event loop"
                + " on its own epoll transport), each framework set up by its README recipe (Vert.x: tfo-frameworks-it's"
                + " FrameworkTfo.vertx; Spring Boot: a Boot 4.0 application's WebClient with transport-tfo-spring-boot-starter,"
                + " tfo.enabled=true, on Reactor Netty's default event loops, Connection: close) for the TFO rows and left"
                + " alone (Boot: tfo.enabled=false) for the plain rows; servers: Reactor Netty"
                + " HttpServer (Reactor Netty's, Vert.x's and Boot's GET) and gRPC-java NettyServerBuilder on epoll with"
                + " TCP_FASTOPEN on the listener, in the server namespace."
                + " Latency = start of the request (gRPC: building the channel) to the response in the caller's hands."
                + " RTT saved = (plain median - TFO median) / RTT. Ideal RTT: the round trips the protocol needs (below);"
                + " median - ideal: what the request costs beyond them, the CPU of client and server (Reactor Netty,"
                + " TLS, gRPC; each request starts after 20+ ms idle, on cold caches, on this 2-vCPU VM), about the"
                + " same with and without TFO. Hit rate = TCPFastOpenActive delta in the client"
                + " namespace / requests.%n%n", iterations, warmup, 2 * FrameworkCase.values().length, nominalRttMs));
        sb.append("| request | client | n | median ms | p90 ms | p99 ms | median RTT | p99 RTT | ideal RTT | median -"
                + " ideal (ms) | RTT saved (median) | TFO / plain | TFO hit rate | failures |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (FrameworkCase c : FrameworkCase.values()) {
            for (boolean withTfo : new boolean[] {false, true}) {
                Percentiles p = percentiles(c, withTfo);
                int ideal = withTfo ? c.tfoRtts() : c.plainRtts();
                sb.append(f("| %s | %s | %d | %.2f | %.2f | %.2f | %.3f | %.3f | %d | %.2f | %s | %s | %s | %d |%n",
                        c.title(), client(c, withTfo), p.count(), p.median(), p.at(90),
                        p.at(99), p.median() / nominalRttMs, p.at(99) / nominalRttMs, ideal,
                        p.median() - ideal * nominalRttMs,
                        withTfo ? f("**%.3f**", rttSaved(c)) : "-", withTfo ? f("**%.3f**", ratio(c)) : "1",
                        Report.pct(hitRate(c, withTfo)), failures(c, withTfo)));
            }
        }
        sb.append('\n');
        for (FrameworkCase c : FrameworkCase.values()) {
            sb.append(f("- %s: cookie priming request: %s; TFO outcomes (TfoResult): %s; ActiveFail delta: plain %d,"
                    + " TFO %d; TFO client channel: %s.%n", c.title(), primeOutcomes.getOrDefault(c, "?"), outcomes(c),
                    activeFail(c, false), activeFail(c, true), transports.getOrDefault(c, "?")));
        }
        sb.append(f("- Wire: %s.%n", wireStats));
        sb.append(f("%nRound trips, read from the medians (the rest is CPU: Reactor Netty, TLS, gRPC):%n%n"
                + "- **GET**: plain = handshake (1 RTT) + request/response (1 RTT); with TFO the GET rides in the SYN"
                + " and the server answers right after its SYN-ACK: %.2f -> %.2f RTT.%n"
                + "- **HTTPS (TLS 1.3)**: plain = handshake + TLS (ClientHello -> server flight) + Finished with the GET"
                + " -> response = 3 RTT; with TFO the ClientHello rides in the SYN, the server's TLS flight follows its"
                + " SYN-ACK: 2 RTT. Measured %.2f -> %.2f RTT.%n"
                + "- **gRPC**: gRPC-java sends a call only once the server's HTTP/2 SETTINGS arrived (its transport is"
                + " \"ready\" only then). Plain: SYN -> SYN-ACK (1 RTT); the server accepts on the final ACK and only"
                + " then sends its SETTINGS, which reach the client at 2 RTT; HEADERS+DATA -> response at 3 RTT. With"
                + " TFO the client's preface and SETTINGS ride in the SYN, the server accepts when the SYN arrives and"
                + " sends its SETTINGS right behind its SYN-ACK (1 RTT), the call's response comes at 2 RTT."
                + " Measured %.2f -> %.2f RTT: one round trip saved of three.%n"
                + "- **gRPC, transport-tfo-grpc** (TfoGrpc.configure): an idempotent call rides in the SYN whole, with"
                + " the preface (the module reads gRPC a SETTINGS frame of its own, allowing one stream, and holds the"
                + " writes until the call's END_STREAM); the server answers it right behind its SYN-ACK: plain %.2f,"
                + " plain recipe %.2f, module %.2f RTT. The non-idempotent call with the module: %.2f RTT (as the plain"
                + " recipe: it waits for the server's SETTINGS).%n"
                + "- **Vert.x GET**: as GET (Vert.x connects, then writes; with the recipe the GET rides in the SYN):"
                + " %.2f -> %.2f RTT.%n"
                + "- **Spring Boot WebClient GET**: as GET, from a Boot application's own WebClient, the starter's"
                + " auto-configuration off (tfo.enabled=false) or on (no line of TFO code): %.2f -> %.2f RTT.%n",
                medianRtt(FrameworkCase.GET, false), medianRtt(FrameworkCase.GET, true),
                medianRtt(FrameworkCase.HTTPS, false), medianRtt(FrameworkCase.HTTPS, true),
                medianRtt(FrameworkCase.GRPC, false), medianRtt(FrameworkCase.GRPC, true),
                medianRtt(FrameworkCase.GRPC_1RTT, false), medianRtt(FrameworkCase.GRPC, true),
                medianRtt(FrameworkCase.GRPC_1RTT, true), medianRtt(FrameworkCase.GRPC_1RTT_UNSAFE, true),
                medianRtt(FrameworkCase.VERTX_GET, false), medianRtt(FrameworkCase.VERTX_GET, true),
                medianRtt(FrameworkCase.BOOT_WEBCLIENT, false), medianRtt(FrameworkCase.BOOT_WEBCLIENT, true)));
        return sb.toString();
    }

    private static String client(FrameworkCase c, boolean withTfo) {
        if (c == FrameworkCase.BOOT_WEBCLIENT) {
            return withTfo ? "**starter, tfo.enabled=true**" : "starter, tfo.enabled=false";
        }
        return !withTfo ? "plain" : c == FrameworkCase.VERTX_GET ? "**TFO (FrameworkTfo.vertx)**"
                : c == FrameworkCase.GRPC_1RTT || c == FrameworkCase.GRPC_1RTT_UNSAFE ? "**TfoGrpc.configure**"
                : "**TFO (README recipe)**";
    }

    List<String[]> targets() {
        List<String[]> out = new ArrayList<>();
        for (FrameworkCase c : FrameworkCase.values()) {
            out.add(Report.row(f("frameworks, %s: RTT saved at the median >= %.2f", c.title(), Report.FRAMEWORK_SAVED),
                    f("%.3f RTT", rttSaved(c)), rttSaved(c) >= Report.FRAMEWORK_SAVED));
            out.add(Report.row(f("frameworks, %s with TFO: TFO hit rate 100 %%", c.title()), Report.pct(hitRate(c, true)),
                    hitRate(c, true) >= 1.0));
        }
        out.add(Report.row(f("frameworks, %s with TFO: median <= %.2f RTT", FrameworkCase.GET.title(),
                Report.FRAMEWORK_GET_RTT), f("%.3f RTT", medianRtt(FrameworkCase.GET, true)),
                medianRtt(FrameworkCase.GET, true) <= Report.FRAMEWORK_GET_RTT));
        out.add(Report.row(f("frameworks, %s: TFO / plain median <= %.2f", FrameworkCase.HTTPS.title(),
                Report.FRAMEWORK_HTTPS_RATIO), f("%.3f", ratio(FrameworkCase.HTTPS)),
                ratio(FrameworkCase.HTTPS) <= Report.FRAMEWORK_HTTPS_RATIO));
        long plainRtts = Math.round(medianRtt(FrameworkCase.GRPC, false));
        long tfoRtts = Math.round(medianRtt(FrameworkCase.GRPC, true));
        out.add(Report.row(f("frameworks, %s: round trips 3 -> 2 (explained above)", FrameworkCase.GRPC.title()),
                f("%.2f -> %.2f RTT", medianRtt(FrameworkCase.GRPC, false), medianRtt(FrameworkCase.GRPC, true)),
                plainRtts == 3 && tfoRtts == 2));
        double oneRtt = medianRtt(FrameworkCase.GRPC_1RTT, true);
        out.add(Report.row(f("frameworks, %s: median <= %.2f RTT", FrameworkCase.GRPC_1RTT.title(),
                Report.FRAMEWORK_GRPC_1RTT), f("%.3f RTT", oneRtt), oneRtt <= Report.FRAMEWORK_GRPC_1RTT));
        double unsafe = medianRtt(FrameworkCase.GRPC_1RTT_UNSAFE, true);
        double today = medianRtt(FrameworkCase.GRPC, true);
        out.add(Report.row(f("frameworks, %s: as the plain recipe's (%s with TFO), within 0.1 RTT",
                        FrameworkCase.GRPC_1RTT_UNSAFE.title(), FrameworkCase.GRPC.title()),
                f("%.3f vs %.3f RTT", unsafe, today), Math.abs(unsafe - today) <= 0.1));
        return out;
    }
}
