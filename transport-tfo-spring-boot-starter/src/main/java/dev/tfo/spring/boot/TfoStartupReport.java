package dev.tfo.spring.boot;

import dev.tfo.TfoSupport;
import dev.tfo.TfoResultListener;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;

import java.util.ArrayList;
import java.util.List;

/**
 * One log line at startup: which parts have TFO, and, when this host or JVM keeps any of them from working (the
 * kernel's bits, no native transport, macOS, an old Netty), why and the fix. Nothing is logged per connection: a
 * connection without TFO is a plain one, and its outcome (in the meters) says why.
 */
final class TfoStartupReport implements SmartInitializingSingleton {
    private static final Log logger = LogFactory.getLog(TfoStartupReport.class);

    private final ObjectProvider<TfoHttpClientCustomizer> client;
    private final ObjectProvider<TfoHttpServerCustomizer> server;
    private final ObjectProvider<TfoLettuceCustomizer> redis;
    private final ObjectProvider<TfoResultListener> listeners;
    private String line;

    TfoStartupReport(ObjectProvider<TfoHttpClientCustomizer> client, ObjectProvider<TfoHttpServerCustomizer> server,
                     ObjectProvider<TfoLettuceCustomizer> redis, ObjectProvider<TfoResultListener> listeners) {
        this.client = client;
        this.server = server;
        this.redis = redis;
        this.listeners = listeners;
    }

    /** The line logged at startup (for tests), or {@code null} before. */
    String line() {
        return line;
    }

    @Override
    public void afterSingletonsInstantiated() {
        TfoSupport support = TfoSupport.current();
        List<String> parts = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        boolean clientSide = false;
        TfoHttpClientCustomizer http = client.getIfAvailable();
        if (http != null) {
            parts.add("WebClient/RestClient on Reactor Netty (" + http.options().synDataPolicy() + ")");
            clientSide = true;
        }
        TfoLettuceCustomizer lettuce = redis.getIfAvailable();
        if (lettuce != null) {
            if (lettuce.applied()) {
                parts.add("Redis on Lettuce (HELLO only)");
                clientSide = true;
            } else {
                problems.add("Redis: Spring Boot built no Lettuce ClientResources (a ClientResources bean of the "
                        + "application's own gets no TFO: see the starter's README)");
            }
        }
        TfoHttpServerCustomizer listener = server.getIfAvailable();
        if (listener != null) {
            parts.add("Reactor Netty server (TFO queue " + listener.queueLength() + ")");
            if (!TfoHost.nativeServerTransport(support)) {
                problems.add("the server runs on NIO, which cannot accept data in a SYN (epoll or io_uring can)");
            } else if (!support.has(TfoSupport.SERVER)) {
                problems.add("servers: net.ipv4.tcp_fastopen=" + support.sysctl() + " lacks the server bit 0x2");
            }
        }
        if (clientSide && !support.has(TfoSupport.CLIENT)) {
            problems.add("clients: net.ipv4.tcp_fastopen=" + support.sysctl() + " lacks the client bit 0x1");
        }
        // By name: the binder's class needs Micrometer, which may be absent.
        if (listeners.stream().anyMatch(l -> l.getClass().getName().equals("dev.tfo.micrometer.TfoMetrics"))) {
            parts.add("meters tfo.*");
        }
        String what = parts.isEmpty() ? "no part to configure" : String.join(", ", parts);
        if (!TfoHost.librarySupported()) {
            line = "TCP Fast Open is off in this application: " + TfoHost.NETTY_PROBLEM;
            logger.warn(line);
        } else if (problems.isEmpty() || parts.isEmpty()) {
            line = "TCP Fast Open for " + what + ". " + support.summary();
            logger.info(line);
        } else {
            line = "TCP Fast Open configured for " + what + ", but " + String.join("; ", problems)
                    + ": those connections go without TFO. " + support.summary();
            logger.warn(line);
        }
    }
}
