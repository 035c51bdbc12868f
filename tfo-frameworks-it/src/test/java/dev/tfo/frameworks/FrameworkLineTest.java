package dev.tfo.frameworks;

import dev.tfo.testkit.TestTransport;
import org.junit.jupiter.api.Test;
import reactor.netty.http.client.HttpClient;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The frameworks' tests run on the line the build asked for: every Netty artifact at the expected version, and
 * the Reactor Netty release of that line (so {@code -P netty-4.1} can never silently test 4.2).
 */
class FrameworkLineTest {
    @Test
    void nettyAndReactorNettyAreThoseOfTheLineUnderTest() throws Exception {
        String netty = System.getProperty("tfo.expectedNettyVersion");
        String reactorNetty = System.getProperty("tfo.expectedReactorNettyVersion");
        assertNotNull(netty, "tfo.expectedNettyVersion (root pom)");
        assertNotNull(reactorNetty, "tfo.expectedReactorNettyVersion (this module's pom)");
        Map<String, String> artifacts = TestTransport.nettyArtifacts();
        assertTrue(artifacts.containsKey("netty-codec-http"), artifacts.toString());
        artifacts.forEach((artifact, version) -> assertEquals(netty, version, artifact + ": " + artifacts));
        Path jar = Path.of(HttpClient.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertEquals("reactor-netty-http-" + reactorNetty + ".jar", jar.getFileName().toString());
        assertEquals(netty.startsWith("4.1."), FrameworkLine.netty41());
    }
}
