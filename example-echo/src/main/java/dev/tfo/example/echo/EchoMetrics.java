package dev.tfo.example.echo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tfo.micrometer.TfoMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The run's TFO meters ({@link TfoMetrics}) in a Prometheus registry: printed at exit ({@code --metrics}) and
 * served as the Prometheus text format on {@code http://HOST:PORT/metrics} while the run lasts
 * ({@code --metrics-port}).
 *
 * <pre>{@code
 * try (EchoMetrics metrics = EchoMetrics.start(new InetSocketAddress("127.0.0.1", 9464), System.out)) {
 *     EchoServer.start(group, transport, address, System.out, metrics.tfo());
 *     ...
 *     System.out.print(metrics.scrape());
 * }
 * }</pre>
 */
public final class EchoMetrics implements AutoCloseable {
    /** The content type of the Prometheus text format. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    /** The path the meters are served on. */
    static final String PATH = "/metrics";

    private final PrometheusMeterRegistry registry;
    private final TfoMetrics tfo;
    private final HttpServer http;
    private boolean closed;

    private EchoMetrics(PrometheusMeterRegistry registry, TfoMetrics tfo, HttpServer http) {
        this.registry = registry;
        this.tfo = tfo;
        this.http = http;
    }

    /**
     * Binds the TFO meters to a new Prometheus registry and, when {@code serveOn} is given, serves them.
     *
     * @param serveOn where to serve {@value #PATH} (port 0: any free port), or {@code null} not to serve
     * @param log     where the "serving" line goes
     * @throws EchoException when {@code serveOn} cannot be bound (e.g. the port is in use)
     */
    public static EchoMetrics start(InetSocketAddress serveOn, PrintStream log) throws EchoException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        TfoMetrics tfo = new TfoMetrics();
        tfo.bindTo(registry);
        HttpServer http = null;
        if (serveOn != null) {
            try {
                http = HttpServer.create(serveOn, 0);
            } catch (IOException e) {
                registry.close();
                throw new EchoException("cannot serve metrics on " + Main.hostPort(serveOn) + ": "
                        + EchoException.describe(e), e);
            }
            http.createContext(PATH, exchange -> serve(exchange, registry));
            http.start();
        }
        EchoMetrics metrics = new EchoMetrics(registry, tfo, http);
        if (http != null) {
            log.println("metrics: serving the Prometheus text format on http://" + Main.hostPort(metrics.address())
                    + PATH);
        }
        return metrics;
    }

    private static void serve(HttpExchange exchange, PrometheusMeterRegistry registry) throws IOException {
        try (exchange) {
            if (!PATH.equals(exchange.getRequestURI().getPath())) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            if ("HEAD".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** The binder: the result listener of the client's and the server's options. */
    public TfoMetrics tfo() {
        return tfo;
    }

    /** Where the meters are served, with the real port; {@code null} when they are not served. */
    public InetSocketAddress address() {
        return http == null ? null : http.getAddress();
    }

    /** The meters now, in the Prometheus text format. */
    public String scrape() {
        return registry.scrape();
    }

    /** Stops serving (at once) and closes the registry. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (http != null) {
            http.stop(0);
        }
        registry.close();
    }
}
