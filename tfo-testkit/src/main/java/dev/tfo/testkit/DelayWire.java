package dev.tfo.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A wire with a real round-trip time between two hosts of a {@link Lab}, without netem: a small C relay
 * ({@code tfo-testkit/src/main/c/delaywire.c}, compiled with {@code gcc} on first use) owns one TUN device
 * in each namespace and forwards every packet a fixed one-way delay after reading it. A one-way delay of
 * 10 ms gives a round trip of ~20.06 ms as the client kernel measures it (tcpi_rtt): the relay runs
 * SCHED_FIFO and spins the last 100 us before each due time, so packets leave on time to within a few us.
 *
 * <p>The wire gets its own /24 from {@code 198.19.128.0/17} (a second wire between the same hosts is
 * another subnet and another interface, {@code dw0}, {@code dw1}, ...): host {@code a} is {@code .1},
 * host {@code b} is {@code .2}. It can drop TCP SYNs that carry data (a TFO black hole), from the start or
 * toggled at run time, and counts what it relayed and dropped.
 *
 * <pre>{@code
 * try (Lab lab = Lab.create()) {
 *     Host client = lab.host("client").sysctl("net.ipv4.tcp_fastopen", "3");
 *     Host server = lab.host("server").sysctl("net.ipv4.tcp_fastopen", "3");
 *     DelayWire wire = DelayWire.between(client, server, Duration.ofMillis(10)); // RTT ~20 ms
 *     String target = wire.address(server).getHostAddress();                     // 198.19.128.2
 *     ...
 *     wire.dropSynWithData(true);                // black hole for TFO first flights
 *     long dropped = wire.stats().dropped();
 * }
 * }</pre>
 *
 * <p>The relay exits when {@link #close()} is called, when the lab closes, or when this JVM dies (EOF on
 * its stdin); its TUN devices vanish with it. Needs root (setns, /dev/net/tun) and {@code gcc}, or a
 * prebuilt binary named by the system property {@code tfo.delaywire.binary}.
 */
public final class DelayWire implements AutoCloseable {

    private static final AtomicInteger WIRES = new AtomicInteger();
    private static final String SOURCE_NAME = "delaywire.c";
    private static Path compiled;

    private final Host a;
    private final Host b;
    private final String iface;
    private final String subnet;
    private final InetAddress addressA;
    private final InetAddress addressB;
    private final HostProcess relay;
    private final Duration oneWay;

    private DelayWire(Host a, Host b, Duration oneWay, boolean dropSynWithData, boolean realtime) {
        if (a.lab() == null || a.lab() != b.lab() || a == b) {
            throw new IllegalArgumentException("a delay wire needs two distinct hosts of one lab: " + a + ", " + b);
        }
        if (oneWay.isNegative()) {
            throw new IllegalArgumentException("negative delay: " + oneWay);
        }
        int n = WIRES.getAndIncrement();
        if (n > 126) {
            throw new LabException("out of delay-wire subnets in 198.19.128.0/17");
        }
        this.a = a;
        this.b = b;
        this.oneWay = oneWay;
        this.iface = "dw" + n;
        String net = "198.19." + (128 + n);
        this.subnet = net + ".0/24";
        this.addressA = Host.parseAddress(net + ".1");
        this.addressB = Host.parseAddress(net + ".2");
        List<String> cmd = new ArrayList<>(List.of(binary().toString(), "--ns-a", a.name(), "--ns-b", b.name(),
                "--ifname", iface, "--delay-us", Long.toString(oneWay.toNanos() / 1000)));
        if (dropSynWithData) {
            cmd.add("--drop-syn-data");
        }
        if (realtime) {
            // SCHED_FIFO and a 100 us spin before each due time: timer wake-ups on a VM are ~75 us late.
            cmd.add("--rt");
            cmd.add("--spin-us");
            cmd.add("100");
        }
        this.relay = new HostProcess("delaywire " + a.label() + " <-> " + b.label() + " " + oneWay.toMillis() + " ms",
                cmd);
        a.lab().register(this);
        relay.awaitLine(l -> l.startsWith("ready"), Duration.ofSeconds(10));
        a.exec("ip", "addr", "add", net + ".1/24", "dev", iface);
        a.exec("ip", "link", "set", iface, "up");
        b.exec("ip", "addr", "add", net + ".2/24", "dev", iface);
        b.exec("ip", "link", "set", iface, "up");
    }

    /**
     * Joins two hosts with a wire of the given one-way delay (round trip = twice that, plus ~0.3 ms).
     *
     * @param a      one host ({@code .1})
     * @param b      another host of the same lab ({@code .2})
     * @param oneWay the delay of each packet, in each direction
     * @return the running wire (closed by the lab at the latest)
     */
    public static DelayWire between(Host a, Host b, Duration oneWay) {
        return new DelayWire(a, b, oneWay, false, true);
    }

    /**
     * Joins two hosts with a wire that may start as a TFO black hole.
     *
     * @param a               one host ({@code .1})
     * @param b               another host of the same lab ({@code .2})
     * @param oneWay          the delay of each packet, in each direction
     * @param dropSynWithData drop every TCP SYN (without ACK) carrying payload, from the start
     * @return the running wire (closed by the lab at the latest)
     */
    public static DelayWire between(Host a, Host b, Duration oneWay, boolean dropSynWithData) {
        return new DelayWire(a, b, oneWay, dropSynWithData, true);
    }

    /**
     * Returns the address of a host on this wire.
     *
     * @param host one of the two ends
     * @return its address
     */
    public InetAddress address(Host host) {
        return host == a ? addressA : check(host) == b ? addressB : null;
    }

    /**
     * Returns the wire's interface name (the same in both namespaces), e.g. {@code dw0}.
     *
     * @return the TUN device's name
     */
    public String iface() {
        return iface;
    }

    /**
     * Returns the wire's subnet, e.g. {@code 198.19.128.0/24}.
     *
     * @return the subnet
     */
    public String subnet() {
        return subnet;
    }

    /**
     * Returns the configured one-way delay.
     *
     * @return the delay of each packet in each direction
     */
    public Duration oneWayDelay() {
        return oneWay;
    }

    /**
     * Starts or stops dropping TCP SYNs that carry data (both directions).
     *
     * @param on {@code true} to drop them
     */
    public void dropSynWithData(boolean on) {
        command("drop-syn-data " + (on ? "on" : "off"), "ok drop-syn-data");
    }

    /**
     * Changes the one-way delay of packets read from now on.
     *
     * @param oneWayDelay the new delay
     */
    public void delay(Duration oneWayDelay) {
        command("delay-us " + oneWayDelay.toNanos() / 1000, "ok delay-us");
    }

    /**
     * Returns the relay's counters.
     *
     * @return packets relayed each way and dropped
     */
    public Stats stats() {
        String line = command("stats", "stats ");
        Map<String, Long> v = new LinkedHashMap<>();
        for (String kv : line.substring("stats ".length()).trim().split("\\s+")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                v.put(kv.substring(0, eq), Long.parseLong(kv.substring(eq + 1)));
            }
        }
        return new Stats(v.getOrDefault("a2b", 0L), v.getOrDefault("b2a", 0L), v.getOrDefault("dropped", 0L),
                v.getOrDefault("overflow", 0L), v.getOrDefault("late_avg_us", 0L), v.getOrDefault("late_max_us", 0L));
    }

    /** The relay's counters. */
    public static final class Stats {
        private final long aToB;
        private final long bToA;
        private final long dropped;
        private final long overflow;
        private final long lateAvgMicros;
        private final long lateMaxMicros;

        Stats(long aToB, long bToA, long dropped, long overflow, long lateAvgMicros, long lateMaxMicros) {
            this.aToB = aToB;
            this.bToA = bToA;
            this.dropped = dropped;
            this.overflow = overflow;
            this.lateAvgMicros = lateAvgMicros;
            this.lateMaxMicros = lateMaxMicros;
        }

        /** @return how late after its due time a packet was sent, on average, in microseconds */
        public long lateAvgMicros() {
            return lateAvgMicros;
        }

        /** @return the worst lateness of a packet after its due time, in microseconds */
        public long lateMaxMicros() {
            return lateMaxMicros;
        }

        /** @return packets relayed from host a to host b */
        public long aToB() {
            return aToB;
        }

        /** @return packets relayed from host b to host a */
        public long bToA() {
            return bToA;
        }

        /** @return SYNs with data dropped on purpose */
        public long dropped() {
            return dropped;
        }

        /** @return packets lost because the relay's queue was full (should stay 0) */
        public long overflow() {
            return overflow;
        }

        @Override
        public String toString() {
            return "a2b=" + aToB + " b2a=" + bToA + " dropped=" + dropped + " overflow=" + overflow
                    + " lateAvgUs=" + lateAvgMicros + " lateMaxUs=" + lateMaxMicros;
        }
    }

    private synchronized String command(String cmd, String answerPrefix) {
        int seen = relay.lines().size();
        relay.send(cmd);
        try {
            return Wait.forValue("delaywire's answer to '" + cmd + "'", Duration.ofSeconds(5), () -> {
                List<String> lines = relay.lines();
                for (int i = seen; i < lines.size(); i++) {
                    if (lines.get(i).startsWith(answerPrefix)) {
                        return lines.get(i);
                    }
                    if (lines.get(i).startsWith("error")) {
                        throw new LabException("delaywire refused '" + cmd + "': " + lines.get(i));
                    }
                }
                if (!relay.isAlive()) {
                    throw new LabException("delaywire exited before answering '" + cmd + "'");
                }
                return null;
            });
        } catch (LabException e) {
            throw new LabException(e.getMessage() + "\n" + relay.transcript(), e);
        }
    }

    /** Stops the relay; its TUN devices vanish. Idempotent. */
    @Override
    public void close() {
        relay.close();
    }

    private Host check(Host host) {
        if (host != a && host != b) {
            throw new IllegalArgumentException(host + " is not an end of " + this);
        }
        return host;
    }

    @Override
    public String toString() {
        return "DelayWire[" + a.label() + " " + addressA.getHostAddress() + " <-> " + b.label() + " "
                + addressB.getHostAddress() + ", " + oneWay.toNanos() / 1000 + " us one way, " + iface + "]";
    }

    /**
     * Returns the relay's executable, compiling {@code delaywire.c} with {@code gcc -O2} on first use
     * (into the testkit's {@code target/} directory, or the temp directory, named by the source's hash).
     * The system property {@code tfo.delaywire.binary} names a prebuilt one instead;
     * {@code tfo.delaywire.source} names the source if it cannot be found next to the testkit.
     *
     * @return the path of the executable
     * @throws LabException if the source cannot be found or gcc fails
     */
    public static synchronized Path binary() {
        String prebuilt = System.getProperty("tfo.delaywire.binary");
        if (prebuilt != null && !prebuilt.isBlank()) {
            return Path.of(prebuilt);
        }
        if (compiled != null && Files.isExecutable(compiled)) {
            return compiled;
        }
        Path source = findSource();
        try {
            byte[] text = Files.readAllBytes(source);
            String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text)).substring(0, 16);
            Path dir = outputDirectory();
            Path exe = dir.resolve("delaywire-" + hash);
            if (!Files.isExecutable(exe)) {
                Path tmp = dir.resolve("delaywire-" + hash + ".tmp" + ProcessHandle.current().pid());
                ExecResult r = Exec.run(List.of("gcc", "-O2", "-Wall", "-o", tmp.toString(), source.toString()),
                        Duration.ofSeconds(60));
                if (!r.ok()) {
                    throw new LabException("gcc failed to build " + source + " (exit " + r.exitCode() + "): "
                            + r.stderr());
                }
                Files.move(tmp, exe, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            compiled = exe;
            return exe;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build the delay wire from " + source, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path findSource() {
        List<Path> candidates = new ArrayList<>();
        String prop = System.getProperty("tfo.delaywire.source");
        if (prop != null && !prop.isBlank()) {
            candidates.add(Path.of(prop));
        }
        Path module = testkitModule();
        if (module != null) {
            candidates.add(module.resolve("src/main/c").resolve(SOURCE_NAME));
        }
        for (Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath(); dir != null; dir = dir.getParent()) {
            candidates.add(dir.resolve("tfo-testkit/src/main/c").resolve(SOURCE_NAME));
            candidates.add(dir.resolve("src/main/c").resolve(SOURCE_NAME));
        }
        for (Path p : candidates) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new LabException("cannot find " + SOURCE_NAME + " (looked at " + candidates
                + "); set -Dtfo.delaywire.source=PATH or -Dtfo.delaywire.binary=PATH");
    }

    /** The tfo-testkit module directory, when this class comes from its target/classes or target/*.jar. */
    private static Path testkitModule() {
        try {
            var cs = DelayWire.class.getProtectionDomain().getCodeSource();
            if (cs == null) {
                return null;
            }
            Path loc = Path.of(cs.getLocation().toURI()).toAbsolutePath();
            Path target = loc.getParent();
            if (target != null && "target".equals(String.valueOf(target.getFileName()))) {
                return target.getParent();
            }
        } catch (URISyntaxException | RuntimeException e) {
            // fall through
        }
        return null;
    }

    private static Path outputDirectory() throws IOException {
        Path module = testkitModule();
        if (module != null) {
            Path target = module.resolve("target");
            if (Files.isDirectory(target) && Files.isWritable(target)) {
                return target;
            }
        }
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"), "tfo-delaywire");
        Files.createDirectories(tmp);
        return tmp;
    }
}
