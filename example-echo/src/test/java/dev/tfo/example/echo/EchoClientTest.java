package dev.tfo.example.echo;

import dev.tfo.TfoOutcome;
import dev.tfo.testkit.TestTransport;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * In-process echo round trips on loopback, per transport. This JVM runs in the build's own network namespace
 * (the host's tcp_fastopen, typically 1: no server TFO), so the outcome is whatever the host allows; every
 * byte must come back intact, with an outcome that says why.
 */
class EchoClientTest {

    /** The transports under test (the testkit's one list) that the example offers: each one a permutation. */
    static Stream<TestTransport> offered() {
        return Arrays.stream(TestTransport.values()).filter(t -> example(t).isPresent());
    }

    /** The example's transport of the same name as the testkit's. */
    private static Optional<NettyTransport> example(TestTransport transport) {
        return Arrays.stream(NettyTransport.values()).filter(t -> t.toString().equals(transport.displayName()))
                .findFirst();
    }

    @Test
    void everyTransportTheExampleOffersIsUnderTest() {
        assertEquals(Arrays.asList(NettyTransport.values()), offered().map(t -> example(t).orElseThrow()).toList());
    }

    @ParameterizedTest
    @MethodSource("offered")
    void roundTripIsIntactWithAnExplainedOutcome(TestTransport transport) throws Exception {
        roundTrips(transport, EchoClient.Mode.FIRST_FLIGHT);
    }

    @ParameterizedTest
    @MethodSource("offered")
    void connectThenWriteRoundTripIsIntactWithAnExplainedOutcome(TestTransport transport) throws Exception {
        roundTrips(transport, EchoClient.Mode.CONNECT_THEN_WRITE);
    }

    private static void roundTrips(TestTransport under, EchoClient.Mode mode) throws Exception {
        NettyTransport transport = example(under).orElseThrow();
        // As TestTransport has it: an unusable transport is a failure with Netty's reason, never a skip.
        assertNull(transport.unavailabilityCause(), () -> transport + " unavailable here: "
                + transport.unavailabilityCause());
        EventLoopGroup group = transport.newGroup(2);
        PrintStream log = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        try (EchoServer server = EchoServer.start(group, transport,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), log)) {
            EchoClient client = new EchoClient(group, transport, server.localAddress(), Duration.ofSeconds(10), mode);
            byte[] small = "hello".getBytes(StandardCharsets.US_ASCII);
            byte[] large = new byte[1 << 20];
            new Random(42).nextBytes(large);
            for (int i = 1; i <= 3; i++) {
                byte[] payload = i == 3 ? large : small;
                ConnectionResult r = client.echo(i, payload);
                assertEquals(i, r.index());
                assertEquals(payload.length, r.bytesSent());
                assertEquals(payload.length, r.bytesEchoed());
                assertEquals(-1, r.firstMismatch());
                assertTrue(r.intact());
                assertTrue(r.elapsedNanos() > 0);
                assertNotNull(r.counters());
                assertFalse(r.reason().isBlank(), r::toString);
                if (!under.isTfoCapable()) {
                    assertEquals(TfoOutcome.NOT_ATTEMPTED, r.outcome(), r::toString);
                    assertTrue(r.reason().contains(transport.socketChannel().getSimpleName()), r::toString);
                } else {
                    // Client-side outcomes only; with the host's usual tcp_fastopen=1 it is COOKIE_REQUESTED.
                    assertTrue(r.outcome() != TfoOutcome.SYN_DATA_ACCEPTED && r.outcome() != TfoOutcome.NO_SYN_DATA,
                            r::toString);
                }
            }
            assertEquals(3, server.accepted());
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
