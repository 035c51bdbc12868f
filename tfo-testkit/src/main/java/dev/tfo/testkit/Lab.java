package dev.tfo.testkit;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A throw-away network of hosts on this machine: each {@link Host} is a network namespace
 * ({@code ip netns}), {@link Link}s are veth pairs with addresses from 198.18.0.0/15. Hosts get their own
 * sysctls, processes ({@link Host#startJava}), captures ({@link Host#capture}) and iptables faults
 * ({@link Host#dropSynWithData()}, {@link Host#dropFirstSynAck()}).
 *
 * <p>{@link #close()} kills every process started through the lab and deletes every namespace it
 * created (their veths go with them), even when the test failed; a JVM shutdown hook does the same for
 * labs left open, and {@link #create()} deletes namespaces left behind by JVMs that died. Needs root:
 * annotate the test class with {@link NeedsLab}.
 *
 * <pre>{@code
 * @NeedsLab
 * class BlackholeTest {
 *     @Test
 *     void synDataDroppedThenRetried() {
 *         try (Lab lab = Lab.create()) {
 *             Host client = lab.host("client").sysctl("net.ipv4.tcp_fastopen", "3");
 *             Host server = lab.host("server").sysctl("net.ipv4.tcp_fastopen", "3");
 *             Link link = lab.link(client, server);
 *             HostProcess srv = server.startJava(EchoServer.class, "7000");
 *             srv.awaitLine(l -> l.startsWith("listening"), Duration.ofSeconds(10));
 *             try (Rule drop = server.dropSynWithData();
 *                  Capture cap = server.capture(link.iface(server), "tcp port 7000")) {
 *                 HostProcess cli = client.startJava(EchoClient.class,
 *                         link.address(server).getHostAddress(), "7000");
 *                 assertEquals(0, cli.awaitExit(Duration.ofSeconds(20)));
 *                 assertTrue(drop.packets() > 0, Capture.render(cap.stop()));
 *             }
 *             assertTrue(client.tcpExt("TCPFastOpenActiveFail") > 0);
 *         }
 *     }
 * }
 * }</pre>
 */
public final class Lab implements AutoCloseable {

    private static final AtomicInteger NAMESPACES = new AtomicInteger();
    private static final Set<Lab> OPEN = ConcurrentHashMap.newKeySet();
    private static final Pattern OURS = Pattern.compile("^(tfo-(\\d+)-\\d+-\\S+)");
    private static volatile boolean hookInstalled;

    private final List<Host> hosts = new ArrayList<>();
    private final List<Link> links = new ArrayList<>();
    private final List<AutoCloseable> resources = new ArrayList<>();
    private int subnets;
    private int vips;
    private boolean closed;

    private Lab() {
    }

    /**
     * Creates an empty lab. Also deletes namespaces named {@code tfo-<pid>-...} whose JVM is dead.
     *
     * @return the lab; close it (try-with-resources)
     * @throws LabException if {@code ip netns} does not work (e.g. not root)
     */
    public static Lab create() {
        installHook();
        Lab lab = new Lab();
        OPEN.add(lab);
        removeStaleNamespaces();
        return lab;
    }

    /**
     * Creates a host: a new network namespace named {@code tfo-<pid>-<n>-<name>} with {@code lo} up.
     * Its sysctls start at the kernel defaults (e.g. {@code net.ipv4.tcp_fastopen=1}).
     *
     * @param name a short name, e.g. {@code client} (letters, digits, {@code -} and {@code _})
     * @return the host
     */
    public synchronized Host host(String name) {
        ensureOpen();
        String clean = name.replaceAll("[^A-Za-z0-9_-]", "_");
        String ns = "tfo-" + ProcessHandle.current().pid() + "-" + NAMESPACES.incrementAndGet() + "-" + clean;
        root("ip", "netns", "add", ns);
        Host host = new Host(this, name, ns);
        hosts.add(host);
        root("ip", "-n", ns, "link", "set", "lo", "up");
        return host;
    }

    /**
     * Connects two hosts with a veth pair: a new /24 (198.18.1.0/24, 198.18.2.0/24, ...), {@code a} gets
     * {@code .1}, {@code b} gets {@code .2}; interfaces are named {@code eth0}, {@code eth1}, ... in each
     * host; both ends are up.
     *
     * @param a one host
     * @param b another host of this lab
     * @return the link
     */
    public synchronized Link link(Host a, Host b) {
        ensureOpen();
        if (a.lab() != this || b.lab() != this || a == b) {
            throw new IllegalArgumentException("link needs two distinct hosts of this lab: " + a + ", " + b);
        }
        int n = ++subnets;
        if (n > 510) {
            throw new LabException("out of /24s in 198.18.0.0/15");
        }
        String net = n <= 255 ? "198.18." + n : "198.19." + (n - 255);
        String ia = a.nextInterfaceName();
        String ib = b.nextInterfaceName();
        root("ip", "-n", a.name(), "link", "add", ia, "type", "veth", "peer", "name", ib, "netns", b.name());
        root("ip", "-n", a.name(), "addr", "add", net + ".1/24", "dev", ia);
        root("ip", "-n", b.name(), "addr", "add", net + ".2/24", "dev", ib);
        root("ip", "-n", a.name(), "link", "set", ia, "up");
        root("ip", "-n", b.name(), "link", "set", ib, "up");
        Link link = new Link(a, b, ia, ib, net);
        links.add(link);
        return link;
    }

    /**
     * Builds a VIP served by several servers, reached by one client through a new router host (see
     * {@link Vip}). The VIP is routed to {@code servers[0]} first; {@link Vip#moveTo} moves it.
     *
     * @param client  the client host
     * @param servers two or more server hosts; each gets the VIP on {@code lo}
     * @return the VIP
     */
    public Vip vip(Host client, Host... servers) {
        return vip(List.of(client), List.of(servers));
    }

    /**
     * Builds a VIP served by several servers and reached by several clients through a new router host.
     *
     * @param clients the client hosts
     * @param servers the server hosts; each gets the VIP on {@code lo}
     * @return the VIP
     */
    public synchronized Vip vip(List<Host> clients, List<Host> servers) {
        ensureOpen();
        if (servers.isEmpty() || clients.isEmpty()) {
            throw new IllegalArgumentException("a VIP needs at least one client and one server");
        }
        int k = ++vips;
        if (k > 254) {
            throw new LabException("out of VIPs in 198.19.255.0/24");
        }
        InetAddress vip = Host.parseAddress("198.19.255." + k);
        String vip32 = vip.getHostAddress() + "/32";
        Host router = host("router" + k);
        router.sysctl("net.ipv4.ip_forward", "1");
        List<Link> clientLinks = new ArrayList<>();
        for (Host c : clients) {
            Link l = link(c, router);
            clientLinks.add(l);
            c.exec("ip", "route", "add", vip32, "via", l.address(router).getHostAddress());
        }
        Map<Host, InetAddress> hops = new LinkedHashMap<>();
        for (Host s : servers) {
            Link l = link(router, s);
            hops.put(s, l.address(s));
            s.addAddress("lo", vip32);
            for (Link cl : clientLinks) {
                s.exec("ip", "route", "add", cl.subnet(), "via", l.address(router).getHostAddress());
            }
        }
        router.exec("ip", "route", "add", vip32, "via", hops.get(servers.get(0)).getHostAddress());
        return new Vip(vip, router, clients, servers, hops, servers.get(0));
    }

    /**
     * Returns the hosts created so far.
     *
     * @return the hosts, in creation order
     */
    public synchronized List<Host> hosts() {
        return List.copyOf(hosts);
    }

    /**
     * Returns the links created so far.
     *
     * @return the links, in creation order
     */
    public synchronized List<Link> links() {
        return List.copyOf(links);
    }

    synchronized void register(AutoCloseable resource) {
        if (closed) {
            try {
                resource.close();
            } catch (Exception e) {
                // best effort
            }
            throw new IllegalStateException("lab is closed");
        }
        resources.add(resource);
    }

    /**
     * Stops every process and capture started through the lab, then deletes its namespaces (killing any
     * process still inside). Idempotent.
     *
     * @throws LabException if a namespace could not be deleted (after trying all of them)
     */
    @Override
    public void close() {
        List<AutoCloseable> toClose;
        List<Host> toDelete;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toClose = new ArrayList<>(resources);
            toDelete = new ArrayList<>(hosts);
            resources.clear();
        }
        OPEN.remove(this);
        Collections.reverse(toClose);
        // Processes and captures first (so tcpdump ends cleanly); rules vanish with their namespaces.
        for (AutoCloseable r : toClose) {
            if (r instanceof Rule) {
                continue;
            }
            try {
                r.close();
            } catch (Exception e) {
                // best effort
            }
        }
        List<String> failures = new ArrayList<>();
        for (Host h : toDelete) {
            h.markDead();
            String failure = deleteNamespace(h.name());
            if (failure != null) {
                failures.add(failure);
            }
        }
        if (!failures.isEmpty()) {
            throw new LabException("could not delete namespaces: " + String.join("; ", failures));
        }
    }

    private static String deleteNamespace(String ns) {
        ExecResult pids = Exec.run(List.of("ip", "netns", "pids", ns), Duration.ofSeconds(10));
        if (pids.ok()) {
            for (String pid : pids.stdout().trim().split("\\s+")) {
                if (!pid.isEmpty()) {
                    ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        }
        ExecResult del = Exec.run(List.of("ip", "netns", "del", ns), Duration.ofSeconds(10));
        return del.ok() ? null : ns + ": " + del.stderr().strip();
    }

    private static void removeStaleNamespaces() {
        ExecResult list = Exec.run(List.of("ip", "netns", "list"), Duration.ofSeconds(10));
        if (!list.ok()) {
            return;
        }
        long self = ProcessHandle.current().pid();
        for (String line : list.stdout().split("\n")) {
            Matcher m = OURS.matcher(line.trim());
            if (m.find()) {
                long pid = Long.parseLong(m.group(2));
                if (pid != self && ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true)) {
                    deleteNamespace(m.group(1));
                }
            }
        }
    }

    private static synchronized void installHook() {
        if (hookInstalled) {
            return;
        }
        hookInstalled = true;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (Lab lab : List.copyOf(OPEN)) {
                try {
                    lab.close();
                } catch (RuntimeException e) {
                    System.err.println("Lab shutdown hook: " + e.getMessage());
                }
            }
        }, "tfo-lab-cleanup"));
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("lab is closed");
        }
    }

    private static String root(String... cmd) {
        return Exec.run(List.of(cmd), Exec.DEFAULT_TIMEOUT).orThrow().stdout();
    }

    @Override
    public synchronized String toString() {
        return "Lab" + hosts;
    }
}
