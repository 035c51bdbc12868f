package dev.tfo.example.echo;

import dev.tfo.testkit.PrometheusText;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The meters' registry and their HTTP endpoint, on loopback. */
class EchoMetricsTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
    private final PrintStream log = new PrintStream(logBytes, true, StandardCharsets.UTF_8);

    private static HttpResponse<String> send(String method, InetSocketAddress at, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + Main.hostPort(at) + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesThePrometheusTextOnMetricsOnly() throws Exception {
        InetSocketAddress at;
        try (EchoMetrics metrics = EchoMetrics.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), log)) {
            at = metrics.address();
            assertTrue(at.getPort() > 0, at::toString);
            assertEquals("metrics: serving the Prometheus text format on http://" + Main.hostPort(at) + "/metrics\n",
                    logBytes.toString(StandardCharsets.UTF_8));

            HttpResponse<String> get = send("GET", at, "/metrics");
            assertEquals(200, get.statusCode());
            assertEquals(EchoMetrics.CONTENT_TYPE, get.headers().firstValue("Content-Type").orElse(null));
            assertEquals(metrics.scrape(), get.body());
            assertTrue(get.body().contains("# TYPE tfo_backoff_destinations gauge"), get.body());
            assertEquals(0.0, PrometheusText.samplesIn(get.body()).get("tfo_backoff_destinations"), get.body());

            HttpResponse<String> head = send("HEAD", at, "/metrics");
            assertEquals(200, head.statusCode());
            assertEquals("", head.body());
            assertEquals(404, send("GET", at, "/").statusCode());
            assertEquals(404, send("GET", at, "/metrics/more").statusCode());
            HttpResponse<String> post = send("POST", at, "/metrics");
            assertEquals(405, post.statusCode());
            assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElse(null));
        }
        Exception refused = assertThrows(Exception.class, () -> send("GET", at, "/metrics"));
        assertTrue(refused instanceof ConnectException || refused.getCause() instanceof ConnectException,
                "closed: " + refused);
    }

    @Test
    void countsTheResultsItIsTold() throws Exception {
        try (EchoMetrics metrics = EchoMetrics.start(null, log)) {
            assertNull(metrics.address());
            assertEquals("", logBytes.toString(StandardCharsets.UTF_8), "nothing served, nothing said");
            assertTrue(metrics.tfo().clientOptions().toString().contains("resultListener=" + metrics.tfo()));
            Map<String, Double> samples = PrometheusText.samplesIn(metrics.scrape());
            assertEquals(0.0, PrometheusText.sum(samples, "tfo_connections_total", Map.of()));
        }
    }

    @Test
    void aTakenPortIsAnEchoException() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            InetSocketAddress at = new InetSocketAddress(InetAddress.getLoopbackAddress(), taken.getLocalPort());
            EchoException e = assertThrows(EchoException.class, () -> EchoMetrics.start(at, log));
            assertTrue(e.getMessage().startsWith("cannot serve metrics on 127.0.0.1:" + taken.getLocalPort() + ": "),
                    e.getMessage());
            assertTrue(e.getMessage().contains("Address already in use"), e.getMessage());
        }
    }

    @Test
    void closeIsIdempotent() throws Exception {
        EchoMetrics metrics = EchoMetrics.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), log);
        metrics.close();
        metrics.close();
    }
}
