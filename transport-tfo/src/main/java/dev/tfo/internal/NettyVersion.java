package dev.tfo.internal;

import io.netty.util.Version;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Netty on the class path, checked once against the oldest release this library runs on, so that an
 * older Netty fails at the entry points with one clear sentence instead of a {@code NoClassDefFoundError}
 * deep inside a connect.
 *
 * <p>The oldest is {@value #OLDEST}: {@code io.netty.channel.unix.IntegerUnixChannelOption} and
 * {@code RawUnixChannelOption} (the kernel's {@code TCP_FASTOPEN_CONNECT}, {@code TCP_FASTOPEN},
 * {@code TCP_FASTOPEN_NO_COOKIE} and {@code TCP_FASTOPEN_KEY}, set through the epoll channel config) and
 * {@code Socket.getRawOpt} (raw {@code tcp_info}) first appeared there. Everything else this library calls is
 * older ({@code Socket.sendTo*(..., fastOpen)}: 4.1.60; {@code Epoll.isTcpFastOpen*SideAvailable}: 4.1.70).
 * Every 4.2 release qualifies.
 */
public final class NettyVersion {
    /** The oldest Netty release this library runs on. */
    public static final String OLDEST = "4.1.76.Final";
    private static final int[] OLDEST_PARTS = parse(OLDEST);
    /** The Netty artifacts whose classes this library calls. */
    private static final String[] ARTIFACTS = {"netty-common", "netty-buffer", "netty-transport",
        "netty-transport-native-unix-common", "netty-transport-classes-epoll"};
    private static final String PROBLEM = problem(foundVersions(), hasUnixChannelOptions());

    private NettyVersion() {
    }

    /**
     * Fails when the Netty on the class path is older than {@value #OLDEST}. The class path is examined
     * once, when this class initialises; later calls cost a field read.
     *
     * @throws IllegalStateException naming the version found and the version needed
     */
    public static void requireSupported() {
        if (PROBLEM != null) {
            throw new IllegalStateException(PROBLEM);
        }
    }

    /**
     * Why the Netty on the class path is too old, for diagnoses that report instead of failing
     * ({@code TfoSupport}).
     *
     * @return the problem in one sentence, or {@code null} when this Netty is supported
     */
    public static String unsupportedReason() {
        return PROBLEM;
    }

    /**
     * Why a Netty is too old, or {@code null} when it is recent enough.
     *
     * @param versions          artifact id to version (e.g. {@code netty-transport} to {@code 4.1.130.Final}),
     *                          as Netty's {@code META-INF/io.netty.versions.properties} tell them; may be empty
     *                          (a shaded Netty)
     * @param unixChannelOptions whether {@code IntegerUnixChannelOption}, {@code RawUnixChannelOption} and
     *                          {@code Socket.getRawOpt} exist
     * @return the problem in one sentence, or {@code null}
     */
    static String problem(Map<String, String> versions, boolean unixChannelOptions) {
        String oldestArtifact = null;
        int[] oldest = null;
        for (String artifact : ARTIFACTS) {
            int[] v = parse(versions.get(artifact));
            if (v != null && (oldest == null || compare(v, oldest) < 0)) {
                oldest = v;
                oldestArtifact = artifact;
            }
        }
        String fix = ". Upgrade Netty to " + OLDEST + " or later, on every Netty artifact (e.g. import "
                + "io.netty:netty-bom:4.1.130.Final, or any 4.2.x)";
        if (oldest != null && compare(oldest, OLDEST_PARTS) < 0) {
            return "transport-tfo needs Netty " + OLDEST + " or later; found " + oldestArtifact + " "
                    + versions.get(oldestArtifact) + fix;
        }
        if (!unixChannelOptions) {
            String found = oldest == null ? "a Netty without version information"
                    : "Netty " + versions.get(oldestArtifact);
            return "transport-tfo needs Netty " + OLDEST + " or later; found " + found + " that lacks "
                    + "io.netty.channel.unix.IntegerUnixChannelOption, RawUnixChannelOption or Socket.getRawOpt"
                    + fix;
        }
        return null;
    }

    /**
     * The numbers of a Netty version.
     *
     * @param version e.g. {@code 4.1.130.Final}, {@code 4.2.0.Alpha1}, {@code 4.1.131.Final-SNAPSHOT}
     * @return major, minor and micro, or {@code null} when absent or not of that form
     */
    static int[] parse(String version) {
        if (version == null) {
            return null;
        }
        String[] p = version.split("[.-]");
        if (p.length < 3) {
            return null;
        }
        try {
            return new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2])};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static int compare(int[] a, int[] b) {
        for (int i = 0; i < 3; i++) {
            if (a[i] != b[i]) {
                return Integer.compare(a[i], b[i]);
            }
        }
        return 0;
    }

    private static Map<String, String> foundVersions() {
        Map<String, String> found = new TreeMap<>();
        try {
            ClassLoader loader = io.netty.channel.Channel.class.getClassLoader();
            for (Map.Entry<String, Version> e : Version.identify(loader).entrySet()) {
                found.put(e.getKey(), e.getValue().artifactVersion());
            }
        } catch (RuntimeException | LinkageError e) {
            // no version information: the class check decides alone
        }
        return found;
    }

    private static boolean hasUnixChannelOptions() {
        ClassLoader loader = io.netty.channel.Channel.class.getClassLoader();
        try {
            Class.forName("io.netty.channel.unix.IntegerUnixChannelOption", false, loader);
            Class.forName("io.netty.channel.unix.RawUnixChannelOption", false, loader);
            Class.forName("io.netty.channel.unix.Socket", false, loader)
                    .getMethod("getRawOpt", int.class, int.class, ByteBuffer.class);
            return true;
        } catch (ReflectiveOperationException | LinkageError e) {
            return false;
        }
    }
}
