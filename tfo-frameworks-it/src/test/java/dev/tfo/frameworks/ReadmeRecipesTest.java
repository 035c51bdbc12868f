package dev.tfo.frameworks;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's "Recipes per framework" are the very lines the tests run: each recipe's code block must appear,
 * verbatim (same lines, same relative indentation), in the {@link FrameworkTfo} method whose Javadoc names it.
 */
class ReadmeRecipesTest {
    private static final String SECTION = "## Recipes per framework";
    private static final Path MODULE = Path.of(System.getProperty("basedir", "."));

    @Test
    void everyRecipeIsWhatTheTestsRun() throws IOException {
        Map<String, List<String>> recipes = recipes(Files.readString(MODULE.resolve("../README.md")));
        assertEquals(List.of("Reactor Netty HttpClient", "gRPC-java (grpc-netty)", "Lettuce",
                "Plain Netty"), List.copyOf(recipes.keySet()), "the recipes in the README");
        String source = Files.readString(MODULE.resolve("src/test/java/dev/tfo/frameworks/FrameworkTfo.java"));
        for (Map.Entry<String, List<String>> recipe : recipes.entrySet()) {
            String marker = "README \"" + recipe.getKey() + "\"";
            int start = source.indexOf(marker);
            assertTrue(start >= 0, "FrameworkTfo has a method for the recipe " + marker);
            int end = source.indexOf("README \"", start + marker.length());
            List<String> body = source.substring(start, end < 0 ? source.length() : end).lines().toList();
            assertTrue(containsVerbatim(body, recipe.getValue()), "the recipe " + marker + " is, verbatim, in"
                    + " FrameworkTfo:\n" + String.join("\n", recipe.getValue()));
        }
    }

    /** Heading (### ...) to the dedented lines of its first java code block, in README order. */
    private static Map<String, List<String>> recipes(String readme) {
        int from = readme.indexOf("\n" + SECTION + "\n");
        assertTrue(from >= 0, "the README has a section '" + SECTION + "'");
        int to = readme.indexOf("\n## ", from + SECTION.length() + 1);
        List<String> lines = readme.substring(from, to < 0 ? readme.length() : to).lines().toList();
        Map<String, List<String>> recipes = new LinkedHashMap<>();
        String heading = null;
        List<String> block = null;
        for (String line : lines) {
            if (block != null) {
                if (line.startsWith("```")) {
                    recipes.putIfAbsent(heading, dedent(block));
                    block = null;
                } else {
                    block.add(line);
                }
            } else if (line.startsWith("### ")) {
                heading = line.substring(4).trim();
            } else if (line.startsWith("```java") && heading != null && !recipes.containsKey(heading)) {
                block = new ArrayList<>();
            }
        }
        return recipes;
    }

    private static boolean containsVerbatim(List<String> source, List<String> block) {
        for (int i = 0; i + block.size() <= source.size(); i++) {
            if (dedent(source.subList(i, i + block.size())).equals(block)) {
                return true;
            }
        }
        return false;
    }

    private static List<String> dedent(List<String> lines) {
        int indent = lines.stream().filter(l -> !l.isBlank())
                .mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
        return lines.stream().map(l -> l.isBlank() ? "" : l.substring(indent).stripTrailing()).toList();
    }
}
