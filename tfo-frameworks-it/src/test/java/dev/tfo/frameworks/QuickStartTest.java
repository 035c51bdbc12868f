package dev.tfo.frameworks;

import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.Host;
import dev.tfo.testkit.HostProcess;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's quick start, as a new user gets it: the Java block of its section "Quick start" is compiled (javax.tools)
 * against exactly what {@code dev.tfo:transport-tfo} brings (the library and its Netty jars, nothing else of this
 * test's class path), then run as a program of its own in this fresh network namespace (tcp_fastopen=3). From the
 * second connection on its client must print {@code SYN_DATA_ACKED}, and every line of the README's output sample
 * must be a line it printed.
 */
@FreshNetns
class QuickStartTest {
    private static final Path README = Path.of(System.getProperty("basedir", ".")).resolve("../README.md");
    private static final String SECTION = "## Quick start";
    /** What dev.tfo:transport-tfo brings (its compile and runtime dependencies, transitively; not io_uring). */
    private static final Set<String> LIBRARY_NETTY = Set.of("netty-common", "netty-buffer", "netty-resolver",
            "netty-transport", "netty-transport-native-unix-common", "netty-transport-classes-epoll",
            "netty-transport-native-epoll");
    private static final Pattern NETTY_JAR = Pattern.compile("(netty-[a-z0-9_-]+?)-\\d+\\.\\d+\\.\\d+\\.Final.*\\.jar");

    @BeforeEach
    void quickStartIsNetty42Code() {
        FrameworkLine.requireNetty42("the README's quick start",
                "it uses Netty 4.2's MultiThreadIoEventLoopGroup; 4.1 has EpollEventLoopGroup");
    }

    @Test
    void quickStartCompilesAndShowsSynDataAckedFromTheSecondConnection(@TempDir Path dir) throws Exception {
        String readme = Files.readString(README);
        String source = block(readme, "java");
        Matcher name = Pattern.compile("public class (\\w+)").matcher(source);
        assertTrue(name.find(), "the quick start has a public class:\n" + source);
        Path file = dir.resolve(name.group(1) + ".java");
        Files.writeString(file, source);
        String classPath = libraryClassPath();
        compile(file, dir.resolve("classes"), classPath);

        // Cookies are cached per server IP in this namespace: forget any an earlier test left for 127.0.0.1.
        try (HostProcess flush = Host.current().start("ip", "tcp_metrics", "flush", "127.0.0.1")) {
            flush.awaitExit(Duration.ofSeconds(10));
        }
        try (HostProcess run = Host.current().start(System.getProperty("java.home") + "/bin/java",
                "-Dio.netty.leakDetection.level=paranoid", "-cp", dir.resolve("classes") + File.pathSeparator + classPath,
                name.group(1))) {
            assertEquals(0, run.awaitExit(Duration.ofSeconds(60)), run::transcript);
            List<String> out = run.lines();
            List<String> clients = out.stream().filter(l -> l.startsWith("client ")).toList();
            assertEquals(3, clients.size(), run::transcript);
            assertTrue(clients.get(0).startsWith("client 1: COOKIE_REQUESTED "), run::transcript);
            assertTrue(clients.get(1).startsWith("client 2: SYN_DATA_ACKED "), run::transcript);
            assertTrue(clients.get(2).startsWith("client 3: SYN_DATA_ACKED "), run::transcript);
            assertEquals(2, out.stream().filter(l -> l.startsWith("server: SYN_DATA_ACCEPTED ")).count(), run::transcript);
            assertFalse(run.stderr().contains("Exception") || run.stderr().contains("LEAK"), run::transcript);

            List<String> sample = block(readme, "").lines().toList();
            assertFalse(sample.isEmpty(), "the README shows the quick start's output");
            for (String line : sample) {
                assertTrue(out.contains(line), "the README's sample line\n  " + line + "\nis printed by the quick start:\n"
                        + run.transcript());
            }
        }
    }

    /** The first code block of the section "Quick start" whose fence names {@code language} ("" for none). */
    private static String block(String readme, String language) {
        int section = readme.indexOf("\n" + SECTION + "\n");
        assertTrue(section >= 0, "the README has a section '" + SECTION + "'");
        int end = readme.indexOf("\n## ", section + SECTION.length() + 1);
        StringBuilder block = null;
        String open = null;
        for (String line : readme.substring(section, end < 0 ? readme.length() : end).lines().toList()) {
            if (open == null && line.startsWith("```")) {
                open = line.substring(3).strip();
                block = new StringBuilder();
            } else if (open != null && line.startsWith("```")) {
                if (open.equals(language)) {
                    return block.toString();
                }
                open = null;
            } else if (open != null) {
                block.append(line).append('\n');
            }
        }
        throw new AssertionError("the section '" + SECTION + "' has a block ```" + language);
    }

    /** The library's classes and the Netty jars it brings, from this test's class path. */
    private static String libraryClassPath() {
        List<String> kept = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry);
            String fileName = p.getFileName() == null ? "" : p.getFileName().toString();
            Matcher netty = NETTY_JAR.matcher(fileName);
            boolean library = p.getParent() != null && p.getParent().getParent() != null
                    && "transport-tfo".equals(p.getParent().getParent().getFileName().toString())
                    && fileName.equals("classes");
            boolean libraryJar = fileName.matches("transport-tfo-\\d.*\\.jar") && !fileName.contains("sources");
            if (library || libraryJar || netty.matches() && LIBRARY_NETTY.contains(netty.group(1))) {
                kept.add(entry);
            }
        }
        assertTrue(kept.stream().anyMatch(e -> e.contains("transport-tfo")), "transport-tfo on the class path: " + kept);
        assertEquals(LIBRARY_NETTY, kept.stream().map(e -> NETTY_JAR.matcher(Path.of(e).getFileName().toString()))
                .filter(Matcher::matches).map(m -> m.group(1)).collect(Collectors.toSet()), "Netty jars: " + kept);
        return String.join(File.pathSeparator, kept);
    }

    private static void compile(Path source, Path classes, String classPath) throws IOException {
        Files.createDirectories(classes);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "a JDK (javax.tools) runs this test");
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
            boolean ok = javac.getTask(null, files, diagnostics,
                    List.of("--release", "17", "-Xlint:all", "-Werror", "-cp", classPath, "-d", classes.toString()),
                    null, files.getJavaFileObjects(source)).call();
            assertTrue(ok, () -> "the quick start compiles against transport-tfo and its Netty:\n"
                    + diagnostics.getDiagnostics().stream().map(Object::toString).collect(Collectors.joining("\n")));
        }
    }
}
