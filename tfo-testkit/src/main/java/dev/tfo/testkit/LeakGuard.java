package dev.tfo.testkit;

import io.netty.util.ResourceLeakDetector;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test when Netty's {@link ResourceLeakDetector} reports a leak.
 *
 * <p>Registered for every test of the project through {@code META-INF/services} (the root pom turns on
 * {@code junit.jupiter.extensions.autodetection.enabled}). When loaded it forces Netty's logging to JDK
 * logging (so that an slf4j without binding on the test classpath cannot swallow the reports) and
 * captures every {@code LEAK:} record. After each test (and each class) it forces detection: a GC, a
 * wait for reference processing, then a few tracked buffers allocated and released so that the detector
 * polls its queue, in {@value #DEFAULT_ROUNDS} rounds (system property {@code tfo.leakGuard.rounds}),
 * about 15 ms. Any record found fails the test with the record text. Only {@code ByteBuf} leaks are
 * actively polled; other resource types are reported whenever their own detectors poll.
 *
 * <p>A leak reported after test N may come from an earlier test whose object was collected late; the
 * message says so. If some Netty class initialized the leak detector before this extension was loaded
 * (so it logs elsewhere), a leak listener on the {@code ByteBuf} detector is used instead.
 */
public final class LeakGuard implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {

    /** Default number of forced GC + poll rounds after each test. */
    public static final int DEFAULT_ROUNDS = LeakRecorder.DEFAULT_ROUNDS;

    static {
        LeakRecorder.install();
    }

    /** Creates the extension (JUnit's ServiceLoader does). */
    public LeakGuard() {
    }

    /**
     * Switches Netty to JDK logging and starts capturing leak records. Idempotent; runs when this class
     * is loaded.
     */
    public static void install() {
        LeakRecorder.install();
    }

    /**
     * Forces leak detection now and returns (and forgets) every leak record captured since the last call.
     * The routine the extension runs after each test; callable directly, e.g. to prove a leak is caught.
     *
     * @return the {@code LEAK:} records, empty if none
     */
    public static List<String> detectLeaks() {
        return LeakRecorder.detectLeaks();
    }

    /**
     * Returns (and forgets) the leak records captured so far, without forcing detection.
     *
     * @return the {@code LEAK:} records, empty if none
     */
    public static List<String> drain() {
        return LeakRecorder.drain();
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        LeakRecorder.install();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        failOnLeaks("after test " + context.getDisplayName());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        failOnLeaks("after all tests of " + context.getDisplayName());
    }

    private static void failOnLeaks(String when) {
        List<String> leaks = LeakRecorder.detectLeaks();
        if (!leaks.isEmpty()) {
            throw new AssertionError("Netty reported " + leaks.size() + " leak(s) " + when
                    + " (the object may have been created by an earlier test and collected late):\n"
                    + String.join("\n\n", leaks));
        }
    }
}
