package dev.tfo;

import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Who gets a gate, and which: in-process, on unregistered channels (no event loop, no kernel). */
class GatesTest {
    private final FakeSocketOps kernel = new FakeSocketOps();
    private final TfoClientOptions options = TfoClientOptions.builder().backoff(TfoBackoff.disabled()).build();
    private final Channel c = new NioSocketChannel();

    @AfterEach
    void close() {
        c.unsafe().closeForcibly();
    }

    /** TfoBootstraps.connect on a bootstrap whose channels come from TfoChannels.clientFactory: their gate gives way. */
    @Test
    void aFirstFlightGateTakesOverFromAnUntouchedConnectThenWriteGate() {
        SynGate bootstraps = Gates.install(c, options, kernel);
        SynGate first = Gates.installForFirstFlight(c, options, kernel);
        assertNotSame(bootstraps, first);
        assertSame(first, Gates.of(c));
        assertSame(first, c.pipeline().get(SynGate.NAME));
        assertEquals(1, c.pipeline().names().size() - 1, "one gate in the pipeline (and its tail)");
        assertSame(bootstraps.verdict.future(), first.verdict.future(), "one verdict per channel");
        assertSame(first, Gates.install(c, options, kernel), "a connect-then-write install changes nothing now");
        assertSame(first, Gates.installForFirstFlight(c, options, kernel));
    }

    @Test
    void aGateIsInstalledOnce() {
        SynGate gate = Gates.install(c, options, kernel);
        assertSame(gate, Gates.install(c, TfoClientOptions.defaults(), kernel), "the first options stay");
        assertEquals(SynGate.Mode.CONNECT_THEN_WRITE, gate.mode);
        assertSame(gate, c.pipeline().first());
    }

    @Test
    void anObserverPutThereByTfoResultOfGivesWayAndItsVerdictIsTheGates() {
        Future<TfoResult> asked = TfoResult.of(c);
        assertNull(Gates.of(c), "an observer is no gate");
        SynGate gate = Gates.install(c, options, kernel);
        assertSame(gate, c.pipeline().get(SynGate.NAME));
        assertNull(c.pipeline().get(HandshakeObserver.class));
        assertSame(asked, gate.verdict.future());
        assertSame(asked, TfoResult.of(c));
        assertFalse(asked.isDone(), "no handshake yet");
    }

    @Test
    void tfoResultOfAGatedChannelIsTheGatesVerdictAndAddsNothing() {
        SynGate gate = Gates.install(c, options, kernel);
        java.util.List<String> before = c.pipeline().names();
        assertSame(gate.verdict.future(), TfoResult.of(c));
        assertEquals(before, c.pipeline().names(), "no observer beside the gate");
        assertSame(gate.verdict, Verdict.of(c));
    }

    @Test
    void findingNoGateLeavesNoAttributeBehind() {
        assertNull(Gates.of(c));
        assertFalse(c.hasAttr(Verdict.KEY));
    }

    @Test
    void aChannelThatIsNotTcpIsRefusedByName() {
        EmbeddedChannel embedded = new EmbeddedChannel();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gates.install(embedded, options, kernel));
        assertTrue(e.getMessage().startsWith("channel: " + EmbeddedChannel.class.getName()), e.getMessage());
        assertNull(embedded.pipeline().get(SynGate.NAME));
        embedded.finishAndReleaseAll();
    }
}
