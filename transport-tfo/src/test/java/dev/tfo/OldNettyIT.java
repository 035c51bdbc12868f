package dev.tfo;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged jar on a Netty older than the oldest it supports (4.1.76.Final), as a user with a stale
 * dependency tree would run it: every public entry point either works (the pure-Java types) or fails at once
 * with one {@code IllegalStateException} naming the version found and the version needed, never with a
 * {@code NoClassDefFoundError} or {@code NoSuchMethodError}, and {@link TfoSupport} says why TFO is unavailable.
 * Run in a child JVM ({@link OldNettyProbe}) whose class path holds the jar and only that old Netty (copied by
 * the module's pom into {@code old-netty/VERSION}): 4.1.75, one release short, and 4.1.69, which also lacks
 * {@code Epoll.isTcpFastOpen*SideAvailable}.
 */
class OldNettyIT {
    private static final Path JAR = Path.of(System.getProperty("tfo.jar", "target/missing.jar"));
    private static final Path OLD_NETTY = Path.of(System.getProperty("tfo.oldNetty", "target/old-netty"));
    private static final List<String> WORK_EVERYWHERE = List.of("TfoKey.generate", "TfoCounters.snapshot",
            "TfoClientOptions.builder", "TfoServerOptions.builder", "TfoBackoff.builder");
    private static final List<String> GUARDED = List.of(
            "TfoChannels.serverFactory", "TfoBootstraps.connect",
            "TfoChannels.client", "TfoChannels.clientFactory", "TfoResult.of", "TfoKeyRing.of",
            "TfoKeyRing.of(backup)", "TfoKeyRing.watch");

    @ParameterizedTest(name = "Netty {0}")
    @ValueSource(strings = {"4.1.75.Final", "4.1.69.Final"})
    void everyEntryPointWorksOrNamesTheNettyNeeded(String version) throws Exception {
        Map<String, String> got = probe(version);
        String needed = "java.lang.IllegalStateException: transport-tfo needs Netty 4.1.76.Final or later; found "
                + "netty-common " + version + ". Upgrade Netty to 4.1.76.Final or later, on every Netty artifact";

        assertEquals(size(), got.size(), "one line per entry point: " + got);
        got.forEach((entry, outcome) -> assertFalse(outcome.contains("Error"), entry + ": " + outcome));
        for (String entry : WORK_EVERYWHERE) {
            assertTrue(got.get(entry).startsWith("ok "), entry + ": " + got.get(entry));
        }
        for (String entry : GUARDED) {
            assertTrue(got.get(entry).startsWith(needed), entry + ": " + got.get(entry));
        }
        assertEquals("ok true", got.get("TfoBootstraps.connect released its first flight"));
        assertEquals("ok false", got.get("TfoSupport.isClientAvailable"));
        String summary = got.get("TfoSupport.summary");
        assertTrue(summary.startsWith("ok TCP Fast Open is unavailable through transport-tfo: transport-tfo needs "
                + "Netty 4.1.76.Final or later; found netty-common " + version), summary);
    }

    private static int size() {
        return WORK_EVERYWHERE.size() + GUARDED.size() + 3;
    }

    /** Runs {@link OldNettyProbe} on the jar and that Netty; its lines, entry point to outcome. */
    private static Map<String, String> probe(String version) throws IOException, InterruptedException {
        assertTrue(Files.isRegularFile(JAR), "the packaged jar " + JAR);
        Path netty = OLD_NETTY.resolve(version);
        List<Path> jars;
        try (Stream<Path> s = Files.list(netty)) {
            jars = s.filter(p -> p.toString().endsWith(".jar")).sorted().collect(Collectors.toList());
        }
        assertTrue(jars.stream().anyMatch(p -> p.getFileName().toString().equals("netty-common-" + version + ".jar")),
                "the pom copies Netty " + version + " into " + netty + ": " + jars);
        // The probe's own class comes from the test classes; nothing else of this build is on the path.
        Path probeClasses = Path.of(OldNettyProbe.class.getProtectionDomain().getCodeSource().getLocation().getPath());
        String classPath = Stream.concat(Stream.of(JAR, probeClasses), jars.stream())
                .map(Path::toString).collect(Collectors.joining(File.pathSeparator));
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        Process child = new ProcessBuilder(java, "-cp", classPath, OldNettyProbe.class.getName())
                .redirectErrorStream(true).start();
        child.getOutputStream().close();
        byte[] out = child.getInputStream().readAllBytes();
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the probe JVM did not exit");
        String printed = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, child.exitValue(), printed);
        Map<String, String> lines = new LinkedHashMap<>();
        for (String line : printed.split("\n")) {
            int tab = line.indexOf('\t');
            if (tab > 0) {
                lines.put(line.substring(0, tab), line.substring(tab + 1));
            }
        }
        return lines;
    }
}
