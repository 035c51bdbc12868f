package dev.tfo.scenario;

import java.io.File;
import java.util.HashMap;
import java.util.Map;

/** Helpers of the agent mains. */
final class Agents {
    private Agents() {
    }

    /** An agent body: parses its own arguments, may throw. */
    interface Body {
        void run(String[] args) throws Exception;
    }

    /** Runs an agent's body; a failure prints its stack trace and exits 1, so the test sees it. */
    static void main(Body body, String[] args) {
        try {
            body.run(args);
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(1);
        }
    }

    static Map<String, String> args(String[] args) {
        Map<String, String> m = new HashMap<>();
        for (String s : args) {
            int eq = s.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("expected key=value, got " + s);
            }
            m.put(s.substring(0, eq), s.substring(eq + 1));
        }
        return m;
    }

    static synchronized void out(String line) {
        System.out.println(line);
        System.out.flush();
    }

    static int openFds() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }
}
