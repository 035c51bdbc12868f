package dev.tfo.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The handler's state machine on an {@link EmbeddedChannel}, before an HTTP/2 client built as grpc-netty builds its
 * own ({@link H2Client}): the SETTINGS it reads the client, the one ACK it swallows, the writes it holds until the
 * call's END_STREAM, and every way it falls back to waiting for the server's SETTINGS. Netty's leak detection is
 * paranoid in every test run (the root pom), and LeakGuard fails a test on any leak.
 */
class EarlyCallHandlerTest {
    private static final String GET = "/tfo.Echo/Get";
    private static final String PUT = "/tfo.Echo/Put";

    private final EarlyCalls calls = new EarlyCalls(Set.of());

    private EmbeddedChannel channel(H2Client client) {
        return new EmbeddedChannel(new EarlyCallHandler(calls), client.handler);
    }

    @Test
    void aRidingCallLeavesWithThePrefaceInOneFlushAndItsAckNever() {
        calls.started(GET, true);
        H2Client client = new H2Client().call(GET, 0, "hello");
        EmbeddedChannel ch = channel(client);
        ch.runPendingTasks();
        Wire early = Wire.drain(ch);
        assertTrue(early.preface, "the preface first: " + early);
        assertEquals(1, early.writes, "one write, flushed once: " + early);
        assertEquals(1, early.count(Frames.HEADERS), early.toString());
        assertTrue(early.endsStream(3), "the whole call, up to its END_STREAM: " + early);
        assertEquals(0, early.acks(), "grpc's ACK of the handler's SETTINGS never leaves: " + early);
        assertEquals(1, client.settingsRead, "the client read one SETTINGS frame (the handler's)");
        assertEquals(early.bytes.length, new EarlyFlightPolicy(dev.tfo.TfoSynDataPolicy.replaySafe(), calls)
                .admit(Unpooled.wrappedBuffer(early.bytes)), "the SYN data policy admits all of it");
        client.writes.forEach(f -> assertTrue(f.isSuccess(), "the call's writes succeeded: " + f));

        ch.writeInbound(Wire.settings(Frames.SETTINGS_MAX_HEADER_LIST_SIZE, 8192));
        Wire after = Wire.drain(ch);
        assertEquals(1, after.acks(), "the server's SETTINGS are ACKed, once: " + after);
        assertEquals(Integer.MAX_VALUE, client.connection.local().maxActiveStreams(),
                "no MAX_CONCURRENT_STREAMS from the server: the protocol's default (no limit) again");
        assertNull(ch.pipeline().get(EarlyCallHandler.class), "the handler left the pipeline");
        ch.finishAndReleaseAll();
    }

    @Test
    void theServersConcurrencyLimitAppliesAsSent() {
        calls.started(GET, true);
        H2Client client = new H2Client().call(GET, 0, "hello");
        EmbeddedChannel ch = channel(client);
        ch.runPendingTasks();
        Wire.drain(ch);
        ch.writeInbound(Wire.settings(Frames.SETTINGS_MAX_CONCURRENT_STREAMS, 100));
        assertEquals(100, client.connection.local().maxActiveStreams());
        Wire.drain(ch);
        ch.finishAndReleaseAll();
    }

    @Test
    void aSecondCallWaitsForTheServersSettings() {
        calls.started(GET, true);
        calls.started(GET, true);
        H2Client client = new H2Client().call(GET, 0, "one").call(GET, 0, "two");
        EmbeddedChannel ch = channel(client);
        ch.runPendingTasks();
        Wire early = Wire.drain(ch);
        assertEquals(1, early.count(Frames.HEADERS), "one stream before the server's SETTINGS: " + early);
        assertEquals(1, client.encoder.numBufferedStreams(), "grpc's encoder holds the second (limit one)");

        ch.writeInbound(Wire.settings(Frames.SETTINGS_MAX_CONCURRENT_STREAMS, 1));
        Wire limited = Wire.drain(ch);
        assertEquals(0, limited.count(Frames.HEADERS), "a server of one stream: the second still waits: " + limited);
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {0, 0, 4, Frames.RST_STREAM, 0, 0, 0, 0, 3, 0, 0, 0, 0}));
        Wire second = Wire.drain(ch);
        assertEquals(1, second.count(Frames.HEADERS), "the second once the first is over: " + second);
        ch.finishAndReleaseAll();
    }

    @Test
    void aSecondCallWaitsForAServerWithoutALimitToo() {
        calls.started(GET, true);
        calls.started(GET, true);
        H2Client client = new H2Client().call(GET, 0, "one").call(GET, 0, "two");
        EmbeddedChannel ch = channel(client);
        ch.runPendingTasks();
        assertEquals(1, Wire.drain(ch).count(Frames.HEADERS));
        ch.writeInbound(Wire.settings());
        Wire after = Wire.drain(ch);
        assertEquals(1, after.count(Frames.HEADERS), "the second after the server's SETTINGS: " + after);
        assertEquals(0, client.encoder.numBufferedStreams());
        ch.finishAndReleaseAll();
    }

    @Test
    void aCallThatMayNotRideWaitsAsWithoutTheHandler() {
        calls.started(GET, true);
        calls.started(PUT, false);
        H2Client client = new H2Client().call(PUT, 0, "hello");
        EmbeddedChannel ch = channel(client);
        ch.runPendingTasks();
        Wire early = Wire.drain(ch);
        assertTrue(early.preface);
        assertEquals(0, early.count(Frames.HEADERS), "no call before the server's SETTINGS: " + early);
        assertNull(ch.pipeline().get(EarlyCallHandler.class), "the handler left at grpc's preface");
        ch.writeInbound(Wire.settings());
        Wire after = Wire.drain(ch);
        assertEquals(1, after.count(Frames.HEADERS), after.toString());
        assertEquals(1, after.acks(), after.toString());
        ch.finishAndReleaseAll();
    }

    @Test
    void noCallInFlightNothingRides() {
        EmbeddedChannel ch = channel(new H2Client());
        ch.runPendingTasks();
        assertNull(ch.pipeline().get(EarlyCallHandler.class));
        Wire.drain(ch);
        ch.finishAndReleaseAll();
    }

    @Test
    void aMethodNobodyVouchedForWaitsAfterThePreface() {
        calls.started(GET, true); // the interceptor saw a riding call, but grpc writes another method first
        H2Client client = new H2Client().call(PUT, 0, "hello");
        EmbeddedChannel ch = channel(client);
        ch.runPendingTasks();
        Wire early = Wire.drain(ch);
        assertTrue(early.preface);
        assertEquals(0, early.count(Frames.HEADERS), "the preface leaves, the call waits: " + early);
        ch.writeInbound(Wire.settings());
        Wire after = Wire.drain(ch);
        assertEquals(1, after.count(Frames.HEADERS), after.toString());
        assertTrue(after.endsStream(3));
        assertEquals(1, after.acks(), "only the ACK of the server's SETTINGS: " + after);
        assertNull(ch.pipeline().get(EarlyCallHandler.class));
        ch.finishAndReleaseAll();
    }

    @Test
    void aLargeHeaderWaitsAndFailsLocallyIfTheServerCannotTakeIt() {
        calls.started(GET, true);
        H2Client client = new H2Client().call(GET, 2000, "hello");
        EmbeddedChannel ch = channel(client);
        ch.runPendingTasks();
        Wire early = Wire.drain(ch);
        assertEquals(0, early.count(Frames.HEADERS), "a 2 KB header list waits: " + early);
        ch.writeInbound(Wire.settings(Frames.SETTINGS_MAX_HEADER_LIST_SIZE, 1024));
        Wire after = Wire.drain(ch);
        assertEquals(0, after.count(Frames.HEADERS), "never sent to a server that would refuse it: " + after);
        ChannelFuture headers = client.writes.get(0);
        assertFalse(headers.isSuccess());
        assertTrue(headers.cause().getMessage().contains("SETTINGS_MAX_HEADER_LIST_SIZE 1024"),
                headers.cause().toString());
        assertInstanceOf(io.netty.handler.codec.http2.Http2Exception.class, headers.cause(),
                "an HTTP/2 error, as Netty's encoder raises: grpc fails the call INTERNAL, as without the module");
        assertFalse(ch.isOpen(), "the connection's HPACK state is the server's no more: closed");
        ch.finishAndReleaseAll();
    }

    @Test
    void aLargeHeaderWaitsAndLeavesIfTheServerTakesIt() {
        calls.started(GET, true);
        H2Client client = new H2Client().call(GET, 2000, "hello");
        EmbeddedChannel ch = channel(client);
        ch.runPendingTasks();
        assertEquals(0, Wire.drain(ch).count(Frames.HEADERS));
        ch.writeInbound(Wire.settings(Frames.SETTINGS_MAX_HEADER_LIST_SIZE, 8192));
        Wire after = Wire.drain(ch);
        assertEquals(1, after.count(Frames.HEADERS), after.toString());
        assertTrue(after.endsStream(3), after.toString());
        client.writes.forEach(f -> assertTrue(f.isSuccess()));
        ch.finishAndReleaseAll();
    }

    @Test
    void theServersSettingsFirstNoHelpIsNeeded() {
        calls.started(GET, true);
        H2Client client = new H2Client().call(GET, 0, "hello");
        EmbeddedChannel ch = new EmbeddedChannel(new EarlyCallHandler(calls));
        ch.pipeline().addLast(client.handler); // grpc's preface now; the handler's SETTINGS are a task to come
        // The server's SETTINGS are read before the handler's task runs.
        ch.pipeline().fireChannelRead(Wire.settings(Frames.SETTINGS_MAX_CONCURRENT_STREAMS, 5));
        ch.runPendingTasks();
        Wire wire = Wire.drain(ch);
        assertEquals(1, client.settingsRead, "only the server's SETTINGS");
        assertEquals(5, client.connection.local().maxActiveStreams(), "left as the server sent them");
        assertEquals(1, wire.acks(), "their ACK leaves: " + wire);
        assertEquals(1, wire.count(Frames.HEADERS), wire.toString());
        assertNull(ch.pipeline().get(EarlyCallHandler.class));
        ch.finishAndReleaseAll();
    }

    @Test
    void theServersSettingsInPiecesAreOneFrameToGrpc() {
        calls.started(GET, true);
        H2Client client = new H2Client().call(GET, 0, "hello");
        EmbeddedChannel ch = channel(client);
        ch.runPendingTasks();
        Wire.drain(ch);
        ByteBuf settings = Wire.settings(Frames.SETTINGS_MAX_HEADER_LIST_SIZE, 8192);
        ch.writeInbound(settings.readRetainedSlice(4));
        assertEquals(1, client.settingsRead, "four bytes are no frame yet");
        ch.writeInbound(settings);
        assertEquals(2, client.settingsRead);
        assertEquals(Integer.MAX_VALUE, client.connection.local().maxActiveStreams());
        Wire.drain(ch);
        ch.finishAndReleaseAll();
    }

    @Test
    void aPeerThatIsNoHttp2ServerGetsWhatWasHeldAndGrpcItsBytes() {
        calls.started(GET, true);
        H2Client client = new H2Client().call(GET, 0, "hello");
        EmbeddedChannel ch = channel(client);
        ch.runPendingTasks();
        Wire.drain(ch);
        ch.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 400 Bad Request\r\n\r\n", StandardCharsets.US_ASCII));
        assertNull(ch.pipeline().get(EarlyCallHandler.class), "no frame to wait for: the handler left");
        Wire.drain(ch);
        ch.finishAndReleaseAll();
    }

    @Test
    void aCallThatDoesNotEndLeavesAfterTheHold() {
        calls.started(GET, true);
        H2Client client = new H2Client().call(GET, 0, "hello");
        client.endStream = false;
        EmbeddedChannel ch = channel(client);
        ch.runPendingTasks();
        assertEquals(0, Wire.drain(ch).writes, "held while the call may still end");
        ch.advanceTimeBy(EarlyCallHandler.MAX_HOLD_MILLIS, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        Wire held = Wire.drain(ch);
        assertTrue(held.preface, held.toString());
        assertEquals(1, held.count(Frames.HEADERS), held.toString());
        assertFalse(held.endsStream(3));
        ch.writeInbound(Wire.settings());
        Wire.drain(ch);
        ch.finishAndReleaseAll();
    }

    @Test
    void aCloseWhileHoldingReleasesEverythingAndFailsTheWrites() {
        calls.started(GET, true);
        H2Client client = new H2Client().call(GET, 0, "hello");
        client.endStream = false;
        EmbeddedChannel ch = channel(client);
        ch.runPendingTasks();
        assertEquals(0, Wire.drain(ch).writes);
        assertEquals(0, client.writes.stream().filter(ChannelFuture::isDone).count(), "held writes are pending");
        ch.pipeline().context(EarlyCallHandler.class).close(); // the transport's close, below grpc's GOAWAY
        assertFalse(client.writes.isEmpty());
        for (ChannelFuture f : client.writes) {
            assertTrue(f.isDone() && !f.isSuccess(), "a held write fails with the close: " + f);
            assertInstanceOf(ClosedChannelException.class, f.cause());
        }
        assertEquals(0, Wire.drain(ch).writes, "nothing leaves after the close");
        ch.finishAndReleaseAll();
    }

    @Test
    void anEmptyWriteAfterTheCallCompletesInItsTurn() {
        calls.started(GET, true);
        H2Client client = new H2Client().call(GET, 0, "hello");
        EmbeddedChannel ch = channel(client);
        ch.runPendingTasks();
        Wire.drain(ch);
        // Http2ConnectionHandler's graceful close waits on such a write (grpc's shutdown does).
        ChannelFuture empty = ch.writeAndFlush(Unpooled.EMPTY_BUFFER);
        assertTrue(empty.isSuccess(), empty.toString());
        Wire.drain(ch);
        ch.finishAndReleaseAll();
    }

    @Test
    void theSynDataPolicyAdmitsOneWholeRidingCallAndNothingElse() {
        calls.started(GET, true);
        H2Client client = new H2Client().call(GET, 0, "hello");
        EmbeddedChannel ch = channel(client);
        ch.runPendingTasks();
        byte[] flight = Wire.drain(ch).bytes;
        EarlyFlightPolicy policy = new EarlyFlightPolicy(dev.tfo.TfoSynDataPolicy.replaySafe(), calls);
        assertEquals(flight.length, policy.admit(Unpooled.wrappedBuffer(flight)));
        int connectionLevel = dev.tfo.TfoSynDataPolicy.replaySafe().admit(Unpooled.wrappedBuffer(flight));
        assertTrue(connectionLevel > 24 && connectionLevel < flight.length, "replaySafe stops at the HEADERS");
        assertEquals(connectionLevel, policy.admit(Unpooled.wrappedBuffer(flight, 0, flight.length - 1)),
                "a call cut short: only the connection-level frames");
        EarlyCalls nobody = new EarlyCalls(Set.of());
        assertEquals(connectionLevel, new EarlyFlightPolicy(dev.tfo.TfoSynDataPolicy.replaySafe(), nobody)
                .admit(Unpooled.wrappedBuffer(flight)), "a method nobody vouched for: only the connection-level frames");
        ch.writeInbound(Wire.settings());
        Wire.drain(ch);
        ch.finishAndReleaseAll();
    }

    @Test
    void aFirstWriteThatIsNoPrefaceIsLeftAlone() {
        calls.started(GET, true);
        EmbeddedChannel ch = new EmbeddedChannel(new EarlyCallHandler(calls));
        ByteBuf hello = Unpooled.copiedBuffer(new byte[] {0x16, 3, 1, 0, 5, 1, 2, 3, 4, 5});
        ch.writeOutbound(hello.retainedDuplicate());
        assertNull(ch.pipeline().get(EarlyCallHandler.class));
        ByteBuf out = ch.readOutbound();
        assertNotNull(out);
        assertEquals(hello, out);
        out.release();
        hello.release();
        ch.finishAndReleaseAll();
    }
}
