package dev.tfo.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An iptables rule installed in a {@link Host}'s namespace, removed by {@link #close()} (and with the
 * namespace when the {@link Lab} closes). Each rule carries a comment {@code tfo-rule-N} so that its own
 * packet counter can be read ({@link #packets()}), which is how tests prove a fault really hit.
 */
public final class Rule implements AutoCloseable {

    private static final AtomicInteger IDS = new AtomicInteger();

    private final Host host;
    private final String table;
    private final String chain;
    private final List<String> spec;
    private final String comment;
    private boolean closed;

    Rule(Host host, String... ruleArgs) {
        this.host = host;
        int i = 0;
        String t = "filter";
        if (ruleArgs.length >= 2 && ("-t".equals(ruleArgs[0]) || "--table".equals(ruleArgs[0]))) {
            t = ruleArgs[1];
            i = 2;
        }
        if (ruleArgs.length <= i) {
            throw new IllegalArgumentException("iptables rule needs at least a chain, e.g. INPUT -p tcp -j DROP");
        }
        this.table = t;
        this.chain = ruleArgs[i];
        this.comment = "tfo-rule-" + IDS.incrementAndGet();
        List<String> s = new ArrayList<>(List.of(ruleArgs).subList(i + 1, ruleArgs.length));
        int jump = Math.max(s.indexOf("-j"), s.indexOf("--jump"));
        List<String> c = List.of("-m", "comment", "--comment", comment);
        if (jump >= 0) {
            s.addAll(jump, c);
        } else {
            s.addAll(c);
        }
        this.spec = List.copyOf(s);
        host.exec(command("-A"));
    }

    private String[] command(String op) {
        List<String> cmd = new ArrayList<>(List.of("iptables", "-w", "-t", table, op, chain));
        cmd.addAll(spec);
        return cmd.toArray(String[]::new);
    }

    /**
     * Returns how many packets this rule has matched so far.
     *
     * @return the rule's packet counter
     * @throws LabException if the rule cannot be found (already removed)
     */
    public long packets() {
        return counter(0);
    }

    /**
     * Returns how many bytes this rule has matched so far.
     *
     * @return the rule's byte counter
     */
    public long bytes() {
        return counter(1);
    }

    private long counter(int column) {
        String listing = host.exec("iptables", "-w", "-t", table, "-L", chain, "-v", "-x", "-n");
        for (String line : listing.split("\n")) {
            if (line.contains("/* " + comment + " */")) {
                return Long.parseLong(line.trim().split("\\s+")[column]);
            }
        }
        throw new LabException("rule " + comment + " not found in " + table + "/" + chain + " of " + host.name()
                + ":\n" + listing);
    }

    /**
     * Returns the rule as given to {@code iptables -A} (with the chain and the counter comment).
     *
     * @return e.g. {@code -t filter -A INPUT -p tcp --syn ... -j DROP}
     */
    public String spec() {
        return "-t " + table + " -A " + chain + " " + String.join(" ", spec);
    }

    /** Removes the rule from the namespace (if the namespace still exists). Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (host.isAlive()) {
            host.run(command("-D")).orThrow();
        }
    }

    @Override
    public String toString() {
        return "Rule[" + host.name() + ": " + spec() + "]";
    }
}
