package dev.tfo.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Proves LeakGuard's detection routine catches a leaked buffer (and consumes the report itself). */
class LeakGuardTest {

    @Test
    void nettyLogsThroughJdkLogging() {
        assertInstanceOf(JdkLoggerFactory.class, InternalLoggerFactory.getDefaultFactory());
    }

    @Test
    void detectsADeliberatelyLeakedBuffer() {
        ResourceLeakDetector.Level old = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        try {
            LeakGuard.detectLeaks(); // start clean
            System.out.println("LeakGuardTest: the LEAK report that follows is deliberate");
            leakOneBuffer();
            // Detection is asynchronous (GC, reference processing): rerun the routine until it reports.
            List<String> leaks = Wait.forValue("leak reported", Duration.ofSeconds(10), () -> {
                List<String> found = LeakGuard.detectLeaks();
                return found.isEmpty() ? null : found;
            });
            String all = String.join("\n", leaks);
            assertTrue(all.contains("LEAK:"), all);
            assertTrue(all.contains("deliberately leaked by LeakGuardTest"), all);
        } finally {
            ResourceLeakDetector.setLevel(old);
        }
        // The report was consumed above, so LeakGuard's own afterEach finds nothing and the build passes.
    }

    @Test
    void aReleasedBufferIsNoLeak() {
        ByteBuf buf = UnpooledByteBufAllocator.DEFAULT.directBuffer(8);
        buf.writeLong(1);
        buf.release();
        assertEquals(List.of(), LeakGuard.detectLeaks());
    }

    @Test
    void detectionIsCheap() {
        LeakGuard.detectLeaks();
        long start = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            LeakGuard.detectLeaks();
        }
        long perRunMs = (System.nanoTime() - start) / 5 / 1_000_000;
        System.out.println("LeakGuard.detectLeaks() took " + perRunMs + " ms per run");
        assertTrue(perRunMs < 500, "LeakGuard detection takes " + perRunMs + " ms per test");
    }

    @Test
    void childJvmLeakIsReportedOnItsStderr() {
        try (HostProcess p = Host.current().startJava(LeakyMain.class)) {
            assertEquals(0, p.awaitExit(Duration.ofSeconds(60)), p.transcript());
            assertFalse(p.leakReports().isEmpty(), p.transcript());
            assertTrue(p.stderr().contains("deliberately leaked by LeakyMain"), p.transcript());
        }
    }

    private static void leakOneBuffer() {
        ByteBuf buf = UnpooledByteBufAllocator.DEFAULT.directBuffer(16);
        buf.writeLong(7);
        buf.touch("deliberately leaked by LeakGuardTest");
    }
}
