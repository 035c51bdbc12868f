package dev.tfo.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

/** Reads the few procfs files TFO depends on, always live (never cached). */
public final class Procfs {
    /** The TFO sysctl of the calling thread's network namespace. */
    public static final Path TCP_FASTOPEN = Paths.get("/proc/sys/net/ipv4/tcp_fastopen");
    /** The kernel's cap on listen backlogs, which also caps the TFO queue length. */
    public static final Path SOMAXCONN = Paths.get("/proc/sys/net/core/somaxconn");
    /** Per-namespace TCP extension counters. */
    public static final Path NETSTAT = Paths.get("/proc/net/netstat");

    private Procfs() {
    }

    /**
     * Reads an integer sysctl file.
     *
     * @param file e.g. {@link #TCP_FASTOPEN}
     * @return its value; empty when it does not exist or cannot be read or parsed
     */
    public static OptionalInt readInt(Path file) {
        try {
            return OptionalInt.of(Integer.parseInt(read(file).trim()));
        } catch (IOException | NumberFormatException | SecurityException e) {
            return OptionalInt.empty();
        }
    }

    /**
     * Reads a whole procfs text file.
     *
     * @param file e.g. {@link #NETSTAT}
     * @return its text
     * @throws IOException when it cannot be read
     */
    public static String read(Path file) throws IOException {
        // Not Files.readString: procfs reports size 0, so it reads ONE byte first, and a /proc/sys file read at
        // a non-zero offset is at its end: 4096 would read as 4, and 1027 as 1. Whole-buffer reads only.
        try (InputStream in = Files.newInputStream(file)) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    /**
     * Parses the {@code TcpExt:} section of {@code /proc/net/netstat} (a header line of names followed by a
     * line of values) into an ordered map of counter name to value.
     *
     * @param netstat the whole text of {@code /proc/net/netstat}
     * @return the {@code TcpExt} counters, in the kernel's order
     * @throws IllegalArgumentException when the text has no well-formed {@code TcpExt:} pair of lines
     */
    public static Map<String, Long> parseTcpExt(String netstat) {
        String[] lines = netstat.split("\n");
        for (int i = 0; i + 1 < lines.length; i++) {
            if (lines[i].startsWith("TcpExt:") && lines[i + 1].startsWith("TcpExt:")) {
                String[] names = lines[i].trim().split("\\s+");
                String[] values = lines[i + 1].trim().split("\\s+");
                if (names.length != values.length) {
                    throw new IllegalArgumentException(
                            "netstat: TcpExt has " + names.length + " names but " + values.length + " values");
                }
                Map<String, Long> out = new LinkedHashMap<>();
                for (int k = 1; k < names.length; k++) {
                    try {
                        out.put(names[k], Long.parseLong(values[k]));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException(
                                "netstat: TcpExt value of " + names[k] + " is not a number: " + values[k], e);
                    }
                }
                return out;
            }
        }
        throw new IllegalArgumentException("netstat: no TcpExt section (is this /proc/net/netstat?)");
    }
}
