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
 * The recipes of docs/frameworks.md are the very lines the tests run: the first {@code java} code block under each
 * {@code ##} heading must appear, verbatim (same lines, same relative indentation), in the {@link FrameworkTfo}
 * method whose Javadoc names that heading ({@code Recipe "<heading>"}).
 */
class ReadmeRecipesTest {
    private static final Path MODULE = Path.of(System.getProperty("basedir", "."));
    private static final Path RECIPES = MODULE.resolve("../docs/frameworks.md");
    private static final String MARKER = "Recipe \"";

    @Test
    void everyRecipeIsWhatTheTestsRun() throws IOException {
        Map<String, List<String>> recipes = recipes(Files.readString(RECIPES));
        assertEquals(List.of("Reactor Netty HttpClient", "gRPC-java (grpc-netty)",
                "gRPC-java in one round trip (transport-tfo-grpc)", "Lettuce", "Plain Netty",
                "Vert.x 5"), List.copyOf(recipes.keySet()), "the recipes in " + RECIPES);
        String source = Files.readString(MODULE.resolve("src/test/java/dev/tfo/frameworks/FrameworkTfo.java"));
        for (Map.Entry<String, List<String>> recipe : recipes.entrySet()) {
            String marker = MARKER + recipe.getKey() + "\"";
            int start = source.indexOf(marker);
            assertTrue(start >= 0, "FrameworkTfo has a method for the recipe " + marker);
            int end = source.indexOf(MARKER, start + marker.length());
            List<String> body = source.substring(start, end < 0 ? source.length() : end).lines().toList();
            assertTrue(containsVerbatim(body, recipe.getValue()), "the recipe " + marker + " is, verbatim, in"
                    + " FrameworkTfo:\n" + String.join("\n", recipe.getValue()));
        }
    }

    /** Heading (## ...) to the dedented lines of its first java code block, in file order. */
    private static Map<String, List<String>> recipes(String markdown) {
        Map<String, List<String>> recipes = new LinkedHashMap<>();
        String heading = null;
        List<String> block = null;
        boolean inOtherBlock = false;
        for (String line : markdown.lines().toList()) {
            if (block != null) {
                if (line.startsWith("```")) {
                    recipes.putIfAbsent(heading, dedent(block));
                    block = null;
                } else {
                    block.add(line);
                }
            } else if (line.startsWith("```")) {
                if (!inOtherBlock && line.startsWith("```java") && heading != null && !recipes.containsKey(heading)) {
                    block = new ArrayList<>();
                } else {
                    inOtherBlock = !inOtherBlock;
                }
            } else if (!inOtherBlock && line.startsWith("## ")) {
                heading = line.substring(3).trim();
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
