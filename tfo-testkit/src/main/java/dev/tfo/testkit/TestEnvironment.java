package dev.tfo.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the current JVM can do, as the testkit's JUnit extensions see it: whether it runs inside a fresh
 * network namespace made by {@code tfo-testkit/bin/netns-java}, whether it can build a {@link Lab}, and
 * whether it runs under CI (where a missing capability must FAIL a test instead of skipping it).
 *
 * <p>Every {@code ...Problem()} method returns the precise reason, or empty when all is well.
 */
public final class TestEnvironment {

    /** The sysctl that must read 3 in a {@link FreshNetns} JVM. */
    public static final Path TCP_FASTOPEN = Path.of("/proc/sys/net/ipv4/tcp_fastopen");

    private static volatile Optional<String> labProblem;

    private TestEnvironment() {
    }

    /**
     * Tells whether this is a CI run: environment variable {@code CI} equals {@code true} (any case).
     *
     * @return {@code true} under CI
     */
    public static boolean isCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /**
     * Tells why this JVM is not a netns-java JVM (fresh namespace, {@code tcp_fastopen} = 3).
     *
     * @return the reason, or empty if this JVM runs in such a namespace
     */
    public static Optional<String> netnsProblem() {
        String error = System.getenv("TFO_NETNS_ERROR");
        if (error != null && !error.isBlank()) {
            return Optional.of("bin/netns-java could not create a network namespace: " + error);
        }
        if (!"1".equals(System.getenv("TFO_NETNS"))) {
            return Optional.of("this JVM was not started by tfo-testkit/bin/netns-java (TFO_NETNS is not 1);"
                    + " tests tagged \"netns\" run in the surefire execution netns-test");
        }
        String value;
        try {
            value = Files.readString(TCP_FASTOPEN).trim();
        } catch (IOException e) {
            return Optional.of("cannot read " + TCP_FASTOPEN + ": " + e);
        }
        if (!"3".equals(value)) {
            return Optional.of("net.ipv4.tcp_fastopen is " + value + " in this JVM's namespace, expected 3");
        }
        // Where we can see it (root), make sure we are not in the init process's namespace.
        try {
            Path self = Files.readSymbolicLink(Path.of("/proc/self/ns/net"));
            Path init = Files.readSymbolicLink(Path.of("/proc/1/ns/net"));
            if (self.equals(init)) {
                return Optional.of("TFO_NETNS=1 but this JVM shares the network namespace of PID 1 (" + self + ")");
            }
        } catch (IOException | SecurityException e) {
            // not permitted for a non-root user: the sysctl check above is what we have
        }
        return Optional.empty();
    }

    /**
     * Tells whether this JVM runs in a network namespace that netns-java made for it (whatever its sysctls
     * say now): the namespace a test may change, and must put back.
     *
     * @return {@code true} when started by netns-java in a namespace other than PID 1's
     */
    public static boolean inOwnNetns() {
        String error = System.getenv("TFO_NETNS_ERROR");
        if (error != null && !error.isBlank() || !"1".equals(System.getenv("TFO_NETNS"))) {
            return false;
        }
        try {
            Path self = Files.readSymbolicLink(Path.of("/proc/self/ns/net"));
            Path init = Files.readSymbolicLink(Path.of("/proc/1/ns/net"));
            return !self.equals(init);
        } catch (IOException | SecurityException e) {
            return true; // not permitted for a non-root user, who cannot change the host's namespace anyway
        }
    }

    /**
     * Tells whether this JVM runs inside a netns-java namespace.
     *
     * @return {@code true} if {@link #netnsProblem()} is empty
     */
    public static boolean inFreshNetns() {
        return netnsProblem().isEmpty();
    }

    /**
     * Tells why a {@link Lab} cannot be built here: needs real root (uid 0, not inside a user namespace)
     * and the tools {@code ip}, {@code tcpdump} and {@code iptables}, each of which must run. Computed
     * once per JVM.
     *
     * @return the reason(s), or empty if a lab can be built
     */
    public static Optional<String> labProblem() {
        Optional<String> p = labProblem;
        if (p == null) {
            synchronized (TestEnvironment.class) {
                p = labProblem;
                if (p == null) {
                    p = computeLabProblem();
                    labProblem = p;
                }
            }
        }
        return p;
    }

    private static Optional<String> computeLabProblem() {
        List<String> problems = new ArrayList<>();
        if (!isRoot()) {
            problems.add("not root (effective uid " + effectiveUid() + ")");
        } else if (inUserNamespace()) {
            problems.add("uid 0 only inside a user namespace (/proc/self/uid_map is not the identity map):"
                    + " ip netns and iptables need real root");
        }
        checkTool(problems, "ip", "-V");
        checkTool(problems, "tcpdump", "--version");
        checkTool(problems, "iptables", "--version");
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
    }

    private static void checkTool(List<String> problems, String... cmd) {
        ExecResult r = Exec.run(List.of(cmd), Duration.ofSeconds(10));
        if (!r.ok()) {
            problems.add("'" + String.join(" ", cmd) + "' does not run (exit " + r.exitCode() + ": "
                    + (r.stderr() + r.stdout()).strip().replace('\n', ' ') + ")");
        }
    }

    /**
     * Tells whether the effective uid is 0.
     *
     * @return {@code true} for (possibly namespaced) root
     */
    public static boolean isRoot() {
        return effectiveUid() == 0;
    }

    /**
     * Tells whether this process runs in a user namespace other than the initial one (uid_map is not the
     * identity map {@code 0 0 4294967295}).
     *
     * @return {@code true} inside a user namespace (e.g. under {@code unshare -rn})
     */
    public static boolean inUserNamespace() {
        try {
            String map = Files.readString(Path.of("/proc/self/uid_map")).trim();
            return !map.replaceAll("\\s+", " ").equals("0 0 4294967295");
        } catch (IOException e) {
            return false;
        }
    }

    static long effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return "root".equals(System.getProperty("user.name")) ? 0 : -1;
    }
}
