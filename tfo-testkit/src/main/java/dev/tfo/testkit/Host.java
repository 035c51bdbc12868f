package dev.tfo.testkit;

import java.io.File;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A host of a {@link Lab}: a network namespace of its own ({@code ip netns}), with {@code lo} up. It has
 * its own sysctls, TcpExt counters, TFO cookie cache, iptables and processes.
 *
 * <p>{@link #current()} is the same API for this JVM's own namespace (e.g. inside a netns-java JVM);
 * there, changes (sysctl, iptables, addresses) are refused unless this JVM runs in a fresh namespace
 * made by netns-java, so the build host's own settings are never touched.
 */
public final class Host {

    private final Lab lab;
    private final String label;
    private final String namespace;
    private final List<String> prefix;
    private volatile boolean alive = true;
    private int interfaces;

    Host(Lab lab, String label, String namespace) {
        this.lab = lab;
        this.label = label;
        this.namespace = namespace;
        this.prefix = namespace == null ? List.of() : List.of("ip", "netns", "exec", namespace);
    }

    /**
     * Returns a host standing for this JVM's own network namespace (not owned by any lab: close what you
     * start on it yourself). Changing it is refused unless this JVM runs in a netns-java namespace.
     *
     * @return the current namespace as a host
     */
    public static Host current() {
        return new Host(null, "current", null);
    }

    /**
     * Returns the network namespace's name, as {@code ip netns exec NAME} uses it (e.g.
     * {@code tfo-4242-3-server}); {@code "current"} for {@link #current()}.
     *
     * @return the namespace name
     */
    public String name() {
        return namespace == null ? "current" : namespace;
    }

    /**
     * Returns the short name given to {@link Lab#host(String)}.
     *
     * @return the label, e.g. {@code server}
     */
    public String label() {
        return label;
    }

    /**
     * Returns the lab that owns this host.
     *
     * @return the lab, or {@code null} for {@link #current()}
     */
    public Lab lab() {
        return lab;
    }

    /**
     * Tells whether the namespace still exists (false once the lab is closed).
     *
     * @return {@code true} until the lab deletes the namespace
     */
    public boolean isAlive() {
        return alive;
    }

    void markDead() {
        alive = false;
    }

    synchronized String nextInterfaceName() {
        return "eth" + interfaces++;
    }

    /**
     * Runs a command in this namespace ({@code ip netns exec NS cmd...}) and returns its outcome
     * without throwing on a non-zero exit.
     *
     * @param cmd the command and its arguments
     * @return exit code, stdout and stderr
     */
    public ExecResult run(String... cmd) {
        List<String> full = new ArrayList<>(prefix);
        full.addAll(Arrays.asList(cmd));
        return Exec.run(full, Exec.DEFAULT_TIMEOUT);
    }

    /**
     * Runs a command in this namespace and returns its stdout.
     *
     * @param cmd the command and its arguments
     * @return the command's stdout
     * @throws LabException with stderr and exit code if it fails
     */
    public String exec(String... cmd) {
        return run(cmd).orThrow().stdout();
    }

    /**
     * Sets a sysctl in this namespace (e.g. {@code net.ipv4.tcp_fastopen}, {@code 3}); only namespaced
     * sysctls ({@code net.*}) belong to the host.
     *
     * @param key   the sysctl name, dotted
     * @param value the value to write
     * @return this host
     * @throws LabException if it cannot be written
     */
    public Host sysctl(String key, String value) {
        requireMutable("set sysctl " + key);
        exec("sh", "-c", "printf '%s\\n' \"$1\" > \"$0\"", sysctlPath(key), value);
        return this;
    }

    /**
     * Reads a sysctl in this namespace.
     *
     * @param key the sysctl name, dotted
     * @return its value, trimmed
     */
    public String sysctl(String key) {
        return exec("cat", sysctlPath(key)).trim();
    }

    private static String sysctlPath(String key) {
        if (key.contains("..") || key.startsWith("/")) {
            throw new IllegalArgumentException("not a sysctl name: " + key);
        }
        return "/proc/sys/" + key.replace('.', '/');
    }

    /**
     * Returns the text of {@code /proc/net/netstat} in this namespace (TcpExt and IpExt counters).
     *
     * @return the file's content
     */
    public String netstat() {
        return exec("cat", "/proc/net/netstat");
    }

    /**
     * Returns one TcpExt counter of this namespace, e.g. {@code TCPFastOpenActive}.
     *
     * @param counter the counter's name as in {@code /proc/net/netstat}
     * @return its value
     * @throws LabException if there is no such counter
     */
    public long tcpExt(String counter) {
        return Netstat.counter(netstat(), "TcpExt", counter);
    }

    /**
     * Adds an address to an interface of this host, e.g. a VIP on {@code lo}:
     * {@code addAddress("lo", "198.19.255.1/32")}. Use addresses from 198.18.0.0/15 only.
     *
     * @param iface the interface
     * @param cidr  address and prefix length
     * @return the address added
     */
    public InetAddress addAddress(String iface, String cidr) {
        requireMutable("add address " + cidr);
        exec("ip", "addr", "add", cidr, "dev", iface);
        return parseAddress(cidr);
    }

    /**
     * Removes an address from an interface of this host.
     *
     * @param iface the interface
     * @param cidr  address and prefix length, as added
     */
    public void removeAddress(String iface, String cidr) {
        requireMutable("remove address " + cidr);
        exec("ip", "addr", "del", cidr, "dev", iface);
    }

    /**
     * Starts a command in this namespace.
     *
     * @param cmd the command and its arguments
     * @return the running process (closed by the lab at the latest)
     */
    public HostProcess start(String... cmd) {
        List<String> full = new ArrayList<>(prefix);
        full.addAll(Arrays.asList(cmd));
        HostProcess p = new HostProcess(label + ": " + String.join(" ", cmd), full);
        register(p);
        return p;
    }

    /**
     * Starts a JVM in this namespace: {@code ip netns exec NS java -cp <this JVM's class path>
     * -Dio.netty.leakDetection.level=paranoid <mainClass> args}. The main runs behind a small trampoline
     * that forces Netty's logging to JDK logging and checks for leaks at exit, so leak records land on
     * stderr ({@link HostProcess#leakReports()}).
     *
     * @param mainClass the class with {@code main(String[])}
     * @param args      its arguments
     * @return the running process (closed by the lab at the latest)
     */
    public HostProcess startJava(Class<?> mainClass, String... args) {
        return startJava(List.of(), mainClass, args);
    }

    /**
     * Like {@link #startJava(Class, String...)} with extra JVM options (e.g. {@code -Xmx64m}).
     *
     * @param jvmArgs   JVM options, placed before the main class
     * @param mainClass the class with {@code main(String[])}
     * @param args      its arguments
     * @return the running process (closed by the lab at the latest)
     */
    public HostProcess startJava(List<String> jvmArgs, Class<?> mainClass, String... args) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("-Dio.netty.leakDetection.level=paranoid");
        cmd.add("-Djava.util.logging.manager=" + ChildLogManager.class.getName());
        cmd.addAll(jvmArgs);
        cmd.add(ChildMain.class.getName());
        cmd.add(mainClass.getName());
        cmd.addAll(Arrays.asList(args));
        HostProcess p = new HostProcess(label + ": java " + mainClass.getSimpleName() + " "
                + String.join(" ", args), cmd, namespace != null);
        register(p);
        return p;
    }

    /**
     * Starts a packet capture in this namespace; returns once tcpdump is listening.
     *
     * @param iface     the interface (e.g. {@code eth0}, {@code lo}, {@code any})
     * @param bpfFilter tcpdump filter, e.g. {@code "tcp port 7000"}
     * @return the running capture (stopped by the lab at the latest)
     */
    public Capture capture(String iface, String bpfFilter) {
        Capture c = new Capture(prefix, name(), iface, bpfFilter);
        register(c);
        return c;
    }

    /**
     * Installs an iptables rule in this namespace: the arguments after {@code iptables -A}, i.e. the
     * chain first (optionally preceded by {@code -t TABLE}), e.g.
     * {@code iptables("INPUT", "-p", "tcp", "--dport", "7", "-j", "DROP")}.
     *
     * @param ruleArgs the rule
     * @return the rule; close it to remove it
     */
    public Rule iptables(String... ruleArgs) {
        requireMutable("install iptables rule " + String.join(" ", ruleArgs));
        Rule r = new Rule(this, ruleArgs);
        register(r);
        return r;
    }

    /**
     * Drops every incoming SYN that carries data (TFO first flights; IPv4):
     * {@code iptables -A INPUT -p tcp --syn -m length --length 81:65535 -j DROP}. 20 bytes of IP header
     * plus at most 60 of TCP header is 80, so anything longer has payload. Install it on the server.
     *
     * @return the rule; close it to remove it
     */
    public Rule dropSynWithData() {
        return iptables("INPUT", "-p", "tcp", "--syn", "-m", "length", "--length", "81:65535", "-j", "DROP");
    }

    /**
     * Drops only the FIRST SYN-ACK that arrives at this host (IPv4), then lets all others through:
     * {@code iptables -A INPUT -p tcp --tcp-flags SYN,ACK,RST,FIN SYN,ACK -m statistic --mode nth
     * --every 1000000000 --packet 0 -j DROP}. The nth counter of the rule starts at 0 and matches when
     * it wraps, which is on the first matching packet (checked by the testkit's tests). Install it on a
     * client; the handshake then completes only after the server's SYN-ACK retransmission (~1 s).
     *
     * @return the rule; its {@link Rule#packets()} is 1 once it has dropped its SYN-ACK
     */
    public Rule dropFirstSynAck() {
        return iptables("INPUT", "-p", "tcp", "--tcp-flags", "SYN,ACK,RST,FIN", "SYN,ACK", "-m", "statistic",
                "--mode", "nth", "--every", "1000000000", "--packet", "0", "-j", "DROP");
    }

    private void register(AutoCloseable resource) {
        if (lab != null) {
            lab.register(resource);
        }
    }

    private void requireMutable(String what) {
        if (!alive) {
            throw new IllegalStateException("host " + name() + " is gone (lab closed): cannot " + what);
        }
        if (namespace == null && !TestEnvironment.inOwnNetns()) {
            throw new IllegalStateException("refusing to " + what + " in this JVM's own namespace: it is not a"
                    + " fresh netns-java namespace (" + TestEnvironment.netnsProblem().orElse("?") + ")");
        }
    }

    static InetAddress parseAddress(String cidr) {
        int slash = cidr.indexOf('/');
        String a = slash < 0 ? cidr : cidr.substring(0, slash);
        try {
            return InetAddress.getByName(a);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an address: " + cidr, e);
        }
    }

    @Override
    public String toString() {
        return "Host[" + label + " = " + name() + "]";
    }
}
