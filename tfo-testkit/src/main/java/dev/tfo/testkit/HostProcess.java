package dev.tfo.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A process started in a {@link Host} (by {@link Host#startJava} or {@link Host#start}). Its stdout and
 * stderr are read by background threads and kept as lines; stdin is open for {@link #send}.
 * {@link #close()} destroys it and its descendants; the owning {@link Lab} closes it too.
 */
public final class HostProcess implements AutoCloseable {

    private final String description;
    private final Process process;
    private final List<String> out = new ArrayList<>();
    private final List<String> err = new ArrayList<>();
    private final Thread outReader;
    private final Thread errReader;
    private boolean outEof;
    private boolean errEof;
    private final OutputStream stdin;

    private static final java.util.Set<HostProcess> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (HostProcess p : List.copyOf(LIVE)) {
                p.process.descendants().forEach(ProcessHandle::destroyForcibly);
                p.process.destroyForcibly();
            }
        }, "tfo-hostprocess-cleanup"));
    }

    HostProcess(String description, List<String> command) {
        this(description, command, false);
    }

    HostProcess(String description, List<String> command, boolean scrubNetnsEnv) {
        this.description = description;
        ProcessBuilder pb = new ProcessBuilder(command);
        if (scrubNetnsEnv) {
            // A lab host is not the netns-java namespace: do not let the child believe it is.
            pb.environment().remove("TFO_NETNS");
            pb.environment().remove("TFO_NETNS_ERROR");
        }
        try {
            this.process = pb.start();
        } catch (IOException e) {
            throw new LabException("cannot start " + String.join(" ", command), e);
        }
        this.stdin = process.getOutputStream();
        LIVE.add(this);
        process.onExit().thenRun(() -> LIVE.remove(this));
        this.outReader = reader(process.getInputStream(), out, true);
        this.errReader = reader(process.getErrorStream(), err, false);
    }

    private Thread reader(InputStream in, List<String> sink, boolean isOut) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (this) {
                        sink.add(line);
                        notifyAll();
                    }
                }
            } catch (IOException e) {
                // stream closed on destroy
            } finally {
                synchronized (this) {
                    if (isOut) {
                        outEof = true;
                    } else {
                        errEof = true;
                    }
                    notifyAll();
                }
            }
        }, (isOut ? "stdout-" : "stderr-") + description);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * Waits until some stdout line (printed before or during the wait) matches, and returns the first
     * such line.
     *
     * @param matcher what to look for
     * @param timeout how long to wait at most
     * @return the first matching stdout line
     * @throws LabException on timeout or if the process ends without printing it; the message has
     *                      everything printed so far (stdout and stderr) and the exit code
     */
    public String awaitLine(Predicate<String> matcher, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int checked = 0;
        synchronized (this) {
            while (true) {
                for (; checked < out.size(); checked++) {
                    if (matcher.test(out.get(checked))) {
                        return out.get(checked);
                    }
                }
                if (outEof) {
                    throw new LabException("process ended (" + exitText() + ") without printing the awaited"
                            + " line: " + description + "\n" + transcript());
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new LabException("timed out after " + timeout.toMillis() + " ms awaiting a line from "
                            + description + "\n" + transcript());
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new LabException("interrupted awaiting a line from " + description, e);
                }
            }
        }
    }

    /**
     * Returns the stdout lines printed so far.
     *
     * @return a snapshot of stdout, one element per line
     */
    public synchronized List<String> lines() {
        return List.copyOf(out);
    }

    /**
     * Returns the stderr printed so far.
     *
     * @return stderr text, lines joined with {@code \n}
     */
    public synchronized String stderr() {
        return String.join("\n", err);
    }

    /**
     * Returns the stderr lines that contain {@code LEAK:} (Netty leak reports; a child started by
     * {@link Host#startJava} runs with paranoid leak detection and prints them there). Complete only once
     * the process has exited.
     *
     * @return the leak lines, empty if none
     */
    public synchronized List<String> leakReports() {
        List<String> leaks = new ArrayList<>();
        for (String line : err) {
            if (line.contains("LEAK:")) {
                leaks.add(line);
            }
        }
        return leaks;
    }

    /**
     * Writes one line (a {@code \n} is appended) to the process's stdin and flushes it.
     *
     * @param line the text to send
     */
    public void send(String line) {
        try {
            synchronized (stdin) {
                stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                stdin.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to stdin of " + description + "\n" + transcript(), e);
        }
    }

    /**
     * Closes the process's stdin (end of input).
     */
    public void closeStdin() {
        try {
            stdin.close();
        } catch (IOException e) {
            // already gone
        }
    }

    /**
     * Waits for the process to exit and for its output to be read.
     *
     * @param timeout how long to wait at most
     * @return the exit code
     * @throws LabException on timeout, with everything printed so far
     */
    public int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new LabException("timed out after " + timeout.toMillis() + " ms awaiting exit of "
                        + description + "\n" + transcript());
            }
            outReader.join(5000);
            errReader.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LabException("interrupted awaiting exit of " + description, e);
        }
        return process.exitValue();
    }

    /**
     * Tells whether the process is still running.
     *
     * @return {@code true} while alive
     */
    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Returns the process id of the started command (with {@code ip netns exec} it is the command
     * itself, since {@code ip} execs it).
     *
     * @return the pid
     */
    public long pid() {
        return process.pid();
    }

    /**
     * Destroys the process and all its descendants: SIGTERM first (so a JVM runs its shutdown hooks and
     * reports leaks), SIGKILL after 5 s. Idempotent.
     */
    @Override
    public void close() {
        closeStdin();
        if (!process.isAlive()) {
            return;
        }
        List<ProcessHandle> children = process.descendants().toList();
        children.forEach(ProcessHandle::destroy);
        // Through the handle: Process.destroy() would also close our ends of the pipes, losing what the
        // child prints while it shuts down (a final LEAK report, say).
        process.toHandle().destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                children.forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
            children.forEach(ProcessHandle::destroyForcibly);
            outReader.join(2000);
            errReader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    private String exitText() {
        return process.isAlive() ? "still running" : "exit " + process.exitValue();
    }

    /**
     * Returns a transcript of everything printed so far, for failure messages.
     *
     * @return stdout and stderr, labelled
     */
    public synchronized String transcript() {
        return "--- " + description + " (" + exitText() + ") stdout ---\n" + String.join("\n", out)
                + "\n--- stderr ---\n" + String.join("\n", err);
    }

    @Override
    public String toString() {
        return "HostProcess[" + description + ", pid " + process.pid() + "]";
    }
}
