package dev.tfo.testkit;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrometheusTextTest {
    private static final String SCRAPE = String.join("\n",
            "# HELP tfo_connections_total New connections by TFO outcome",
            "# TYPE tfo_connections_total counter",
            "tfo_connections_total{outcome=\"SYN_DATA_ACKED\",side=\"client\",transport=\"epoll\"} 7.0",
            "tfo_connections_total{outcome=\"COOKIE_REQUESTED\",side=\"client\",transport=\"epoll\"} 1.0",
            "tfo_connections_total{outcome=\"SYN_DATA_ACCEPTED\",side=\"server\",transport=\"epoll\"} 7.0",
            "tfo_backoff_destinations 0.0",
            "");

    @Test
    void sumsSeriesByLabelsAsPromQlDoes() {
        Map<String, Double> s = PrometheusText.parse(SCRAPE);
        assertEquals(4, s.size());
        assertEquals(8.0, PrometheusText.sum(s, "tfo_connections_total", Map.of("side", "client")));
        assertEquals(7.0, PrometheusText.sum(s, "tfo_connections_total",
                Map.of("side", "client", "outcome", "SYN_DATA_ACKED")));
        assertEquals(15.0, PrometheusText.sum(s, "tfo_connections_total", Map.of()));
        assertEquals(0.0, PrometheusText.sum(s, "tfo_backoff_destinations", Map.of()));
        assertEquals(0.0, PrometheusText.sum(s, "tfo_connections", Map.of()), "a name prefix is not the name");
    }

    @Test
    void parseIsStrictAndSamplesInSkipsOtherLines() {
        String output = "client: 3 connections\n" + SCRAPE + "server: stopped\n";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse(output));
        assertTrue(e.getMessage().startsWith("not a Prometheus sample: client: 3 connections"), e.getMessage());
        assertEquals(PrometheusText.parse(SCRAPE), PrometheusText.samplesIn(output));
    }
}
