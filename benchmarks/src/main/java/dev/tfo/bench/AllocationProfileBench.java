package dev.tfo.bench;

import dev.tfo.TfoCounters;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Where the client's bytes go, per connection and per object type, for each {@link Variant}: run in a namespace
 * of its own ({@code tcp_fastopen=3}) on loopback, the same connections as {@link OverheadBench} (request/response
 * on new connections, 8 in flight, one client event loop named {@code alloc-client}, the server on another event
 * loop of this JVM).
 *
 * <p>Exact, not sampled: the JVM runs with G1 and {@code -XX:-UseTLAB}, so that every allocation, from
 * interpreted and compiled code alike, takes the runtime's slow path and raises a JFR
 * {@code jdk.ObjectAllocationOutsideTLAB} event with its class, size and stack trace. (ParallelGC and Serial GC
 * allocate inline in eden without a TLAB and raise no event.) Escape analysis still runs: the profile is of the
 * compiled code after a warm-up, with its scalar-replaced objects gone, as in production. The JVM's own count
 * ({@code ThreadMXBean.getThreadAllocatedBytes}) of the same threads over the same connections is printed
 * alongside, as a check that the events saw every byte.
 *
 * <p>Then, with {@code SYSCALL_CONNECTIONS} &gt; 0, the system calls of the client's two threads per variant,
 * counted by {@code strace -c} attached to those threads only.
 *
 * <p>Args: {@code WARMUP_ROUNDS CONNECTIONS CONCURRENCY REQUEST_BYTES RESPONSE_BYTES [SYSCALL_CONNECTIONS]}. Prints
 * per variant {@code ALLOC variant connections threadBytes eventBytes events failures activeDelta}, then
 * {@code TYPE variant class count bytes} per object type and {@code SITE variant class libraryFrame topFrame
 * count bytes} per allocation site under a library frame, then {@code SYSCALL variant connections name calls
 * errors failures} (fields separated by tabs), then {@code DONE}.
 */
public final class AllocationProfileBench {
    static final String CLIENT_THREADS = "alloc-client";
    static final String EVENT = "jdk.ObjectAllocationOutsideTLAB";

    private AllocationProfileBench() {
    }

    /**
     * @param args warm-up rounds (of 500 connections per variant), connections per profiled variant, concurrency,
     *             request bytes, response bytes
     */
    public static void main(String[] args) throws Exception {
        int warmupRounds = Integer.parseInt(args[0]);
        int connections = Integer.parseInt(args[1]);
        int concurrency = Integer.parseInt(args[2]);
        int req = Integer.parseInt(args[3]);
        int resp = Integer.parseInt(args[4]);
        int syscallConnections = args.length > 5 ? Integer.parseInt(args[5]) : 0;
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        mx.setThreadAllocatedMemoryEnabled(true);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(CLIENT_THREADS),
                EpollIoHandler.newFactory());
        try (BenchServer server = BenchServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), req,
                resp, 1)) {
            long loopThread = group.next().submit(() -> Thread.currentThread().getId()).get();
            long[] threads = {Thread.currentThread().getId(), loopThread};
            OverheadBench bench = new OverheadBench(new Clients(group, req, resp, null, false), server.address(),
                    concurrency);
            bench.round(Variant.TFO_BOOTSTRAPS, 1); // the cookie
            for (int r = 0; r < warmupRounds; r++) {
                for (Variant v : Variant.values()) {
                    bench.round(v, 500);
                }
            }
            bench.failuresAndReset();
            Path dir = Files.createTempDirectory("tfo-alloc");
            for (Variant v : Variant.values()) {
                Path jfr = dir.resolve(v.key() + ".jfr");
                TfoCounters before = TfoCounters.snapshot();
                long a0;
                long a1;
                try (Recording recording = new Recording()) {
                    recording.enable(EVENT).withStackTrace();
                    recording.start();
                    a0 = sum(mx.getThreadAllocatedBytes(threads));
                    bench.round(v, connections);
                    a1 = sum(mx.getThreadAllocatedBytes(threads));
                    recording.stop();
                    recording.dump(jfr);
                }
                long active = TfoCounters.snapshot().minus(before).active();
                report(v, jfr, connections, a1 - a0, bench.failuresAndReset(), active);
                Files.delete(jfr);
            }
            Files.delete(dir);
            if (syscallConnections > 0) {
                long mainTid = osThreadId();
                long loopTid = group.next().submit(AllocationProfileBench::osThreadId).get();
                for (Variant v : Variant.values()) {
                    syscalls(bench, v, syscallConnections, mainTid, loopTid);
                }
            }
            System.out.println("DONE");
            System.out.flush();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static void report(Variant v, Path jfr, int connections, long threadBytes, long failures, long active)
            throws Exception {
        Map<String, long[]> types = new HashMap<>();
        Map<String, long[]> sites = new HashMap<>();
        long bytes = 0;
        long events = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
            if (!e.getEventType().getName().equals(EVENT) || e.getThread() == null) {
                continue;
            }
            String thread = e.getThread().getJavaName();
            if (thread == null || !(thread.equals("main") || thread.startsWith(CLIENT_THREADS))) {
                continue;
            }
            if (inRecorder(e.getStackTrace())) {
                continue; // JFR's own work on the caller thread while the recording starts and stops
            }
            String type = typeName(e.getClass("objectClass").getName());
            long size = e.getLong("allocationSize");
            bytes += size;
            events++;
            add(types, type, size);
            String library = libraryFrame(e.getStackTrace());
            if (library != null) {
                add(sites, type + "\t" + library + "\t" + topFrame(e.getStackTrace()), size);
            }
        }
        System.out.printf("ALLOC\t%s\t%d\t%d\t%d\t%d\t%d\t%d%n", v.key(), connections, threadBytes, bytes, events,
                failures, active);
        types.forEach((k, c) -> System.out.printf("TYPE\t%s\t%s\t%d\t%d%n", v.key(), k, c[0], c[1]));
        sites.forEach((k, c) -> System.out.printf("SITE\t%s\t%s\t%d\t%d%n", v.key(), k, c[0], c[1]));
        System.out.flush();
    }

    /**
     * Counts the system calls of the client's two threads over {@code n} connections of a variant:
     * {@code strace -c} attached to exactly those threads (the server's threads are not traced). Prints
     * {@code SYSCALL variant connections name calls errors} per system call.
     */
    private static void syscalls(OverheadBench bench, Variant v, int n, long mainTid, long loopTid) throws Exception {
        Path out = Files.createTempFile("tfo-strace", ".txt");
        Process strace = new ProcessBuilder("strace", "-c", "-o", out.toString(), "-p", Long.toString(mainTid), "-p",
                Long.toString(loopTid)).redirectErrorStream(true).start();
        java.io.BufferedReader err = new java.io.BufferedReader(new java.io.InputStreamReader(strace.getInputStream()));
        int attached = 0;
        String line;
        while (attached < 2 && (line = err.readLine()) != null) {
            if (line.contains("attached")) {
                attached++;
            }
        }
        if (attached < 2) {
            throw new IllegalStateException("strace did not attach to the client threads (is strace installed?)");
        }
        bench.round(v, n);
        long failures = bench.failuresAndReset();
        new ProcessBuilder("kill", "-INT", Long.toString(strace.pid())).start().waitFor();
        if (!strace.waitFor(30, TimeUnit.SECONDS)) {
            strace.destroyForcibly();
            throw new IllegalStateException("strace did not stop");
        }
        for (String l : Files.readAllLines(out)) {
            String[] f = l.trim().split("\\s+");
            if (f.length >= 5 && f[0].matches("[0-9.]+") && !f[f.length - 1].equals("total")) {
                String errors = f.length >= 6 ? f[4] : "0";
                System.out.printf("SYSCALL\t%s\t%d\t%s\t%s\t%s\t%d%n", v.key(), n, f[f.length - 1], f[3], errors,
                        failures);
            }
        }
        Files.delete(out);
    }

    /** The calling thread's kernel thread id. */
    static long osThreadId() throws java.io.IOException {
        return Long.parseLong(new java.io.File("/proc/thread-self").getCanonicalFile().getName());
    }

    private static void add(Map<String, long[]> m, String key, long size) {
        long[] c = m.computeIfAbsent(key, k -> new long[2]);
        c[0]++;
        c[1] += size;
    }

    /** A lambda's or hidden class's name without its per-run suffix ({@code Foo$$Lambda$123/0x...} -> {@code Foo$$Lambda}). */
    static String typeName(String name) {
        int lambda = name.indexOf("$$Lambda");
        if (lambda >= 0) {
            return name.substring(0, lambda + "$$Lambda".length());
        }
        int hidden = name.indexOf("/0x");
        return hidden >= 0 ? name.substring(0, hidden) : name;
    }

    /** The frame nearest the allocation that runs library code ({@code dev.tfo}, not the benchmark), or {@code null}. */
    static String libraryFrame(RecordedStackTrace stack) {
        if (stack == null) {
            return null;
        }
        for (RecordedFrame f : stack.getFrames()) {
            String cls = f.getMethod().getType().getName();
            if (cls.startsWith("dev.tfo.") && !cls.startsWith("dev.tfo.bench.") && !cls.startsWith("dev.tfo.testkit.")) {
                return frame(f);
            }
        }
        return null;
    }

    private static boolean inRecorder(RecordedStackTrace stack) {
        if (stack != null) {
            for (RecordedFrame f : stack.getFrames()) {
                if (f.getMethod().getType().getName().startsWith("jdk.jfr.")) {
                    return true;
                }
            }
        }
        return false;
    }

    static String topFrame(RecordedStackTrace stack) {
        List<RecordedFrame> frames = stack.getFrames();
        return frames.isEmpty() ? "?" : frame(frames.get(0));
    }

    private static String frame(RecordedFrame f) {
        String cls = typeName(f.getMethod().getType().getName());
        return cls.substring(cls.lastIndexOf('.') + 1) + "." + f.getMethod().getName() + ":" + f.getLineNumber();
    }

    private static long sum(long[] values) {
        long s = 0;
        for (long v : values) {
            s += v;
        }
        return s;
    }
}
