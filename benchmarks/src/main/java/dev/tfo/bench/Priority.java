package dev.tfo.bench;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Raises the CPU priority (nice value) of every thread of this JVM, and so of the threads it starts later
 * (a new thread inherits its creator's nice value): the measured JVMs then win the CPU against unrelated
 * load on a small shared machine (builds, containers). Applied equally to every variant. Needs root; does
 * nothing if it cannot (and says so on stdout: {@code PRIORITY ...}).
 */
final class Priority {
    static final int NICE = -15;

    private Priority() {
    }

    /**
     * Renices every thread of this JVM; with {@code realtime}, also puts the CALLING thread in SCHED_FIFO
     * (priority 5), which threads it creates afterwards (Netty's event loops) inherit. Only for latency-bound
     * benchmarks whose threads mostly sleep (one connection at a time): never for throughput loops.
     */
    static String raise(boolean realtime) {
        String nice = raise();
        if (!realtime) {
            return nice;
        }
        try {
            long tid = Long.parseLong(new File("/proc/thread-self").getCanonicalFile().getName());
            Process p = new ProcessBuilder("chrt", "-f", "-p", "5", Long.toString(tid)).redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return nice + ", chrt failed: " + out.strip();
            }
            return nice + ", SCHED_FIFO 5 for the main thread and the event loops";
        } catch (Exception e) {
            return nice + ", chrt failed: " + e;
        }
    }

    static String raise() {
        File[] tasks = new File("/proc/self/task").listFiles();
        if (tasks == null) {
            return "no /proc/self/task";
        }
        List<String> cmd = new ArrayList<>(List.of("renice", "-n", Integer.toString(NICE), "-p"));
        for (File t : tasks) {
            cmd.add(t.getName());
        }
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return "renice failed: " + out.strip();
            }
            return "nice " + NICE;
        } catch (Exception e) {
            return "renice failed: " + e;
        }
    }
}
