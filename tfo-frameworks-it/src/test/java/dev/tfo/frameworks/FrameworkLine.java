package dev.tfo.frameworks;

import dev.tfo.testkit.TestTransport;
import org.junit.jupiter.api.Assumptions;

/**
 * The Netty line this module's tests run on (4.2 by default, 4.1 under {@code -P netty-4.1}, where Reactor
 * Netty 1.2 replaces 1.3), and which framework releases exist on it.
 */
final class FrameworkLine {
    private FrameworkLine() {
    }

    static boolean netty41() {
        return TestTransport.nettyVersion().startsWith("4.1.");
    }

    /**
     * Aborts the calling test with a declared reason when the run is on Netty 4.1 and {@code release} exists
     * only for Netty 4.2.
     */
    static void requireNetty42(String release, String onNetty41) {
        if (netty41()) {
            Assumptions.abort(TestTransport.DECLARED + release + " is built for Netty 4.2 (" + onNetty41 + ")");
        }
    }
}
