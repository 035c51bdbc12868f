package dev.tfo.internal;

import dev.tfo.testkit.TestTransport;
import io.netty.util.Version;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The check of an old Netty, with fake version strings; and the Netty this test run really runs on
 * (the build passes {@code tfo.expectedNettyVersion}: 4.2 by default, 4.1 under {@code -P netty-4.1}).
 */
class NettyVersionTest {
    private static final String FIX = ". Upgrade Netty to 4.1.76.Final or later, on every Netty artifact (e.g. "
            + "import io.netty:netty-bom:4.1.130.Final, or any 4.2.x)";

    private static Map<String, String> all(String version) {
        return Map.of("netty-common", version, "netty-buffer", version, "netty-transport", version,
                "netty-transport-native-unix-common", version, "netty-transport-classes-epoll", version);
    }

    @Test
    void theOldestSupportedAndEveryLaterReleaseOfBothLinesPass() {
        for (String v : new String[] {"4.1.76.Final", "4.1.118.Final", "4.1.130.Final", "4.1.131.Final-SNAPSHOT",
            "4.2.0.Alpha1", "4.2.18.Final"}) {
            assertNull(NettyVersion.problem(all(v), true), v);
        }
    }

    @Test
    void anOlderNettyIsNamedWithTheVersionNeeded() {
        assertEquals("transport-tfo needs Netty 4.1.76.Final or later; found netty-common 4.1.75.Final" + FIX,
                NettyVersion.problem(all("4.1.75.Final"), false));
        assertEquals("transport-tfo needs Netty 4.1.76.Final or later; found netty-common 4.0.56.Final" + FIX,
                NettyVersion.problem(all("4.0.56.Final"), false));
        assertEquals("transport-tfo needs Netty 4.1.76.Final or later; found netty-common 4.1.9.Final" + FIX,
                NettyVersion.problem(all("4.1.9.Final"), true), "numbers compare as numbers, not text");
    }

    @Test
    void theOldestArtifactIsTheOneNamed() {
        Map<String, String> mixed = Map.of("netty-common", "4.1.130.Final", "netty-transport", "4.1.130.Final",
                "netty-transport-native-unix-common", "4.1.70.Final", "netty-codec-http", "4.0.1.Final");
        assertEquals("transport-tfo needs Netty 4.1.76.Final or later; found netty-transport-native-unix-common "
                + "4.1.70.Final" + FIX, NettyVersion.problem(mixed, true),
                "an artifact the library does not call (netty-codec-http) does not count");
    }

    @Test
    void withoutVersionInformationTheClassesDecide() {
        assertNull(NettyVersion.problem(Map.of(), true), "a shaded Netty with the classes");
        assertEquals("transport-tfo needs Netty 4.1.76.Final or later; found a Netty without version information "
                + "that lacks io.netty.channel.unix.IntegerUnixChannelOption, RawUnixChannelOption or "
                + "Socket.getRawOpt" + FIX, NettyVersion.problem(Map.of("netty-common", "garbage"), false));
        assertEquals("transport-tfo needs Netty 4.1.76.Final or later; found Netty 4.1.100.Final that lacks "
                + "io.netty.channel.unix.IntegerUnixChannelOption, RawUnixChannelOption or Socket.getRawOpt" + FIX,
                NettyVersion.problem(all("4.1.100.Final"), false));
    }

    @Test
    void parsesNettyVersions() {
        assertArrayEquals(new int[] {4, 1, 130}, NettyVersion.parse("4.1.130.Final"));
        assertArrayEquals(new int[] {4, 1, 131}, NettyVersion.parse("4.1.131.Final-SNAPSHOT"));
        assertArrayEquals(new int[] {4, 2, 0}, NettyVersion.parse("4.2.0.Alpha1"));
        assertNull(NettyVersion.parse(null));
        assertNull(NettyVersion.parse("4.1"));
        assertNull(NettyVersion.parse("four.one.x"));
    }

    @Test
    void theNettyOfThisBuildIsSupported() {
        assertDoesNotThrow(NettyVersion::requireSupported);
    }

    @Test
    void theTestClassPathCarriesOnlyTheNettyThisBuildTests() throws Exception {
        assertClassPath();
    }

    /**
     * Every Netty artifact on this JVM's class path, and on that of a JVM forked with it (as the scenario
     * agents are), has the version the build asked for; io_uring exists exactly on 4.2.
     */
    static void assertClassPath() throws Exception {
        String expected = System.getProperty("tfo.expectedNettyVersion");
        assertNotNull(expected, "tfo.expectedNettyVersion is not set (the root pom's surefire configuration sets it)");
        Map<String, String> here = versions();
        for (String artifact : new String[] {"netty-common", "netty-buffer", "netty-transport",
            "netty-transport-native-unix-common", "netty-transport-classes-epoll", "netty-transport-native-epoll",
            "netty-handler"}) {
            assertTrue(here.containsKey(artifact), artifact + " missing from the class path: " + here);
        }
        here.forEach((artifact, version) -> assertEquals(expected, version,
                artifact + " is not the Netty this run tests: " + here));
        assertEquals(expected, TestTransport.nettyVersion());
        boolean line41 = expected.startsWith("4.1.");
        assertEquals(line41, TestTransport.IO_URING.declaredAbsence().isPresent(), "io_uring exists exactly on 4.2");
        assertEquals(!line41, TestTransport.ioHandlerApi());
        if (line41) {
            assertFalse(here.keySet().stream().anyMatch(a -> a.contains("io_uring")), here.toString());
        } else {
            assertTrue(here.containsKey("netty-transport-classes-io_uring"), here.toString());
        }

        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Print.class.getName())
                .redirectErrorStream(true).start();
        child.getOutputStream().close();
        byte[] out = child.getInputStream().readAllBytes();
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child JVM did not exit");
        String printed = new String(out, StandardCharsets.UTF_8).trim();
        assertEquals(0, child.exitValue(), printed);
        assertEquals(here.toString(), printed, "a JVM forked with this class path sees the same Netty");
    }

    private static Map<String, String> versions() {
        Map<String, String> m = new TreeMap<>();
        Version.identify(Version.class.getClassLoader()).forEach((a, v) -> m.put(a, v.artifactVersion()));
        return m;
    }

    /** The main of the forked JVM: prints the Netty artifacts and versions of its class path. */
    public static final class Print {
        private Print() {
        }

        public static void main(String[] args) {
            System.out.println(versions());
        }
    }
}
