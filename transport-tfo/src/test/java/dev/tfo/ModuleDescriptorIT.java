package dev.tfo;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged jar is a sound module on the Netty line on the class path (4.2's explicit modules, or 4.1's
 * automatic ones): its descriptor exports {@code dev.tfo} only, and a small application module compiled and
 * run against it on the module path uses the API while {@code dev.tfo.internal} stays closed to it.
 */
class ModuleDescriptorIT {
    private static final Path JAR = Path.of(System.getProperty("tfo.jar", "target/missing.jar"));

    @Test
    void theDescriptorExportsTheApiAndNotTheInternals() {
        assertTrue(Files.isRegularFile(JAR), "the packaged jar " + JAR);
        ModuleDescriptor d = ModuleFinder.of(JAR).find("dev.tfo").orElseThrow().descriptor();
        assertEquals(Set.of("dev.tfo"), d.exports().stream().map(ModuleDescriptor.Exports::source)
                .collect(Collectors.toSet()));
        assertTrue(d.packages().contains("dev.tfo.internal"), d.packages().toString());
        assertEquals(Set.of("io.netty.common", "io.netty.buffer", "io.netty.transport", "io.netty.transport.unix.common",
                "io.netty.transport.classes.epoll"), d.requires().stream().map(ModuleDescriptor.Requires::name)
                .filter(n -> n.startsWith("io.netty")).collect(Collectors.toSet()));
    }

    @Test
    void anApplicationModuleUsesTheApiAndCannotReachTheInternals() throws Exception {
        Path work = Files.createTempDirectory("tfo-module");
        Path src = work.resolve("src/probe");
        Files.createDirectories(src.resolve("probe"));
        Files.writeString(src.resolve("module-info.java"), "module probe { requires dev.tfo; }\n");
        Files.writeString(src.resolve("probe/Main.java"), String.join("\n",
                "package probe;",
                "public class Main {",
                "    public static void main(String[] args) throws Exception {",
                "        System.out.println(\"handler \" + dev.tfo.TfoChannels.HANDLER_NAME);",
                "        System.out.println(\"support \" + dev.tfo.TfoSupport.current().summary());",
                "        System.out.println(\"key \" + dev.tfo.TfoKey.generate());",
                "        try {",
                "            Class.forName(\"dev.tfo.internal.Procfs\").getMethod(\"readInt\", java.nio.file.Path.class)",
                "                    .invoke(null, java.nio.file.Path.of(\"/proc/sys/net/ipv4/tcp_fastopen\"));",
                "            System.out.println(\"internal reachable\");",
                "        } catch (IllegalAccessException e) {",
                "            System.out.println(\"internal closed\");",
                "        }",
                "    }",
                "}", ""));
        String modulePath = modulePath();
        Path out = work.resolve("out");
        Path bin = Path.of(System.getProperty("java.home"), "bin");
        run(List.of(bin.resolve("javac").toString(), "-d", out.toString(), "--module-path", modulePath,
                src.resolve("module-info.java").toString(), src.resolve("probe/Main.java").toString()));
        String output = run(List.of(bin.resolve("java").toString(), "--module-path",
                out + File.pathSeparator + modulePath, "--add-modules", "ALL-MODULE-PATH", "-m", "probe/probe.Main"));
        List<String> lines = output.lines().filter(l -> !l.startsWith("WARNING")).collect(Collectors.toList());
        assertTrue(lines.contains("handler tfo"), output);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("support TCP Fast Open")), output);
        assertTrue(lines.contains("key TfoKey(****)"), output);
        assertTrue(lines.contains("internal closed"), "dev.tfo.internal is not exported: " + output);
    }

    private static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), cmd.get(0) + " ended");
        assertEquals(0, p.exitValue(), cmd.get(0) + ": " + output);
        return output;
    }

    /** The jar and the Netty jars this build runs with (whichever line is on the test class path). */
    private static String modulePath() {
        List<String> entries = new ArrayList<>();
        entries.add(JAR.toAbsolutePath().toString());
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> e.contains(File.separator + "io" + File.separator + "netty" + File.separator))
                .filter(e -> !e.contains("pkitesting") && !e.contains("bcp"))
                .forEach(entries::add);
        return String.join(File.pathSeparator, entries);
    }
}
