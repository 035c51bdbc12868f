package dev.tfo.example.echo;

import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.Host;
import dev.tfo.testkit.HostProcess;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every output sample of the documentation is what the program prints today. A sample is the code block right after
 * a line {@code <!-- output of: COMMAND -->} in any Markdown file of the repository, where COMMAND is
 * {@code ./echo.sh [FLAGS]} (the example with the flags echo.sh gives it, in a namespace with tcp_fastopen=3, plus
 * echo.sh's own lines) or {@code java -jar example-echo/target/example-echo.jar [FLAGS]}, optionally followed by
 * {@code ; net.ipv4.tcp_fastopen=N} (the namespace's value for that run; default 3). The command runs in a JVM of its
 * own in this fresh network namespace, and each line of the sample must be a line it printed (stdout or stderr), with
 * every number a placeholder (times, ports, counters). An {@code echo.sh: } line must be one that echo.sh prints.
 */
@FreshNetns
class DocSamplesTest {
    private static final Path ROOT = Path.of(System.getProperty("basedir", ".")).resolve("..").normalize();
    private static final Pattern MARKER = Pattern.compile("<!-- output of: (.+?) -->");
    private static final Pattern SYSCTL = Pattern.compile("(.*?);\\s*net\\.ipv4\\.tcp_fastopen=(\\d+)");
    private static final Path SYSCTL_FILE = Path.of("/proc/sys/net/ipv4/tcp_fastopen");
    private static final String JAR = "java -jar example-echo/target/example-echo.jar";

    record Sample(Path file, int line, String command, List<String> lines) {
        @Override
        public String toString() {
            return ROOT.relativize(file) + ":" + line + " (" + command + ")";
        }
    }

    @Test
    void everyOutputSampleIsWhatTheProgramPrints() throws Exception {
        List<Sample> samples = samples();
        assertTrue(samples.size() >= 5, "the docs have output samples: " + samples);
        String echoSh = Files.readString(ROOT.resolve("echo.sh"));
        for (Sample sample : samples) {
            Matcher sysctl = SYSCTL.matcher(sample.command());
            String command = sysctl.matches() ? sysctl.group(1).strip() : sample.command();
            String value = sysctl.matches() ? sysctl.group(2) : "3";
            List<String> printed = run(sample, args(sample, command), value);
            for (String line : sample.lines()) {
                if (line.startsWith("echo.sh: ")) {
                    assertTrue(command.startsWith("./echo.sh") && echoShPrints(echoSh, line),
                            sample + ": echo.sh prints no such line:\n  " + line);
                } else {
                    assertTrue(printed.stream().anyMatch(p -> normalized(p).equals(normalized(line))),
                            sample + ": the program printed no such line:\n  " + line + "\nit printed:\n"
                                    + String.join("\n", printed));
                }
            }
        }
    }

    /** The example's arguments for a documented command (echo.sh adds -l and --count 3 unless given, as it does). */
    private static List<String> args(Sample sample, String command) {
        List<String> args;
        if (command.startsWith("./echo.sh")) {
            args = new ArrayList<>(words(command.substring("./echo.sh".length())));
            if (args.stream().noneMatch(a -> a.equals("--count") || a.startsWith("--count="))) {
                args.add(0, "3");
                args.add(0, "--count");
            }
            if (args.stream().noneMatch(a -> List.of("-l", "--listen", "--listen-only", "--diagnose").contains(a))) {
                args.add(0, "-l");
            }
        } else if (command.startsWith(JAR)) {
            args = words(command.substring(JAR.length()));
        } else {
            throw new AssertionError(sample + ": not a command of the example: " + command);
        }
        return args;
    }

    private static List<String> words(String s) {
        return Arrays.stream(s.strip().split("\\s+")).filter(w -> !w.isEmpty()).toList();
    }

    /** Runs the example in a JVM of its own, this namespace's tcp_fastopen set to {@code value} for the run. */
    private static List<String> run(Sample sample, List<String> args, String value) throws IOException {
        String before = Files.readString(SYSCTL_FILE).strip();
        // Cookies are cached per server IP in this namespace: a sample's first connection asks for one.
        try (HostProcess flush = Host.current().start("ip", "tcp_metrics", "flush", "127.0.0.1")) {
            flush.awaitExit(Duration.ofSeconds(10));
        }
        Files.writeString(SYSCTL_FILE, value);
        try (HostProcess p = Host.current().startJava(Main.class, args.toArray(String[]::new))) {
            int exit = p.awaitExit(Duration.ofSeconds(60));
            assertEquals(0, exit, () -> sample + ": exit status\n" + p.transcript());
            List<String> printed = new ArrayList<>(p.lines());
            printed.addAll(p.stderr().lines().toList());
            assertFalse(printed.isEmpty(), sample + ": printed nothing");
            return printed;
        } finally {
            Files.writeString(SYSCTL_FILE, before);
        }
    }

    /** Numbers (times, ports, addresses, counts) are placeholders; the rest must match exactly. */
    private static String normalized(String line) {
        return line.stripTrailing().replaceAll("\\d+(\\.\\d+)?", "N");
    }

    /** Whether one of echo.sh's {@code echo "echo.sh: ..."} or {@code say "..."} lines prints {@code line}. */
    private static boolean echoShPrints(String script, String line) {
        Matcher m = Pattern.compile("(?:echo \"(echo\\.sh: [^\"]*)\"|say \"([^\"]*)\")").matcher(script);
        while (m.find()) {
            String template = m.group(1) != null ? m.group(1) : "echo.sh: " + m.group(2);
            String pattern = Arrays.stream(template.split("\\$(\\{[^}]*}|\\([^)]*\\)|\\w+)", -1))
                    .map(Pattern::quote).collect(Collectors.joining(".*"));
            if (line.matches(pattern)) {
                return true;
            }
        }
        return false;
    }

    /** Every sample of every Markdown file of the repository (build folders and .git left out). */
    private static List<Sample> samples() throws IOException {
        List<Sample> samples = new ArrayList<>();
        try (Stream<Path> files = Files.walk(ROOT, 2)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".md"))
                    .filter(f -> Arrays.stream(ROOT.relativize(f).toString().split("/"))
                            .noneMatch(d -> d.startsWith("target") || d.startsWith(".")))
                    .sorted().toList()) {
                List<String> lines = Files.readAllLines(file);
                for (int i = 0; i < lines.size(); i++) {
                    Matcher m = MARKER.matcher(lines.get(i).strip());
                    if (!m.matches()) {
                        continue;
                    }
                    assertTrue(i + 1 < lines.size() && lines.get(i + 1).startsWith("```"),
                            ROOT.relativize(file) + ":" + (i + 1) + ": a code block follows the marker");
                    List<String> block = new ArrayList<>();
                    int j = i + 2;
                    for (; j < lines.size() && !lines.get(j).startsWith("```"); j++) {
                        block.add(lines.get(j));
                    }
                    samples.add(new Sample(file, i + 1, m.group(1).strip(), block));
                    i = j;
                }
            }
        }
        return samples;
    }
}
