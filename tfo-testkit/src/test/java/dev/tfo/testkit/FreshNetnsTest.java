package dev.tfo.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Runs only in the netns-java JVM (surefire execution netns-test). */
@FreshNetns
class FreshNetnsTest {

    @Test
    void runsInAFreshNamespaceWithTcpFastOpen3() throws Exception {
        assertEquals("1", System.getenv("TFO_NETNS"));
        assertEquals("3", Files.readString(TestEnvironment.TCP_FASTOPEN).trim());
        assertEquals("3", Host.current().sysctl("net.ipv4.tcp_fastopen"));
        // A fresh namespace has nothing but lo: no route to anywhere else.
        String links = Host.current().exec("ip", "-o", "link");
        assertEquals(1, links.strip().lines().count(), links);
        assertTrue(links.contains("lo:") && links.contains("UP"), links);
    }

    @Test
    void loopbackWorksAndCaptureHereSeesThePayload() throws Exception {
        if (!TestEnvironment.isCi()) {
            org.junit.jupiter.api.Assumptions.assumeFalse(TestEnvironment.inUserNamespace(),
                    "non-root netns-java (user namespace): tcpdump cannot run there; captures need root");
        }
        byte[] message = "fresh-netns-payload".getBytes(StandardCharsets.US_ASCII);
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = server.getLocalPort();
            try (Capture cap = Capture.here("lo", "tcp port " + port)) {
                try (Socket client = new Socket()) {
                    client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
                    OutputStream out = client.getOutputStream();
                    out.write(message);
                    out.flush();
                    try (Socket accepted = server.accept()) {
                        assertArrayEquals(message, accepted.getInputStream().readNBytes(message.length));
                    }
                }
                Packet data = cap.await(p -> p.payloadLength() > 0, Duration.ofSeconds(5));
                assertArrayEquals(message, data.payload());
                assertEquals(port, data.dstPort());
                assertTrue(cap.stop().stream().anyMatch(Packet::isSyn), Capture.render(cap.stop()));
            }
        }
    }

    @Test
    void currentNamespaceMayBeChangedHere() {
        try (Rule rule = Host.current().dropSynWithData()) {
            assertEquals(0, rule.packets());
        }
    }
}
