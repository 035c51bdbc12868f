package dev.tfo.example.echo;

import dev.tfo.TfoOutcome;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * In-process echo round trips on loopback, per transport. This JVM runs in the build's own network namespace
 * (the host's tcp_fastopen, typically 1: no server TFO), so the outcome is whatever the host allows; every
 * byte must come back intact, with an outcome that says why.
 */
class EchoClientTest {

    @ParameterizedTest
    @EnumSource(NettyTransport.class)
    void roundTripIsIntactWithAnExplainedOutcome(NettyTransport transport) throws Exception {
        roundTrips(transport, EchoClient.Mode.FIRST_FLIGHT);
    }

    @ParameterizedTest
    @EnumSource(NettyTransport.class)
    void connectThenWriteRoundTripIsIntactWithAnExplainedOutcome(NettyTransport transport) throws Exception {
        roundTrips(transport, EchoClient.Mode.CONNECT_THEN_WRITE);
    }

    private static void roundTrips(NettyTransport transport, EchoClient.Mode mode) throws Exception {
        Assumptions.assumeTrue(transport.unavailabilityCause() == null,
                () -> transport + " unavailable here: " + transport.unavailabilityCause());
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
                if (transport == NettyTransport.NIO) {
                    assertEquals(TfoOutcome.NOT_ATTEMPTED, r.outcome(), r::toString);
                    assertTrue(r.reason().contains("NioSocketChannel"), r::toString);
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
