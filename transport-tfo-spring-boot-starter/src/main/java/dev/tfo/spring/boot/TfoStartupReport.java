package dev.tfo.spring.boot;

import dev.tfo.TfoResultListener;
import dev.tfo.TfoSupport;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One log line at startup: which parts have TFO, and, when this host or JVM keeps any of them from working (the
 * kernel's bits, no native transport, macOS, an old Netty), why and the fix: INFO when all is well, WARN otherwise.
 * Nothing is logged per connection: a connection without TFO is a plain one, and its outcome (in the meters) says why.
 */
final class TfoStartupReport implements SmartInitializingSingleton {
    private static final Log logger = LogFactory.getLog(TfoStartupReport.class);

    private final ObjectProvider<TfoPart> parts;
    private final ObjectProvider<TfoResultListener> listeners;
    private volatile String line;

    TfoStartupReport(ObjectProvider<TfoPart> parts, ObjectProvider<TfoResultListener> listeners) {
        this.parts = parts;
        this.listeners = listeners;
    }

    /** The line logged at startup, or {@code null} before. */
    String line() {
        return line;
    }

    @Override
    public void afterSingletonsInstantiated() {
        TfoSupport support = TfoSupport.current();
        List<String> what = new ArrayList<>();
        Set<String> problems = new LinkedHashSet<>();
        parts.orderedStream().forEach(part -> {
            what.add(part.description());
            String problem = part.problem(support);
            if (problem != null) {
                problems.add(problem);
            }
        });
        // By name: the binder's class needs Micrometer, which may be absent.
        if (listeners.stream().anyMatch(l -> l.getClass().getName().equals("dev.tfo.micrometer.TfoMetrics"))) {
            what.add("meters tfo.*");
        }
        String configured = what.isEmpty() ? "no part of this application" : String.join(", ", what);
        if (!TfoHost.librarySupported()) {
            line = "TCP Fast Open is off in this application: " + TfoHost.NETTY_PROBLEM;
            logger.warn(line);
        } else if (problems.isEmpty()) {
            line = "TCP Fast Open for " + configured + ". " + support.summary();
            logger.info(line);
        } else {
            line = "TCP Fast Open configured for " + configured + ", but " + String.join("; ", problems)
                    + ": those connections go without TFO. " + support.summary();
            logger.warn(line);
        }
    }
}
