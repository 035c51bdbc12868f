package dev.tfo.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs short commands to completion. Internal. */
final class Exec {

    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private Exec() {
    }

    static ExecResult run(List<String> command, Duration timeout) {
        ProcessBuilder pb = new ProcessBuilder(command);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return new ExecResult(List.copyOf(command), 127, "", "cannot start: " + e.getMessage());
        }
        try {
            p.getOutputStream().close();
        } catch (IOException ignored) {
            // nothing to write
        }
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread errReader = new Thread(() -> copy(p.getErrorStream(), err), "exec-stderr");
        errReader.setDaemon(true);
        errReader.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread outReader = new Thread(() -> copy(p.getInputStream(), out), "exec-stdout");
        outReader.setDaemon(true);
        outReader.start();
        int code;
        try {
            if (p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                code = p.exitValue();
            } else {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                code = -1;
            }
            outReader.join(5000);
            errReader.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new LabException("interrupted while running " + String.join(" ", command), e);
        }
        String stderr;
        synchronized (err) {
            stderr = err.toString(StandardCharsets.UTF_8);
        }
        if (code == -1) {
            stderr = stderr + "\n(killed after " + timeout.toMillis() + " ms timeout)";
        }
        String stdout;
        synchronized (out) {
            stdout = out.toString(StandardCharsets.UTF_8);
        }
        return new ExecResult(List.copyOf(command), code, stdout, stderr);
    }

    private static void copy(InputStream in, ByteArrayOutputStream sink) {
        byte[] buf = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                synchronized (sink) {
                    sink.write(buf, 0, n);
                }
            }
        } catch (IOException e) {
            if (!"Stream closed".equals(e.getMessage())) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
