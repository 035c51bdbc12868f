package dev.tfo.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import java.io.PrintStream;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The JUnit-free core of {@link LeakGuard} (also used by {@link ChildMain} in child JVMs, whose class
 * path need not contain JUnit): switches Netty to JDK logging, captures LEAK records, forces detection.
 * Internal.
 */
final class LeakRecorder {

    static final int DEFAULT_ROUNDS = 2;

    private static final String RLD_LOGGER = ResourceLeakDetector.class.getName();
    private static final List<String> CAPTURED = new ArrayList<>();
    private static final Handler HANDLER = new CaptureHandler();
    /** Strong reference: JUL keeps loggers weakly, and would drop our handler with it. */
    private static Logger rldLogger;
    private static volatile PrintStream echo;
    private static boolean installed;

    static {
        install();
    }

    /**
     * Switches Netty to JDK logging and starts capturing leak records. Idempotent; runs when this class
     * is loaded. If Netty's leak detector had already chosen another logger (some Netty class was
     * initialized earlier), a leak listener on the {@code ByteBuf} detector is installed as a fallback.
     */
    static synchronized void install() {
        if (installed) {
            return;
        }
        installed = true;
        InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE);
        rldLogger = Logger.getLogger(RLD_LOGGER);
        rldLogger.addHandler(HANDLER);
        if (!detectorUsesJdkLogging()) {
            installListenerFallback();
        }
    }

    /**
     * Forces leak detection now and returns (and forgets) every leak record captured since the last call.
     * The routine the extension runs after each test; callable directly, e.g. to prove a leak is caught.
     *
     * @return the {@code LEAK:} records, empty if none
     */
    static List<String> detectLeaks() {
        return detectLeaks(Integer.getInteger("tfo.leakGuard.rounds", DEFAULT_ROUNDS));
    }

    static List<String> detectLeaks(int rounds) {
        install();
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        if (level != ResourceLeakDetector.Level.DISABLED) {
            // Two rounds at least: the reference handler enqueues one GC's references in order, so the
            // second round's sentinel proves the first GC's references are all in the detector's queue.
            for (int i = 0; i < rounds; i++) {
                gcAndAwaitReferenceProcessing();
                poll(level);
            }
        }
        return drain();
    }

    /**
     * Returns (and forgets) the leak records captured so far, without forcing detection.
     *
     * @return the {@code LEAK:} records, empty if none
     */
    static List<String> drain() {
        synchronized (CAPTURED) {
            List<String> copy = List.copyOf(CAPTURED);
            CAPTURED.clear();
            return copy;
        }
    }

    /**
     * Also prints each captured record to {@code out} (used by child JVMs started by
     * {@link Host#startJava}, whose leak records are read from stderr), and stops JDK logging's console
     * from printing them a second time.
     *
     * @param out where to print, or {@code null} to stop echoing
     */
    static void echoTo(PrintStream out) {
        echo = out;
        Logger logger;
        synchronized (LeakRecorder.class) {
            logger = rldLogger;
        }
        if (logger != null) {
            logger.setUseParentHandlers(out == null);
            // LogManager.reset() (a shutdown hook) removes handlers; put ours back if needed.
            boolean present = false;
            for (Handler h : logger.getHandlers()) {
                present |= h == HANDLER;
            }
            if (!present) {
                logger.addHandler(HANDLER);
            }
        }
    }

    private static void record(String text) {
        synchronized (CAPTURED) {
            CAPTURED.add(text);
        }
        PrintStream out = echo;
        if (out != null) {
            out.println(text);
            out.flush();
        }
    }

    private static void gcAndAwaitReferenceProcessing() {
        ReferenceQueue<Object> queue = new ReferenceQueue<>();
        WeakReference<Object> sentinel = new WeakReference<>(new Object(), queue);
        System.gc();
        try {
            // Enqueued by the reference handler once this GC's references are processed.
            queue.remove(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Reference.reachabilityFence(sentinel);
    }

    private static void poll(ResourceLeakDetector.Level level) {
        boolean raise = level != ResourceLeakDetector.Level.PARANOID;
        if (raise) {
            // Below PARANOID only a sample of allocations polls the queue.
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        }
        try {
            for (int i = 0; i < 3; i++) {
                ByteBuf buf = UnpooledByteBufAllocator.DEFAULT.directBuffer(1);
                buf.release();
            }
        } finally {
            if (raise) {
                ResourceLeakDetector.setLevel(level);
            }
        }
    }

    private static boolean detectorUsesJdkLogging() {
        try {
            Field f = ResourceLeakDetector.class.getDeclaredField("logger");
            f.setAccessible(true);
            Object logger = f.get(null);
            return logger != null && logger.getClass().getName().contains("JdkLogger");
        } catch (ReflectiveOperationException | RuntimeException e) {
            return true; // cannot tell; assume the factory we set is in use
        }
    }

    private static void installListenerFallback() {
        try {
            Class<?> abb = Class.forName("io.netty.buffer.AbstractByteBuf");
            Field f = abb.getDeclaredField("leakDetector");
            f.setAccessible(true);
            ResourceLeakDetector<?> detector = (ResourceLeakDetector<?>) f.get(null);
            detector.setLeakListener((resourceType, records) -> record("LEAK: " + resourceType
                    + ".release() was not called before it's garbage-collected (reported via leak listener:"
                    + " Netty's leak logger was not JDK logging)." + records));
            System.err.println("LeakGuard: Netty's ResourceLeakDetector was initialized before LeakGuard;"
                    + " capturing ByteBuf leaks through a leak listener instead of its logger");
        } catch (ReflectiveOperationException | RuntimeException e) {
            System.err.println("LeakGuard: WARNING: Netty's leak logger is not JDK logging and no listener"
                    + " could be installed (" + e + "): leaks may go unreported");
        }
    }

    /** Captures LEAK records logged by Netty's ResourceLeakDetector through JDK logging. */
    private static final class CaptureHandler extends Handler {
        CaptureHandler() {
            setLevel(Level.ALL);
        }

        @Override
        public void publish(LogRecord r) {
            String msg = r.getMessage();
            if (msg == null) {
                return;
            }
            Object[] params = r.getParameters();
            if (params != null && params.length > 0) {
                msg = java.text.MessageFormat.format(msg, params);
            }
            if (msg.contains("LEAK:")) {
                record(msg);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }
}
