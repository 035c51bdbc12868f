package dev.tfo.bench;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.AnnotationText;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The markdown table and the PNG chart of a run. */
final class Report {
    static final double TFO_MEDIAN_RTT = 1.03;
    static final double TFO_P99_RTT = 1.06;
    static final double RATIO = 0.52;
    /** Library conn/s over hand-written conn/s, per pair (issue 10, section 7). */
    static final double OVERHEAD_RATIO = 0.98;
    /** Hand-written CPU per connection over the library's. */
    static final double OVERHEAD_CPU_RATIO = 0.97;
    /** Bytes per connection the library may allocate beyond the hand-written code. */
    static final int OVERHEAD_EXTRA_BYTES = 256;
    /** Every framework row saves at least this many round trips at the median (issue 9, section 5). */
    static final double FRAMEWORK_SAVED = 0.95;
    /** gRPC unary call on a new channel with transport-tfo-grpc: median at most this many round trips. */
    static final double FRAMEWORK_GRPC_1RTT = 1.15;
    /** Reactor Netty GET with TFO: median at most this many round trips. */
    static final double FRAMEWORK_GET_RTT = 1.05;
    /** Reactor Netty HTTPS GET: TFO median / plain median at most this. */
    static final double FRAMEWORK_HTTPS_RATIO = 0.69;

    private Report() {
    }

    private static String f(String fmt, Object... args) {
        return String.format(Locale.ROOT, fmt, args);
    }

    static String markdown(BenchMain.Results r, BenchMain.Config c) {
        StringBuilder sb = new StringBuilder();
        sb.append("# transport-tfo benchmarks\n\n");
        sb.append("- Date: ").append(r.date).append('\n');
        sb.append("- Machine: ").append(r.machine).append('\n');
        sb.append(f("- Request %d B, response %d B, each on a NEW connection; client and server JVMs in their own"
                + " network namespaces (tcp_fastopen=3), joined by the testkit's DelayWire (TUN relay, one-way"
                + " delay RTT/2, no netem); epoll transport.%n", c.requestBytes, c.responseBytes));
        sb.append("- Benchmark JVMs: -Xms512m -Xmx512m -XX:+UseParallelGC (no GC during a run), Netty leak detection"
                + " off; JIT warmed up on the namespace's loopback first; priority: ").append(r.priority)
                .append(" (the machine is shared and noisy; every variant gets the same).\n");
        if (!r.latency.isEmpty()) {
            sb.append(f("%n## 1. Latency under real round trips%n%n"));
            sb.append(f("%d measured connections per variant and RTT (after %d warm-up rounds), the %d variants"
                    + " interleaved round-robin (order rotating every round). First flight: the request is written"
                    + " before the connect. Connect, then write: plain Netty writes from the connect future's listener;"
                    + " the two TFO variants as the habit, connect().sync() on the caller's thread, then writeAndFlush."
                    + " Latency = connect() call to last response byte read. \"RTT\" columns"
                    + " divide by the nominal RTT (2 x wire delay, e.g. 20 ms); \"path\" is the RTT the client"
                    + " kernel measured (median tcpi_rtt of the plain connections), i.e. the wire including its own"
                    + " relay overhead. Hit rate = TCPFastOpenActive delta in the client namespace / connections.%n%n",
                    c.iterations, c.warmup, Variant.values().length));
            sb.append("| RTT | variant | n | median ms | p90 ms | p99 ms | median RTT | p90 RTT | p99 RTT |"
                    + " median / plain | TFO hit rate | failures |\n");
            sb.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
            for (LatencyResult l : r.latency) {
                double rtt = l.nominalRttMs;
                double plainMedian = l.percentiles(Variant.PLAIN).median();
                for (Variant v : Variant.values()) {
                    Percentiles p = l.percentiles(v);
                    sb.append(f("| %.0f ms (path %.2f) | %s | %d | %.2f | %.2f | %.2f | %.3f | %.3f | %.3f | %s |"
                                    + " %s | %d |%n",
                            rtt, l.kernelRttMs(), v.title(), p.count(), p.median(), p.at(90), p.at(99),
                            p.median() / rtt, p.at(90) / rtt, p.at(99) / rtt,
                            v == Variant.PLAIN ? "1" : f("%.3f", p.median() / plainMedian),
                            pct(l.hitRate(v)), l.failures(v)));
                }
            }
            sb.append('\n');
            for (LatencyResult l : r.latency) {
                StringBuilder outcomes = new StringBuilder();
                StringBuilder fails = new StringBuilder();
                for (Variant v : Variant.values()) {
                    if (v.library()) {
                        outcomes.append(outcomes.length() == 0 ? "" : ", ").append(v.title()).append(' ')
                                .append(l.outcomes(v));
                    }
                    if (v.tfo()) {
                        fails.append(fails.length() == 0 ? "" : ", ").append(v.key()).append(' ')
                                .append(l.activeFail(v));
                    }
                }
                sb.append(f("- RTT %.0f ms: cookie priming connection: %s; library outcomes (TfoResult): %s;"
                        + " ActiveFail delta: %s; wire: %s.%n", l.nominalRttMs, l.primeOutcome, outcomes, fails,
                        l.wireStats));
            }
        }
        if (r.frameworks != null) {
            sb.append(f("%n## 2. Frameworks under real round trips%n%n"));
            sb.append(r.frameworks.markdown(c.frameworkIterations, c.warmup));
            sb.append(f("%n![Frameworks: plain vs TFO](frameworks.png)%n"));
        }
        if (r.overhead != null) {
            sb.append(f("%n## 3. Library overhead on loopback%n%n"));
            sb.append(r.overhead.markdown());
        }
        if (r.alloc != null) {
            sb.append(f("%n## 4. What the library allocates per connection%n%n"));
            sb.append(r.alloc.markdown());
        }
        if (r.blackhole != null) {
            sb.append(f("%n## 5. Black-hole recovery%n%n"));
            sb.append(r.blackhole.markdown());
        }
        sb.append(f("%n## Targets%n%n| target | measured | met |%n|---|---|---|%n"));
        for (String[] t : targets(r)) {
            sb.append("| ").append(t[0]).append(" | ").append(t[1]).append(" | ").append(t[2]).append(" |\n");
        }
        return sb.toString();
    }

    static String pct(double rate) {
        return Double.isNaN(rate) ? "-" : f("%.1f %%", rate * 100);
    }

    /** Each target: name, measured value, "yes"/"NO"/"n/a". */
    static List<String[]> targets(BenchMain.Results r) {
        List<String[]> out = new ArrayList<>();
        for (LatencyResult l : r.latency) {
            double rtt = l.nominalRttMs;
            double plain = l.percentiles(Variant.PLAIN).median();
            for (Variant v : Variant.values()) {
                if (!v.tfo()) {
                    continue;
                }
                Percentiles p = l.percentiles(v);
                String who = f("RTT %.0f, %s", rtt, v.title());
                out.add(row(who + ": median <= " + TFO_MEDIAN_RTT + " RTT", f("%.3f RTT", p.median() / rtt),
                        p.median() / rtt <= TFO_MEDIAN_RTT));
                out.add(row(who + ": p99 <= " + TFO_P99_RTT + " RTT", f("%.3f RTT", p.at(99) / rtt),
                        p.at(99) / rtt <= TFO_P99_RTT));
                out.add(row(who + ": median / plain median <= " + RATIO, f("%.3f", p.median() / plain),
                        p.median() / plain <= RATIO));
                out.add(row(who + ": TFO hit rate 100 %", pct(l.hitRate(v)), l.hitRate(v) >= 1.0));
            }
        }
        if (r.frameworks != null) {
            out.addAll(r.frameworks.targets());
        }
        if (r.overhead != null) {
            out.addAll(r.overhead.targets());
        }
        if (r.blackhole != null) {
            out.addAll(r.blackhole.targets());
        }
        return out;
    }

    static String[] row(String target, String measured, boolean met) {
        return new String[] {target, measured, met ? "yes" : "**NO**"};
    }

    static boolean targetsMet(BenchMain.Results r) {
        return targets(r).stream().allMatch(t -> !t[2].contains("NO"));
    }

    /** One panel per RTT: the empirical CDF of each variant's latency, with the 1 RTT and 2 RTT marks. */
    static void chart(BenchMain.Results r, Path png) throws IOException {
        List<BufferedImage> panels = new ArrayList<>();
        Color[] colors = {new Color(0xD6, 0x27, 0x28), new Color(0x1F, 0x77, 0xB4), new Color(0x2C, 0xA0, 0x2C),
                new Color(0x94, 0x67, 0xBD), new Color(0xFF, 0x7F, 0x0E)};
        for (LatencyResult l : r.latency) {
            XYChart chart = new XYChartBuilder().width(760).height(620)
                    .title(f("New connection + request/response, RTT %.0f ms (path RTT %.2f ms, n=%d each)",
                            l.nominalRttMs, l.kernelRttMs(), l.samples.get(Variant.PLAIN).size()))
                    .xAxisTitle("latency (ms): connect() to last response byte")
                    .yAxisTitle("cumulative share of connections (%)").build();
            Styler s = chart.getStyler();
            s.setLegendPosition(Styler.LegendPosition.OutsideS);
            s.setChartBackgroundColor(Color.WHITE);
            chart.getStyler().setYAxisMin(0.0);
            chart.getStyler().setYAxisMax(100.0);
            chart.getStyler().setXAxisDecimalPattern("0.0");
            chart.getStyler().setYAxisDecimalPattern("0");
            chart.getStyler().setYAxisTickMarkSpacingHint(60);
            chart.getStyler().setXAxisTickMarkSpacingHint(70);
            double lo = Double.MAX_VALUE;
            double hi = 0;
            int k = 0;
            for (Variant v : Variant.values()) {
                double[] x = l.percentiles(v).sorted();
                if (x.length == 0) {
                    continue;
                }
                double[] y = new double[x.length];
                for (int i = 0; i < x.length; i++) {
                    y[i] = 100.0 * (i + 1) / x.length;
                }
                Percentiles p = l.percentiles(v);
                XYSeries series = chart.addSeries(f("%s (median %.2f ms, p99 %.2f ms)", v.title(), p.median(),
                        p.at(99)), x, y);
                series.setMarker(SeriesMarkers.NONE);
                series.setLineColor(colors[k % colors.length]);
                series.setLineStyle(v.tfo() && !v.library() ? SeriesLines.DASH_DASH : SeriesLines.SOLID);
                series.setLineWidth(2.2f);
                lo = Math.min(lo, x[0]);
                hi = Math.max(hi, p.at(99));
                k++;
            }
            double rtt = l.nominalRttMs;
            chart.getStyler().setXAxisMin(Math.min(lo, rtt) - rtt * 0.05);
            chart.getStyler().setXAxisMax(Math.max(hi, 2 * rtt) + rtt * 0.1);
            for (int m = 1; m <= 2; m++) {
                chart.addAnnotation(new AnnotationLine(m * rtt, true, false));
                chart.addAnnotation(new AnnotationText(m + " RTT", m * rtt + rtt * 0.045, 50, false));
            }
            panels.add(BitmapEncoder.getBufferedImage(chart));
        }
        writeSideBySide(panels, png);
    }

    /**
     * One panel per framework request: the empirical CDF of the plain and the TFO latency, with the RTT marks.
     */
    static void frameworkChart(FrameworkResult r, Path png) throws IOException {
        List<BufferedImage> panels = new ArrayList<>();
        double rtt = r.nominalRttMs;
        for (FrameworkCase c : FrameworkCase.values()) {
            XYChart chart = new XYChartBuilder().width(620).height(580)
                    .title(f("%s, RTT %.0f ms", c.title(), rtt))
                    .xAxisTitle("latency (ms): request start to response")
                    .yAxisTitle("cumulative share of requests (%)").build();
            Styler s = chart.getStyler();
            s.setLegendPosition(Styler.LegendPosition.OutsideS);
            s.setChartBackgroundColor(Color.WHITE);
            chart.getStyler().setYAxisMin(0.0);
            chart.getStyler().setYAxisMax(100.0);
            chart.getStyler().setXAxisDecimalPattern("0");
            chart.getStyler().setYAxisDecimalPattern("0");
            chart.getStyler().setYAxisTickMarkSpacingHint(60);
            chart.getStyler().setXAxisTickMarkSpacingHint(70);
            double hi = 0;
            for (boolean tfo : new boolean[] {false, true}) {
                Percentiles p = r.percentiles(c, tfo);
                double[] x = p.sorted();
                if (x.length == 0) {
                    continue;
                }
                double[] y = new double[x.length];
                for (int i = 0; i < x.length; i++) {
                    y[i] = 100.0 * (i + 1) / x.length;
                }
                XYSeries series = chart.addSeries(f("%s: median %.1f ms (%.2f RTT), p99 %.1f ms",
                        tfo ? "TFO" : "plain", p.median(), p.median() / rtt, p.at(99)), x, y);
                series.setMarker(SeriesMarkers.NONE);
                series.setLineColor(tfo ? new Color(0x1F, 0x77, 0xB4) : new Color(0xD6, 0x27, 0x28));
                series.setLineWidth(2.2f);
                hi = Math.max(hi, p.at(99));
            }
            int marks = c.plainRtts();
            chart.getStyler().setXAxisMin(0.0);
            chart.getStyler().setXAxisMax(Math.max(hi, marks * rtt) + rtt * 0.25);
            for (int m = 1; m <= marks; m++) {
                chart.addAnnotation(new AnnotationLine(m * rtt, true, false));
                chart.addAnnotation(new AnnotationText(m + " RTT", m * rtt + rtt * 0.12, 50, false));
            }
            panels.add(BitmapEncoder.getBufferedImage(chart));
        }
        writeSideBySide(panels, png);
    }

    private static void writeSideBySide(List<BufferedImage> panels, Path png) throws IOException {
        int w = panels.stream().mapToInt(BufferedImage::getWidth).sum();
        int h = panels.stream().mapToInt(BufferedImage::getHeight).max().orElse(1);
        BufferedImage all = new BufferedImage(Math.max(1, w), h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = all.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, all.getWidth(), h);
        int x = 0;
        for (BufferedImage p : panels) {
            g.drawImage(p, x, 0, null);
            x += p.getWidth();
        }
        g.dispose();
        Files.createDirectories(png.toAbsolutePath().getParent());
        ImageIO.write(all, "png", png.toFile());
    }
}
