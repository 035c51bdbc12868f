package dev.tfo.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A packet capture: {@code tcpdump -U --immediate-mode -B 16384 -i IFACE -w FILE -s 0 FILTER}, in a
 * {@link Host} ({@link Host#capture}) or in this JVM's own namespace ({@link #here}). Creating one returns
 * only once tcpdump prints "listening on", so nothing sent afterwards is missed, unless the kernel drops
 * packets because tcpdump could not keep up: after {@link #stop()}, {@link #tcpdumpStderr()} has its
 * "packets dropped by kernel" count. The pcap file is parsed by the testkit itself ({@link Packet}: TCP over
 * IPv4/IPv6).
 *
 * <pre>{@code
 * try (Capture cap = Capture.here("lo", "tcp port 7000")) {
 *     ... connect and write ...
 *     Packet syn = cap.await(Packet::isSynWithData, Duration.ofSeconds(5));
 * }
 * }</pre>
 */
public final class Capture implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    /** tcpdump's capture buffer ({@code -B}), in KiB. */
    private static final int BUFFER_KIB = 65536;
    /** The largest packet a capture here sees: a 64 KiB loopback (or GSO) segment and its headers. */
    private static final int SNAPLEN = 65600;

    private final String description;
    private final Path file;
    private final HostProcess tcpdump;
    private List<Packet> result;

    Capture(List<String> prefix, String where, String iface, String bpfFilter) {
        this.description = "tcpdump -i " + iface + " '" + bpfFilter + "' in " + where;
        try {
            Path dir = Files.createTempDirectory("tfo-capture-");
            this.file = dir.resolve(iface.replaceAll("[^A-Za-z0-9_.-]", "_") + ".pcap");
            if (!Boolean.getBoolean("tfo.keepCaptures")) {
                dir.toFile().deleteOnExit();
                file.toFile().deleteOnExit(); // deleted first (reverse order of registration)
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add("tcpdump");
        if (TestEnvironment.isRoot() && !TestEnvironment.inUserNamespace()) {
            cmd.add("-Z");
            cmd.add("root"); // Debian's tcpdump would otherwise drop to user tcpdump and fail to write
        }
        // -B: libpcap's default 2 MiB ring, cut into frames sized for -s 0, overflowed during a burst of 64
        // SYNs and their SYN-ACKs while tcpdump waited for a CPU (2 to 6 "packets dropped by kernel"). Immediate
        // mode keeps one frame per packet, each the snap length: -s 0 (256 KiB) left a 16 MiB ring 64 frames, and
        // a burst of 600 packets lost 24; -s 65600 still holds any packet whole and gives 64 MiB ~1000 frames.
        cmd.addAll(List.of("-n", "-U", "--immediate-mode", "-B", Integer.toString(BUFFER_KIB), "-i", iface, "-w",
                file.toString(), "-s", Integer.toString(SNAPLEN)));
        if (bpfFilter != null && !bpfFilter.isBlank()) {
            cmd.add(bpfFilter);
        }
        this.tcpdump = new HostProcess(description, cmd);
        try {
            Wait.until("tcpdump listening", START_TIMEOUT, () -> {
                if (tcpdump.stderr().contains("listening on")) {
                    return true;
                }
                if (!tcpdump.isAlive()) {
                    throw new LabException("tcpdump failed to start: " + String.join(" ", cmd) + "\n"
                            + tcpdump.transcript() + (TestEnvironment.inUserNamespace()
                            ? "\n(this JVM runs in a user namespace, e.g. a non-root netns-java: Debian's tcpdump"
                            + " cannot drop its privileges there, so captures need real root)" : ""));
                }
                return false;
            });
        } catch (LabException e) {
            tcpdump.close();
            throw e.getMessage().startsWith("tcpdump failed") ? e
                    : new LabException(e.getMessage() + "\n" + tcpdump.transcript(), e);
        }
    }

    /**
     * Starts a capture in this JVM's own network namespace (e.g. on {@code lo} inside a netns-java JVM).
     * Needs real root: inside a user namespace (a non-root netns-java) tcpdump cannot drop privileges.
     *
     * @param iface     the interface, e.g. {@code lo} (or {@code any})
     * @param bpfFilter a tcpdump filter expression, e.g. {@code "tcp port 7000"}; blank for everything
     * @return the running capture, already listening
     * @throws LabException if tcpdump cannot start (message has its stderr)
     */
    public static Capture here(String iface, String bpfFilter) {
        return new Capture(List.of(), "this JVM's namespace", iface, bpfFilter);
    }

    /**
     * Parses what has been captured so far, without stopping.
     *
     * @return the TCP packets captured so far, in capture order
     */
    public synchronized List<Packet> packets() {
        if (result != null) {
            return result;
        }
        return parse();
    }

    /**
     * Waits until a captured packet matches and returns the first match.
     *
     * @param matcher what to look for, e.g. {@code Packet::isSynWithData}
     * @param timeout how long to wait at most
     * @return the first matching packet
     * @throws LabException on timeout, listing what was captured
     */
    public Packet await(Predicate<Packet> matcher, Duration timeout) {
        try {
            return Wait.forValue("a matching packet from " + description, timeout,
                    () -> packets().stream().filter(matcher).findFirst().orElse(null));
        } catch (LabException e) {
            throw new LabException(e.getMessage() + "\ncaptured so far:\n" + render(packets()), e);
        }
    }

    /**
     * Stops tcpdump (after letting in-flight packets land: the file must stop growing for 50 ms, at most
     * 1 s) and returns everything captured. Idempotent.
     *
     * @return the TCP packets, in capture order
     */
    public synchronized List<Packet> stop() {
        if (result != null) {
            return result;
        }
        long[] last = {-1};
        long[] stableSince = {System.nanoTime()};
        try {
            Wait.until("capture file quiet", Duration.ofSeconds(1), () -> {
                long size = size();
                long now = System.nanoTime();
                if (size != last[0]) {
                    last[0] = size;
                    stableSince[0] = now;
                    return false;
                }
                return now - stableSince[0] >= Duration.ofMillis(50).toNanos();
            });
        } catch (LabException busy) {
            // still growing: stop anyway
        }
        tcpdump.close();
        result = parse();
        return result;
    }

    /**
     * Returns the pcap file (kept after {@link #stop()}, for a human with Wireshark; deleted when the JVM
     * exits unless the system property {@code tfo.keepCaptures} is {@code true}).
     *
     * @return the path of the pcap file
     */
    public Path file() {
        return file;
    }

    /**
     * Returns tcpdump's stderr so far (its "listening on" line, then its counters after stop).
     *
     * @return tcpdump's stderr
     */
    public String tcpdumpStderr() {
        return tcpdump.stderr();
    }

    /** Same as {@link #stop()}, ignoring the result. */
    @Override
    public void close() {
        stop();
    }

    /**
     * Renders packets one per line, for assertion messages.
     *
     * @param packets the packets
     * @return their {@link Packet#toString()} joined with newlines
     */
    public static String render(List<Packet> packets) {
        StringBuilder s = new StringBuilder();
        for (Packet p : packets) {
            s.append("  ").append(p).append('\n');
        }
        return s.length() == 0 ? "  (none)\n" : s.toString();
    }

    private long size() {
        try {
            return Files.exists(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private List<Packet> parse() {
        try {
            return Files.exists(file) ? PcapReader.read(Files.readAllBytes(file)) : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String toString() {
        return "Capture[" + description + " -> " + file + "]";
    }
}
