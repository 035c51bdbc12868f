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
 * if (!support.isFullyAvailable()) {
 *     System.err.println(support.summary());   // names the exact sysctl, docker flag or pod setting
 * }
 * }</pre>
 *
 * <p>It reads the LIVE {@code net.ipv4.tcp_fastopen} of the JVM's network namespace, which is what this
 * library's TFO follows (on every connection and listener, no restart needed), and also reports what Netty's
 * epoll and io_uring transports read once, when they initialised, which only Netty's own TFO options follow.
 */
public final class TfoSupport {
    /** Bit 0x1 of {@code net.ipv4.tcp_fastopen}: clients may send data in the SYN. */
    public static final int CLIENT = 0x1;
    /** Bit 0x2: listeners with {@code TCP_FASTOPEN} accept data in the SYN. */
    public static final int SERVER = 0x2;
    /** Bit 0x4: clients send data in the SYN without any cookie. */
    public static final int CLIENT_NO_COOKIE = 0x4;
    /** Bit 0x200: listeners accept data in the SYN without any cookie. */
    public static final int SERVER_NO_COOKIE = 0x200;
    /** Bit 0x400: every listener does TFO, even without the {@code TCP_FASTOPEN} socket option. */
    public static final int SERVER_ALL_LISTENERS = 0x400;

    /** The fix, in every environment, for a sysctl lacking the client and server bits. */
    public static final String FIX = "sysctl -w net.ipv4.tcp_fastopen=3 (host), "
            + "docker run --sysctl net.ipv4.tcp_fastopen=3 (container), or securityContext.sysctls "
            + "[{name: net.ipv4.tcp_fastopen, value: \"3\"}] in a Kubernetes pod";

    private final int sysctl;
    /** Why this library cannot run on the Netty of the class path, or {@code null}. */
    private final String nettyProblem;
    private final boolean epollAvailable;
    private final Throwable epollCause;
    private final boolean ioUringAvailable;
    private final Throwable ioUringCause;
    private final boolean epollClient;
    private final boolean epollServer;
    private final boolean ioUringClient;
    private final boolean ioUringServer;

    private TfoSupport(int sysctl) {
        this.sysctl = sysctl;
        this.nettyProblem = NettyVersion.unsupportedReason();
        this.epollAvailable = Transport.EPOLL.isAvailable();
        this.epollCause = Transport.EPOLL.unavailabilityCause();
        this.ioUringAvailable = Transport.IO_URING.isAvailable();
        this.ioUringCause = Transport.IO_URING.unavailabilityCause();
        // Netty's cached view: Epoll.isTcpFastOpen*SideAvailable exists from 4.1.70 only.
        boolean supported = nettyProblem == null;
        this.epollClient = supported && Transport.EPOLL.nettyClientTfo();
        this.epollServer = supported && Transport.EPOLL.nettyServerTfo();
        this.ioUringClient = supported && Transport.IO_URING.nettyClientTfo();
        this.ioUringServer = supported && Transport.IO_URING.nettyServerTfo();
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
     * The live value of {@code net.ipv4.tcp_fastopen}, read by {@link #current()}.
     *
     * @return the sysctl's value, or -1 when it cannot be read (not Linux)
     */
    public int sysctl() {
        return sysctl;
    }

    /**
     * Whether the live sysctl has every bit of {@code mask}, e.g. {@code has(CLIENT | SERVER)}.
     *
     * @param mask one or more of {@link #CLIENT}, {@link #SERVER}, {@link #CLIENT_NO_COOKIE},
     *             {@link #SERVER_NO_COOKIE}, {@link #SERVER_ALL_LISTENERS}
     * @return whether every bit of {@code mask} is set; {@code false} when the sysctl cannot be read
     */
    public boolean has(int mask) {
        return sysctl >= 0 && (sysctl & mask) == mask;
    }

    /**
     * Whether Netty's epoll transport can be used.
     *
     * @return whether epoll loads here; see {@link #epollUnavailabilityCause()} when it does not
     */
    public boolean epollAvailable() {
        return epollAvailable;
    }

    /**
     * Why epoll cannot be used.
     *
     * @return Netty's reason, or {@code null} when epoll is available
     */
    public Throwable epollUnavailabilityCause() {
        return epollCause;
    }

    /**
     * Whether Netty's io_uring transport can be used.
     *
     * @return whether io_uring loads here; see {@link #ioUringUnavailabilityCause()} when it does not
     */
    public boolean ioUringAvailable() {
        return ioUringAvailable;
    }

    /**
     * Why io_uring cannot be used.
     *
     * @return Netty's reason, or {@code null} when io_uring is available
     */
    public Throwable ioUringUnavailabilityCause() {
        return ioUringCause;
    }

    /**
     * Whether Netty's epoll transport, as it initialised, sends data in the SYN.
     *
     * @return Netty's cached view of the client bit, for epoll
     */
    public boolean epollClientTfo() {
        return epollClient;
    }

    /**
     * Whether Netty's epoll transport, as it initialised, applies {@code TCP_FASTOPEN} to listeners.
     *
     * @return Netty's cached view of the server bit, for epoll
     */
    public boolean epollServerTfo() {
        return epollServer;
    }

    /**
     * Whether Netty's io_uring transport, as it initialised, sends data in the SYN.
     *
     * @return Netty's cached view of the client bit, for io_uring
     */
    public boolean ioUringClientTfo() {
        return ioUringClient;
    }

    /**
     * Whether Netty's io_uring transport, as it initialised, applies {@code TCP_FASTOPEN} to listeners.
     *
     * @return Netty's cached view of the server bit, for io_uring
     */
    public boolean ioUringServerTfo() {
        return ioUringServer;
    }

    /**
     * Whether Netty's cached view differs from the live sysctl for an available native transport: the
     * sysctl changed after Netty initialised. This matters only to code that uses Netty's own TFO options
     * (Netty never sees the change until the JVM restarts); this library asks the kernel on every connection
     * and listener, so its TFO follows the live value.
     *
     * @return whether Netty's own TFO options act on a value of the sysctl that is no longer the live one
     */
    public boolean nettyViewStale() {
        if (sysctl < 0) {
            return false;
        }
        boolean liveClient = has(CLIENT);
        boolean liveServer = has(SERVER);
        return epollAvailable && (epollClient != liveClient || epollServer != liveServer)
                || ioUringAvailable && (ioUringClient != liveClient || ioUringServer != liveServer);
    }

    /**
     * Whether client and server TFO both work now: the Netty on the class path is one this library runs on,
     * the live sysctl has both bits and a native transport loads.
     *
     * @return whether both sides of TFO work
     */
    public boolean isFullyAvailable() {
        return nettyProblem == null && has(CLIENT | SERVER) && (epollAvailable || ioUringAvailable);
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
     * The whole diagnosis, one fact per line: sysctl bits, transports, Netty's cached view, the summary.
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
        transport(sb, "epoll", epollAvailable, epollCause, epollClient, epollServer);
        transport(sb, "io_uring", ioUringAvailable, ioUringCause, ioUringClient, ioUringServer);
        sb.append("Netty's cached view ").append(nettyViewStale() ? "DIFFERS from" : "matches")
                .append(" the live sysctl (matters only to Netty's own TFO options)\n");
        sb.append(summary());
        return sb.toString();
    }

    private void bit(StringBuilder sb, int mask, String meaning) {
        sb.append(String.format("  0x%-3x %s  %s%n", mask, has(mask) ? "on " : "off", meaning));
    }

    private static void transport(StringBuilder sb, String name, boolean available, Throwable cause,
                                  boolean client, boolean server) {
        sb.append(name).append(": ");
        if (available) {
            sb.append("available; Netty saw client TFO ").append(client ? "on" : "off").append(", server TFO ")
                    .append(server ? "on" : "off").append(" when it initialised\n");
        } else {
            sb.append("unavailable (").append(cause).append(")\n");
        }
    }

    /**
     * Same as {@link #summary()}.
     *
     * @return the summary sentence
     */
    @Override
    public String toString() {
        return summary();
    }
}
