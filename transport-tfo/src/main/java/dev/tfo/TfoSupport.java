package dev.tfo;

import dev.tfo.internal.NettyVersion;
import dev.tfo.internal.Procfs;
import dev.tfo.internal.Transport;

import java.util.OptionalInt;

/**
 * What TCP Fast Open can do in this JVM right now, and the one-sentence fix when it cannot.
 *
 * <pre>{@code
 * TfoSupport support = TfoSupport.current();
 * if (!support.isClientAvailable() || !support.isServerAvailable()) {
 *     System.err.println(support.summary());   // names the exact sysctl, docker flag or pod setting
 * }
 * }</pre>
 *
 * <p>It reads the LIVE {@code net.ipv4.tcp_fastopen} of the JVM's network namespace, which is what this
 * library's TFO follows (on every connection and listener, no restart needed), and also reports what Netty's
 * epoll and io_uring transports read once, when they initialised, which only Netty's own TFO options follow.
 */
public final class TfoSupport {
    // Bits of net.ipv4.tcp_fastopen (Documentation/networking/ip-sysctl.rst).
    private static final int CLIENT = 0x1;
    static final int SERVER = 0x2;
    private static final int CLIENT_NO_COOKIE = 0x4;
    private static final int SERVER_NO_COOKIE = 0x200;
    private static final int SERVER_ALL_LISTENERS = 0x400;

    /** The fix, in every environment, for a sysctl lacking the client and server bits. */
    static final String FIX = "sysctl -w net.ipv4.tcp_fastopen=3 (host), "
            + "docker run --sysctl net.ipv4.tcp_fastopen=3 (container), or securityContext.sysctls "
            + "[{name: net.ipv4.tcp_fastopen, value: \"3\"}] in a Kubernetes pod";

    private final int sysctl;
    /** Why this library cannot run on the Netty of the class path, or {@code null}. */
    private final String nettyProblem;
    private final boolean epollAvailable;
    private final Throwable epollCause;
    private final boolean ioUringAvailable;
    private final Throwable ioUringCause;

    private TfoSupport(int sysctl) {
        this.sysctl = sysctl;
        this.nettyProblem = NettyVersion.unsupportedReason();
        this.epollAvailable = Transport.EPOLL.isAvailable();
        this.epollCause = Transport.EPOLL.unavailabilityCause();
        this.ioUringAvailable = Transport.IO_URING.isAvailable();
        this.ioUringCause = Transport.IO_URING.unavailabilityCause();
    }

    /**
     * Reads the live sysctl and the transports' state now.
     *
     * @return the state of this JVM's network namespace and of Netty's native transports
     */
    public static TfoSupport current() {
        OptionalInt value = Procfs.readInt(Procfs.TCP_FASTOPEN);
        return new TfoSupport(value.orElse(-1));
    }

    /**
     * The live value of {@code net.ipv4.tcp_fastopen}, read by {@link #current()}: bit 0x1 lets clients send
     * data in the SYN, bit 0x2 lets listeners accept it ({@link #describe()} names every bit that is set).
     *
     * @return the sysctl's value, or -1 when it cannot be read (not Linux)
     */
    public int sysctl() {
        return sysctl;
    }

    /**
     * Whether this library's clients can send data in the SYN now: the Netty on the class path is one it runs
     * on, a native transport (epoll or io_uring) loads, and the live sysctl has the client bit 0x1.
     *
     * @return whether client TFO works; {@link #summary()} says why not and the fix
     */
    public boolean isClientAvailable() {
        return usable() && has(CLIENT);
    }

    /**
     * Whether this library's listeners can accept data in the SYN now: as {@link #isClientAvailable()}, with
     * the server bit 0x2.
     *
     * @return whether server TFO works; {@link #summary()} says why not and the fix
     */
    public boolean isServerAvailable() {
        return usable() && has(SERVER);
    }

    private boolean usable() {
        return nettyProblem == null && (epollAvailable || ioUringAvailable);
    }

    private boolean has(int mask) {
        return sysctl >= 0 && (sysctl & mask) == mask;
    }

    /**
     * One human sentence: what works, and if anything does not, the exact fix.
     *
     * @return the sentence, e.g. {@code "TCP Fast Open is off (net.ipv4.tcp_fastopen=0). Fix: ..."}
     */
    public String summary() {
        if (nettyProblem != null) {
            return "TCP Fast Open is unavailable through transport-tfo: " + nettyProblem + ".";
        }
        if (sysctl < 0) {
            return "TCP Fast Open is unavailable: /proc/sys/net/ipv4/tcp_fastopen cannot be read (not Linux?); "
                    + "connections fall back to plain TCP.";
        }
        if (!epollAvailable && !ioUringAvailable) {
            return "TCP Fast Open is unavailable: neither Netty epoll nor io_uring loads (" + epollCause
                    + "); add netty-transport-native-epoll for your platform.";
        }
        if (!has(CLIENT) && !has(SERVER)) {
            return "TCP Fast Open is off (net.ipv4.tcp_fastopen=" + sysctl + "). Fix: " + FIX + ".";
        }
        if (!has(SERVER)) {
            return "TCP Fast Open works for clients only (net.ipv4.tcp_fastopen=" + sysctl
                    + " lacks the server bit 0x2, so TCP_FASTOPEN on listeners is silently ignored). Fix: " + FIX + ".";
        }
        if (!has(CLIENT)) {
            return "TCP Fast Open works for servers only (net.ipv4.tcp_fastopen=" + sysctl
                    + " lacks the client bit 0x1, so connections send plain SYNs). Fix: " + FIX + ".";
        }
        return "TCP Fast Open is available for clients and servers (net.ipv4.tcp_fastopen=" + sysctl + ", "
                + (epollAvailable ? "epoll" : "") + (epollAvailable && ioUringAvailable ? " and " : "")
                + (ioUringAvailable ? "io_uring" : "") + ").";
    }

    /**
     * The whole diagnosis, one fact per line: the sysctl's bits, each native transport and what Netty's own
     * TFO options saw when it initialised (Netty reads the sysctl once; this library reads it live), and last
     * the {@link #summary()}.
     *
     * @return several lines, the last one being {@link #summary()}
     */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("net.ipv4.tcp_fastopen = ").append(sysctl < 0 ? "unreadable" : sysctl + " (0x"
                + Integer.toHexString(sysctl) + ")").append('\n');
        bit(sb, CLIENT, "client: send data in the SYN when a cookie is cached");
        bit(sb, SERVER, "server: listeners with TCP_FASTOPEN accept data in the SYN");
        bit(sb, CLIENT_NO_COOKIE, "client without cookie: data in every SYN (trusted networks only)");
        bit(sb, SERVER_NO_COOKIE, "server without cookie: accept data in any SYN (trusted networks only)");
        bit(sb, SERVER_ALL_LISTENERS, "every listener does TFO without the socket option");
        boolean supported = nettyProblem == null;
        boolean stale = transport(sb, "epoll", Transport.EPOLL, epollAvailable, epollCause, supported)
                | transport(sb, "io_uring", Transport.IO_URING, ioUringAvailable, ioUringCause, supported);
        sb.append("Netty's cached view ").append(stale ? "DIFFERS from" : "matches")
                .append(" the live sysctl (matters only to Netty's own TFO options, not to this library)\n");
        sb.append(summary());
        return sb.toString();
    }

    private void bit(StringBuilder sb, int mask, String meaning) {
        sb.append(String.format("  0x%-3x %s  %s%n", mask, has(mask) ? "on " : "off", meaning));
    }

    /** Appends the transport's line; returns whether Netty's cached view of the sysctl differs from the live one. */
    private boolean transport(StringBuilder sb, String name, Transport transport, boolean available, Throwable cause,
                              boolean supported) {
        sb.append(name).append(": ");
        if (!available) {
            sb.append("unavailable (").append(cause).append(")\n");
            return false;
        }
        // Epoll.isTcpFastOpen*SideAvailable exists from Netty 4.1.70 only.
        boolean client = supported && transport.nettyClientTfo();
        boolean server = supported && transport.nettyServerTfo();
        sb.append("available; Netty saw client TFO ").append(client ? "on" : "off").append(", server TFO ")
                .append(server ? "on" : "off").append(" when it initialised\n");
        return sysctl >= 0 && (client != has(CLIENT) || server != has(SERVER));
    }

    @Override
    public String toString() {
        return summary();
    }
}
