package dev.tfo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The client state machine in-process, on any laptop: an {@link EmbeddedChannel} with frozen time and a
 * scripted kernel ({@link FakeSocketOps}). The same paths against the real kernel are in
 * {@link TfoChannelsNetnsTest} and {@link TfoBootstrapsNetnsTest}.
 */
class SynGateTest {
    private static final InetSocketAddress SERVER = new InetSocketAddress("198.18.0.1", 443);
    private static final String GET = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    private static final String POST = "POST /transfer HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}";

    private final FakeSocketOps kernel = new FakeSocketOps();
    private final AtomicLong clock = new AtomicLong(1);
    private final TfoBackoff backoff = TfoBackoff.builder().initial(Duration.ofSeconds(1)).build(clock::get);
    private final List<Throwable> exceptions = new ArrayList<>();
    private final List<TfoResult> told = new ArrayList<>();
    private final List<ByteBuf> toRelease = new ArrayList<>();
    private EmbeddedChannel ch;
    private SynGate gate;

    private EmbeddedChannel channel(TfoClientOptions.Builder options) {
        return channel(options.backoff(backoff).resultListener((c, r) -> told.add(r)).build());
    }

    private TfoClientOptions options;

    private EmbeddedChannel channel(TfoClientOptions options) {
        this.options = options;
        ch = new EmbeddedChannel();
        ch.freezeTime();
        gate = new SynGate(ch, options, kernel, new Verdict(ch), SynGate.Mode.CONNECT_THEN_WRITE);
        ch.attr(Verdict.KEY).set(gate.verdict);
        gate.verdict.gate = gate;
        ch.pipeline().addFirst(SynGate.NAME, gate);
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                exceptions.add(cause);
            }
        });
        return ch;
    }

    private EmbeddedChannel channel() {
        return channel(TfoClientOptions.builder());
    }

    /** A {@link TfoBootstraps#connect} gate, with Netty's own TFO connect between it and the transport. */
    private EmbeddedChannel firstFlightChannel() {
        options = TfoClientOptions.builder().backoff(backoff).resultListener((c, r) -> told.add(r)).build();
        ch = new EmbeddedChannel();
        ch.freezeTime();
        gate = new SynGate(ch, options, kernel, new Verdict(ch), SynGate.Mode.FIRST_FLIGHT);
        ch.attr(Verdict.KEY).set(gate.verdict);
        gate.verdict.gate = gate;
        ch.pipeline().addFirst(SynGate.NAME, gate);
        ch.pipeline().addFirst(kernel.new NettyConnect());
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                exceptions.add(cause);
            }
        });
        return ch;
    }

    private ByteBuf ascii(String s) {
        ByteBuf b = Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
        toRelease.add(b);
        return b;
    }

    private void advanceMillis(long millis) {
        ch.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        ch.runPendingTasks();
    }

    /** What reached the transport, as text, in order. */
    private List<String> sent() {
        List<String> out = new ArrayList<>();
        for (Object m; (m = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) m;
            out.add(b.toString(StandardCharsets.US_ASCII));
            b.release();
        }
        return out;
    }

    private TfoResult result() {
        Future<TfoResult> f = gate.verdict.future();
        assertTrue(f.isDone(), "result decided");
        assertTrue(f.isSuccess(), () -> "result failed: " + f.cause());
        return f.getNow();
    }

    @AfterEach
    void noLeaks() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
        for (ByteBuf b : toRelease) {
            assertEquals(0, b.refCnt(), "every written buffer released once");
        }
    }

    @Test
    void writesWaitForTheConnectThenTheSynCarriesThem() {
        channel();
        ChannelFuture write = ch.writeAndFlush(ascii(GET));
        assertNull(ch.readOutbound(), "nothing reaches the transport before the connect");
        assertTrue(kernel.synsSent.isEmpty());

        ch.connect(SERVER);
        assertEquals(List.of(GET), kernel.synsSent, "the deferred connect's SYN carries the held write");
        assertEquals(List.of(), sent(), "nothing is left for Netty to write");
        assertFalse(write.isDone(), "a write that rode in the SYN completes with the handshake, as in plain Netty");
        assertFalse(gate.verdict.future().isDone(), "the handshake is in flight");

        kernel.tcpInfo = FakeSocketOps.established(0x20, 0);
        advanceMillis(1);
        assertTrue(write.isSuccess(), "the handshake is over");
        TfoResult r = result();
        assertEquals(TfoOutcome.SYN_DATA_ACKED, r.outcome());
        assertEquals(GET.length(), r.synDataBytes());
        assertEquals(List.of(r), told, "the listener is told once");
    }

    @Test
    void connectThenWriteTheFirstWriteRidesInTheSyn() {
        channel();
        ch.connect(SERVER);
        assertTrue(kernel.synsSent.isEmpty(), "a deferred connect sends nothing before the first write");
        ch.writeAndFlush(ascii(GET));
        assertEquals(List.of(GET), kernel.synsSent);
        kernel.tcpInfo = FakeSocketOps.established(0x20, 0);
        ch.pipeline().fireChannelRead(ascii("HTTP/1.1 200 OK\r\n\r\n"));
        assertEquals(TfoOutcome.SYN_DATA_ACKED, result().outcome(), "the first read decides at once");
        ((ByteBuf) ch.readInbound()).release();
    }

    @Test
    void onlyWhatThePolicyAdmitsRidesInTheSyn() {
        channel();
        ch.connect(SERVER);
        ch.writeAndFlush(ascii(POST));
        assertEquals(List.of(""), kernel.synsSent, "a POST never rides in the SYN by default");
        assertEquals(List.of(POST), sent(), "it follows the handshake, whole");
        kernel.tcpInfo = FakeSocketOps.established(0, 0);
        advanceMillis(1);
        TfoResult r = result();
        assertEquals(TfoOutcome.NOT_ATTEMPTED, r.outcome());
        assertEquals("the first write (" + POST.length() + " bytes) stayed out of the SYN: "
                + "TfoSynDataPolicy.replaySafe() does not admit it as safe to replay", r.reason());
        assertEquals(0, r.synDataBytes());
    }

    @Test
    void aGetRidesInTheSynButNotWhatFollowsItsHeaders() {
        channel();
        ch.connect(SERVER);
        ch.writeAndFlush(ascii(GET + POST));
        assertEquals(List.of(GET), kernel.synsSent);
        assertEquals(List.of(POST), sent());
    }

    @Test
    void aPolicyOfTheUsersOwnDecides() {
        TfoSynDataPolicy firstThree = first -> 3;
        channel(TfoClientOptions.builder().synDataPolicy(firstThree));
        ch.connect(SERVER);
        ch.writeAndFlush(ascii("PING\r\n"));
        assertEquals(List.of("PIN"), kernel.synsSent);
        assertEquals(List.of("G\r\n"), sent());
    }

    @Test
    void theKernelTakesWhatFitsAndNettySendsTheRest() {
        channel();
        kernel.synCapacity = 5;
        ch.connect(SERVER);
        ch.writeAndFlush(ascii(GET));
        assertEquals(List.of("GET /"), kernel.synsSent);
        assertEquals(List.of(GET.substring(5)), sent());
    }

    @Test
    void aSynThatLeavesWithoutDataLosesNothing() {
        channel();
        kernel.synCapacity = 0; // EINPROGRESS: e.g. the cookie was evicted between connect and write
        ch.connect(SERVER);
        ch.writeAndFlush(ascii(GET));
        assertEquals(List.of(GET), sent(), "every byte goes through Netty after the handshake");
        kernel.tcpInfo = FakeSocketOps.established(0, 1);
        advanceMillis(1);
        assertEquals(TfoOutcome.COOKIE_REQUESTED, result().outcome());
    }

    @Test
    void severalWritesAreGatheredIntoOneSyn() {
        channel();
        ch.connect(SERVER);
        ch.write(ascii("GET / HTTP/1.1\r\n"));
        ch.write(ascii("Host: a\r\n\r\n"));
        ch.flush();
        assertEquals(List.of(GET), kernel.synsSent);
        assertEquals(List.of(), sent());
        ch.writeAndFlush(ascii("later"));
        assertEquals(List.of("later"), sent(), "writes after the SYN go straight through");
    }

    @Test
    void aClientThatReadsFirstGetsAHandshakeAfterFirstWriteWait() {
        channel(TfoClientOptions.builder().firstWriteWait(Duration.ofMillis(10)));
        ch.connect(SERVER);
        advanceMillis(9);
        assertTrue(kernel.synsSent.isEmpty(), "waiting for a first write");
        advanceMillis(1);
        assertEquals(List.of(""), kernel.synsSent, "a SYN without data after 10 ms");
        kernel.tcpInfo = FakeSocketOps.established(0, 0);
        advanceMillis(1);
        TfoResult r = result();
        assertEquals(TfoOutcome.NOT_ATTEMPTED, r.outcome());
        assertEquals("nothing was written within 10 ms of the connect (firstWriteWait): the handshake started "
                + "without data", r.reason());
    }

    @Test
    void aZeroFirstWriteWaitStartsTheHandshakeAtTheConnect() {
        channel(TfoClientOptions.builder().firstWriteWait(Duration.ZERO));
        ch.connect(SERVER);
        assertEquals(List.of(""), kernel.synsSent);
    }

    @Test
    void theHandshakeIsBoundedByConnectTimeoutFromItsSyn() {
        channel();
        ch.config().setConnectTimeoutMillis(1000);
        ch.connect(SERVER);
        ChannelFuture write = ch.writeAndFlush(ascii(GET));
        advanceMillis(999);
        assertFalse(gate.verdict.future().isDone());
        assertTrue(ch.isOpen());
        advanceMillis(1);
        assertFalse(ch.isOpen(), "closed at the deadline");
        Throwable cause = gate.verdict.future().cause();
        assertInstanceOf(ConnectTimeoutException.class, cause);
        assertEquals("handshake with /198.18.0.1:443 not completed within 1000 ms of its SYN "
                + "(CONNECT_TIMEOUT_MILLIS)", cause.getMessage());
        assertEquals(List.of(cause), exceptions, "the pipeline is told why");
        assertSame(cause, write.cause(), "the bytes that left in the SYN were never acknowledged");
    }

    @Test
    void aRefusalAfterTheSynLeftNamesTheServerAndTheCause() {
        channel();
        ch.connect(SERVER);
        ch.writeAndFlush(ascii(GET));
        kernel.tcpInfo = FakeSocketOps.closed();
        kernel.socketError = "Connection refused";
        advanceMillis(1);
        Throwable cause = gate.verdict.future().cause();
        assertInstanceOf(ConnectException.class, cause);
        assertEquals("connection to /198.18.0.1:443 failed before its handshake completed: Connection refused",
                cause.getMessage());
        assertEquals(List.of(cause), exceptions);
        assertFalse(ch.isOpen());
    }

    @Test
    void aTransportErrorDuringTheHandshakeIsRenamedOnce() {
        channel();
        ch.connect(SERVER);
        ch.writeAndFlush(ascii(GET));
        IOException raw = new IOException("recvAddress(..) failed: Connection refused");
        ch.pipeline().fireExceptionCaught(raw);
        assertEquals(1, exceptions.size());
        Throwable named = exceptions.get(0);
        assertEquals("connection to /198.18.0.1:443 failed before its handshake completed: recvAddress(..) "
                + "failed: Connection refused", named.getMessage());
        assertSame(raw, named.getCause());
        assertSame(named, gate.verdict.future().cause());
        assertFalse(ch.isOpen());
    }

    @Test
    void aDecidedResultNeverChangesAndLaterErrorsPassThrough() {
        channel();
        ch.connect(SERVER);
        ch.writeAndFlush(ascii(GET));
        kernel.tcpInfo = FakeSocketOps.established(0x20, 0);
        advanceMillis(1);
        TfoResult decided = result();
        IOException later = new IOException("Connection reset by peer");
        ch.pipeline().fireExceptionCaught(later);
        ch.close();
        assertSame(decided, gate.verdict.future().getNow());
        assertEquals(List.of(later), exceptions, "an error after the handshake is not ours to rename");
        assertEquals(1, told.size());
    }

    @Test
    void closingBeforeTheConnectReleasesTheHeldWritesAndTeachesTheBackoffNothing() {
        channel();
        backoff.record(SERVER, TfoOutcome.SYN_RETRANSMITTED);
        clock.addAndGet(TimeUnit.SECONDS.toNanos(2)); // the backoff expired: the next connection probes
        ByteBuf data = ascii(GET);
        ChannelFuture write = ch.write(data);
        ch.connect(SERVER); // the probe
        ch.close();
        assertEquals(0, data.refCnt());
        assertInstanceOf(ClosedChannelException.class, write.cause());
        assertInstanceOf(ClosedChannelException.class, gate.verdict.future().cause());
        assertNotNull(backoff.skipReason(SERVER), "the probe is still out: the cancelled one taught nothing");
    }

    @Test
    void aRemoteFailureEndsTheProbe() {
        channel();
        backoff.record(SERVER, TfoOutcome.SYN_RETRANSMITTED);
        clock.addAndGet(TimeUnit.SECONDS.toNanos(2));
        ch.connect(SERVER);
        ch.writeAndFlush(ascii(GET));
        kernel.tcpInfo = FakeSocketOps.closed();
        kernel.socketError = "Connection reset by peer";
        advanceMillis(1);
        assertFalse(ch.isOpen());
        assertNull(backoff.skipReason(SERVER), "the probe ended: the next connection probes again");
    }

    @Test
    void whenTheKernelRefusesTheOptionTheConnectIsPlainAndSaysWhy() {
        kernel.optionRefusal = "net.ipv4.tcp_fastopen lacks the client bit 0x1 (live value: 0)";
        kernel.tcpInfo = FakeSocketOps.established(0, 0); // Netty completes a plain connect at the handshake's end
        channel();
        ch.writeAndFlush(ascii(GET));
        ch.connect(SERVER);
        assertEquals(List.of(GET), sent(), "the held write goes out at once");
        assertTrue(kernel.synsSent.isEmpty());
        TfoResult r = result();
        assertEquals(TfoOutcome.NOT_ATTEMPTED, r.outcome());
        assertEquals(kernel.optionRefusal, r.reason());
    }

    @Test
    void aBackedOffDestinationGetsAPlainConnect() {
        backoff.record(SERVER, TfoOutcome.SYN_RETRANSMITTED);
        kernel.tcpInfo = FakeSocketOps.established(0, 0);
        channel();
        ch.connect(SERVER);
        assertEquals(0, kernel.optionCalls, "TCP_FASTOPEN_CONNECT is not even set");
        TfoResult r = result();
        assertEquals(TfoOutcome.NOT_ATTEMPTED, r.outcome());
        assertTrue(r.reason().startsWith("TFO to 198.18.0.1 backing off for"), r.reason());
    }

    @Test
    void withoutACookieTheKernelAsksForOneAndTheWritesFollowTheHandshake() {
        kernel.tcpInfo = FakeSocketOps.established(0, 1);
        channel();
        ch.write(ascii(GET));
        ch.connect(SERVER);
        assertTrue(sent().isEmpty(), "written but never flushed: still not sent");
        ch.flush();
        assertEquals(List.of(GET), sent());
        assertEquals(TfoOutcome.COOKIE_REQUESTED, result().outcome());
    }

    /** epoll: a connect that completes inside the call was deferred, so no tcp_info read is needed to know it. */
    @Test
    void onEpollAnImmediateConnectIsTakenAsDeferredWithoutReadingTcpInfo() {
        kernel.immediateConnectIsDeferred = true;
        kernel.tcpInfo = null; // any tcp_info read would make this a plain connect
        channel();
        ch.writeAndFlush(ascii(GET));
        ch.connect(SERVER);
        assertEquals(List.of(GET), kernel.synsSent, "the SYN left with the held write, no tcp_info read needed");
    }

    /** If an immediate connect was not deferred after all, the kernel says EISCONN and nothing is lost. */
    @Test
    void aConnectThatWasNotDeferredAfterAllLosesNothing() {
        kernel.immediateConnectIsDeferred = true;
        kernel.tcpInfo = FakeSocketOps.established(0, 1); // the handshake is over: the SYN was a cookie request
        channel();
        ch.writeAndFlush(ascii(GET));
        ch.connect(SERVER);
        assertTrue(kernel.synsSent.isEmpty());
        assertEquals(List.of(GET), sent(), "every byte goes through Netty");
        assertEquals(TfoOutcome.COOKIE_REQUESTED, result().outcome());
    }

    @Test
    void aKernelThatRefusesTheSynFailsTheConnectionAndReleasesTheWrites() {
        kernel.sendFailure = new IOException("sendToAddress(..) failed: Operation not supported");
        channel();
        ch.connect(SERVER);
        ByteBuf data = ascii(GET);
        ChannelFuture write = ch.writeAndFlush(data);
        assertEquals(0, data.refCnt());
        assertFalse(write.isSuccess());
        assertEquals("connection to /198.18.0.1:443: the kernel refused to send the SYN (sendToAddress(..) failed: "
                + "Operation not supported)", gate.verdict.future().cause().getMessage());
        assertFalse(ch.isOpen());
    }

    @Test
    void aListenerThatThrowsDoesNotChangeTheResult() {
        ch = new EmbeddedChannel();
        ch.freezeTime();
        gate = new SynGate(ch, TfoClientOptions.builder().backoff(backoff).resultListener((c, r) -> {
            throw new IllegalStateException("listener bug");
        }).build(), kernel, new Verdict(ch), SynGate.Mode.CONNECT_THEN_WRITE);
        ch.pipeline().addFirst(SynGate.NAME, gate);
        ch.connect(SERVER);
        ch.writeAndFlush(ascii(GET));
        kernel.tcpInfo = FakeSocketOps.established(0x20, 0);
        advanceMillis(1);
        assertEquals(TfoOutcome.SYN_DATA_ACKED, result().outcome());
    }

    @Test
    void removedBeforeTheConnectItComesBackOnceThenLeavesAPlainConnection() {
        channel();
        ByteBuf data = ascii(GET);
        ChannelFuture write = ch.write(data);
        ch.pipeline().remove(SynGate.NAME);
        assertSame(gate, ch.pipeline().first(), "back, first, still holding the write");
        assertEquals(1, data.refCnt());
        ch.pipeline().remove(SynGate.NAME);
        assertNull(ch.pipeline().get(SynGate.NAME), "removed twice: gone");
        TfoResult r = result();
        assertEquals(TfoOutcome.NOT_ATTEMPTED, r.outcome());
        assertTrue(r.reason().contains("removed from the pipeline before the connect"), r.reason());
        ch.connect(SERVER);
        assertEquals(0, kernel.optionCalls, "never armed");
        ch.flush();
        assertEquals(List.of(GET), sent(), "the held write went on to Netty");
        assertTrue(write.isSuccess());
    }

    // ---- the first flight of TfoBootstraps.connect: Netty's own TFO connect -----------------------------------

    /** As hand-written Netty TFO: written before the connect, sent by Netty's sendto(MSG_FASTOPEN) as it connects. */
    @Test
    void aFirstFlightRidesInTheSynOfNettysOwnConnect() {
        firstFlightChannel();
        ChannelFuture write = ch.writeAndFlush(ascii(POST));
        assertNull(ch.readOutbound(), "the flush waits for the connect");
        ch.connect(SERVER);
        assertEquals(List.of(POST), kernel.synsSent, "the caller vouched for it: no policy");
        assertEquals(0, kernel.optionCalls, "no setsockopt(TCP_FASTOPEN_CONNECT): Netty's option is a field");
        assertEquals(List.of(), sent());
        assertFalse(write.isDone(), "a write that rode in the SYN completes with the handshake, as in plain Netty");
        kernel.tcpInfo = FakeSocketOps.established(0x20, 0);
        advanceMillis(1);
        assertTrue(write.isSuccess());
        TfoResult r = result();
        assertEquals(TfoOutcome.SYN_DATA_ACKED, r.outcome());
        assertEquals(POST.length(), r.synDataBytes());
        assertEquals(List.of(r), told);
    }

    @Test
    void whatTheSynOfNettysConnectCouldNotTakeFollowsTheHandshake() {
        firstFlightChannel();
        kernel.synCapacity = 5;
        ChannelFuture write = ch.writeAndFlush(ascii(GET));
        ch.connect(SERVER);
        assertEquals(List.of("GET /"), kernel.synsSent);
        assertEquals(List.of(GET.substring(5)), sent(), "flushed once the connect completed");
        kernel.tcpInfo = FakeSocketOps.established(0x20, 0);
        advanceMillis(1);
        assertTrue(write.isSuccess());
        assertEquals(5, result().synDataBytes());
    }

    @Test
    void withoutACookieTheFirstFlightFollowsTheHandshake() {
        firstFlightChannel();
        kernel.cookie = false;
        ChannelFuture write = ch.writeAndFlush(ascii(GET));
        ch.connect(SERVER);
        assertTrue(kernel.synsSent.isEmpty());
        assertEquals(List.of(GET), sent());
        assertTrue(write.isSuccess());
        assertEquals(TfoOutcome.COOKIE_REQUESTED, result().outcome());
    }

    /** Refused without a cookie: the first flight never left Netty's outbound buffer; it fails and is released. */
    @Test
    void aRefusedFirstFlightWithoutACookieFailsItsWriteAndClosesTheChannel() {
        firstFlightChannel();
        kernel.cookie = false;
        kernel.refusal = new ConnectException("Connection refused");
        ByteBuf data = ascii(GET);
        ChannelFuture write = ch.writeAndFlush(data);
        ChannelFuture connect = ch.connect(SERVER);
        assertSame(kernel.refusal, connect.cause());
        assertFalse(ch.isOpen(), "closed, as Bootstrap closes a channel whose connect failed");
        assertFalse(write.isSuccess());
        assertEquals(0, data.refCnt());
        assertSame(kernel.refusal, gate.verdict.future().cause());
    }

    /**
     * Netty read the sysctl once; switched off since, MSG_FASTOPEN fails: a plain connect follows and says why. The
     * first connect's future (FirstFlightConnector's own, which it reads only when the verdict failed) fails.
     */
    @Test
    void aKernelThatSwitchedClientTfoOffGetsAPlainConnectThatSaysWhy() {
        firstFlightChannel();
        kernel.nettySendFailure = new IOException("sendToAddress(..) failed: Operation not supported");
        kernel.synDataRefusal = "net.ipv4.tcp_fastopen lacks the client bit 0x1 (live value: 0)";
        kernel.tcpInfo = FakeSocketOps.established(0, 0);
        ChannelFuture write = ch.writeAndFlush(ascii(GET));
        ChannelFuture connect = ch.connect(SERVER);
        assertSame(kernel.nettySendFailure, connect.cause());
        assertFalse(kernel.nettyArmed, "Netty's option switched off again");
        assertTrue(ch.isOpen());
        assertEquals(List.of(GET), sent());
        assertTrue(write.isSuccess());
        TfoResult r = result();
        assertEquals(TfoOutcome.NOT_ATTEMPTED, r.outcome());
        assertEquals(kernel.synDataRefusal, r.reason());
    }

    @Test
    void aFirstFlightCloseWhileTheSynIsLostClosesWhenTheHandshakeTimesOut() {
        firstFlightChannel();
        ch.config().setConnectTimeoutMillis(1000);
        ChannelFuture write = ch.writeAndFlush(ascii(GET));
        ch.connect(SERVER);
        ChannelFuture close = ch.pipeline().close();
        assertTrue(ch.isOpen(), "Linux would turn this close into an instant CLOSE: the SYN never retransmitted");
        advanceMillis(1000);
        assertTrue(close.isSuccess(), () -> "close: " + close.cause());
        assertInstanceOf(ConnectTimeoutException.class, write.cause());
        assertInstanceOf(ConnectTimeoutException.class, gate.verdict.future().cause());
    }

    @Test
    void aBackedOffFirstFlightIsAPlainConnectWithTheSameBytes() {
        backoff.record(SERVER, TfoOutcome.SYN_RETRANSMITTED);
        kernel.tcpInfo = FakeSocketOps.established(0, 0);
        firstFlightChannel();
        ChannelFuture write = ch.writeAndFlush(ascii(GET));
        ch.connect(SERVER);
        assertFalse(kernel.nettyArmed, "Netty's option stays off");
        assertEquals(List.of(GET), sent());
        assertTrue(write.isSuccess());
        assertTrue(result().reason().startsWith("TFO to 198.18.0.1 backing off for"), result().reason());
    }

    // ---- seams: other code touching the pipeline or the channel ----------------------------------------------

    /** Vert.x's HTTP client: after the connect it removes every handler (the gate too), then writes. */
    private void stripPipeline() {
        for (String name : new ArrayList<>(ch.pipeline().names())) {
            if (ch.pipeline().context(name) != null && !name.startsWith("DefaultChannelPipeline$TailContext")) {
                ch.pipeline().remove(name);
            }
        }
    }

    @Test
    void aPipelineStrippedAfterADeferredConnectKeepsThePolicyInForce() {
        channel();
        ch.connect(SERVER);
        stripPipeline();
        assertSame(gate, ch.pipeline().first(), "the gate came back, first");
        ChannelFuture post = ch.writeAndFlush(ascii(POST));
        assertEquals(List.of(""), kernel.synsSent, "a POST never rides in the SYN, pipeline rebuilt or not");
        assertEquals(List.of(POST), sent());
        kernel.tcpInfo = FakeSocketOps.established(0, 0);
        advanceMillis(1);
        TfoResult r = result();
        assertEquals(TfoOutcome.NOT_ATTEMPTED, r.outcome());
        assertTrue(r.reason().contains("does not admit it as safe to replay"), r.reason());
        assertTrue(post.isSuccess());
        assertEquals(List.of(r), told, "the listener is told");
    }

    @Test
    void aPipelineStrippedAfterADeferredConnectStillLetsAGetRide() {
        channel();
        ch.connect(SERVER);
        stripPipeline();
        ch.writeAndFlush(ascii(GET));
        assertEquals(List.of(GET), kernel.synsSent);
        kernel.tcpInfo = FakeSocketOps.established(0x20, 0);
        advanceMillis(1);
        assertEquals(TfoOutcome.SYN_DATA_ACKED, result().outcome());
    }

    @Test
    void removedTwiceWhileDeferredItSendsASynWithoutDataAndStillDecides() {
        channel();
        ch.connect(SERVER);
        ch.pipeline().remove(SynGate.NAME);
        ch.pipeline().remove(SynGate.NAME);
        assertEquals(List.of(""), kernel.synsSent, "disarmed: nothing unguarded can ride in the SYN");
        ch.writeAndFlush(ascii(POST));
        assertEquals(List.of(POST), sent(), "the write goes through Netty, after the handshake");
        kernel.tcpInfo = FakeSocketOps.established(0, 0);
        advanceMillis(1);
        TfoResult r = result();
        assertEquals(TfoOutcome.NOT_ATTEMPTED, r.outcome());
        assertEquals(SynGate.REMOVED, r.reason());
        assertEquals(List.of(r), told);
    }

    @Test
    void aHandlerWhoseHandlerAddedThrowsLeavesTheGateInCharge() {
        channel();
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void handlerAdded(ChannelHandlerContext ctx) {
                throw new IllegalStateException("broken handler");
            }
        });
        assertEquals(1, exceptions.size(), "Netty reports it down the pipeline");
        ch.connect(SERVER);
        ch.writeAndFlush(ascii(POST));
        assertEquals(List.of(""), kernel.synsSent, "the policy still applies");
        kernel.tcpInfo = FakeSocketOps.established(0, 0);
        advanceMillis(1);
        assertEquals(TfoOutcome.NOT_ATTEMPTED, result().outcome());
    }

    @Test
    void aChannelDeregisteredWhileDeferredStartsItsHandshakeWithoutData() throws Exception {
        channel();
        ch.connect(SERVER);
        ChannelFuture write = ch.write(ascii(POST));
        ch.pipeline().deregister();
        assertEquals(List.of(""), kernel.synsSent, "leaving its event loop, it leaves nothing armed");
        ch.register(); // registered again: the polls resume
        ch.flush();
        assertEquals(List.of(POST), sent(), "the held write went on to Netty");
        assertTrue(write.isSuccess());
        kernel.tcpInfo = FakeSocketOps.established(0, 0);
        advanceMillis(1);
        assertTrue(result().reason().contains("deregistered"), result().reason());
    }

    /** Write, then close at once: in SYN_SENT the close waits for the handshake, or the data would be lost. */
    @Test
    void aCloseWhileTheSynWithDataIsInFlightWaitsForTheHandshake() {
        channel();
        ch.connect(SERVER);
        ChannelFuture write = ch.writeAndFlush(ascii(GET));
        ChannelFuture close = ch.pipeline().close(); // (EmbeddedChannel.close() would cancel the polls)
        assertTrue(ch.isOpen(), "Linux would turn this close into an instant CLOSE: the SYN never retransmitted");
        assertFalse(close.isDone());
        kernel.tcpInfo = FakeSocketOps.established(0x20, 0);
        advanceMillis(1);
        assertTrue(write.isSuccess(), () -> "write: " + write.cause());
        assertTrue(close.isSuccess(), () -> "close: " + close.cause());
        assertFalse(ch.isOpen());
        assertEquals(TfoOutcome.SYN_DATA_ACKED, result().outcome());
    }

    /** The CLOSE listener on the write future: the write completes with the handshake, so the close is safe. */
    @Test
    void aCloseListenerOnTheWriteRunsAfterTheHandshake() {
        channel();
        ch.connect(SERVER);
        ch.writeAndFlush(ascii(GET)).addListener(ChannelFutureListener.CLOSE);
        assertTrue(ch.isOpen());
        kernel.tcpInfo = FakeSocketOps.established(0x20, 0);
        advanceMillis(1);
        assertFalse(ch.isOpen());
    }

    @Test
    void aCloseWhileTheSynIsLostClosesWhenTheHandshakeTimesOut() {
        channel();
        ch.config().setConnectTimeoutMillis(1000);
        ch.connect(SERVER);
        ChannelFuture write = ch.writeAndFlush(ascii(GET));
        ChannelFuture close = ch.pipeline().close(); // (EmbeddedChannel.close() would cancel the polls)
        advanceMillis(1000);
        assertTrue(close.isSuccess(), () -> "close: " + close.cause());
        assertInstanceOf(ConnectTimeoutException.class, write.cause());
    }

    @Test
    void aCancelledFirstFlightClosesAtOnce() {
        channel();
        ch.connect(SERVER);
        ch.writeAndFlush(ascii(GET));
        gate.abort();
        assertFalse(ch.isOpen(), "a cancel does not wait for the handshake");
        assertInstanceOf(ClosedChannelException.class, gate.verdict.future().cause());
    }

    /** Later writes complete in order: the SYN's write before the bytes that followed it. */
    @Test
    void writesCompleteInOrderAcrossTheSyn() {
        channel();
        kernel.synCapacity = 4;
        ch.connect(SERVER);
        List<Integer> order = new ArrayList<>();
        ch.write(ascii("GET ")).addListener(f -> order.add(1));
        ch.write(ascii("/ HTTP/1.1\r\n\r\n")).addListener(f -> order.add(2));
        ch.flush();
        assertEquals(List.of("GET "), kernel.synsSent);
        assertEquals(List.of(1, 2), order, "the second write reached the kernel: the first one's SYN is over");
    }

    /** tcp_info as the kernel returns it, with a smoothed RTT ({@code tcpi_rtt}, microseconds). */
    private static dev.tfo.internal.TcpInfo withRtt(int state, int options, long rttMicros) {
        java.nio.ByteBuffer raw = java.nio.ByteBuffer.allocate(dev.tfo.internal.TcpInfo.LENGTH)
                .order(java.nio.ByteOrder.nativeOrder());
        raw.put(0, (byte) state).put(5, (byte) options).putInt(68, (int) rttMicros).putInt(136, 3);
        return dev.tfo.internal.TcpInfo.decode(raw);
    }

    /** Reactor Netty reads only once its write completed: the gate must see the SYN-ACK when it is due. */
    @Test
    void aKnownHandshakeTimeMakesThePollLandWhenTheSynAckIsDue() {
        channel();
        TfoClientOptions learned = options;
        ch.connect(SERVER);
        ch.writeAndFlush(ascii(GET));
        kernel.tcpInfo = withRtt(FakeSocketOps.ESTABLISHED, 0x20, 20_000);
        advanceMillis(30);
        assertEquals(TfoOutcome.SYN_DATA_ACKED, result().outcome());
        ch.finishAndReleaseAll();

        for (TfoClientOptions o : List.of(learned, TfoClientOptions.builder().backoff(backoff).build())) {
            channel(o);
            kernel.tcpInfo = FakeSocketOps.deferred();
            ch.connect(SERVER);
            ch.writeAndFlush(ascii(GET));
            for (int ms = 0; ms < 18; ms++) {
                advanceMillis(1);
            }
            kernel.tcpInfo = withRtt(FakeSocketOps.ESTABLISHED, 0x20, 20_000); // the SYN-ACK, at 18 ms
            advanceMillis(1);
            assertEquals(o == learned, gate.verdict.future().isDone(), o == learned
                    ? "polled at 15/16 of the last handshake, then every 1/32 of it"
                    : "a server not met yet: doubling intervals (the next look at 22.7 ms)");
            ch.finishAndReleaseAll();
        }
    }

    /** Reset after the answer: the server's data came, so the handshake completed; never a failed result. */
    @Test
    void aConnectionResetAfterItsAnswerIsDecidedNotFailed() {
        channel();
        ch.connect(SERVER);
        ch.writeAndFlush(ascii(GET));
        kernel.tcpInfo = FakeSocketOps.closed();
        kernel.socketError = "Connection reset by peer";
        ch.pipeline().fireChannelRead(ascii("HTTP/1.1 200 OK\r\n\r\n"));
        ch.pipeline().fireChannelInactive();
        assertTrue(gate.verdict.future().isSuccess(), () -> "decided, not failed: " + gate.verdict.future().cause());
    }

    /** A read that got only the server's FIN: Netty closes next, so the gate looks at tcp_info now. */
    @Test
    void aFinReadBeforeThePollDecides() {
        channel();
        ch.connect(SERVER);
        ch.writeAndFlush(ascii(GET));
        kernel.tcpInfo = dev.tfo.internal.TcpInfo.of(8 /* CLOSE_WAIT */, 0x20 | 0x07, 0, 3);
        ch.pipeline().fireChannelReadComplete();
        assertEquals(TfoOutcome.SYN_DATA_ACKED, result().outcome(), "decided before the close");
        ch.pipeline().fireChannelInactive();
        assertTrue(gate.verdict.future().isSuccess());
    }

    /** The poll sees CLOSE before Netty reads the answer: the SYN-ACK's options say the handshake completed. */
    @Test
    void aPollThatSeesAResetAfterTheSynAckDecides() {
        channel();
        ch.connect(SERVER);
        ch.writeAndFlush(ascii(GET));
        kernel.tcpInfo = dev.tfo.internal.TcpInfo.of(FakeSocketOps.CLOSE, 0x20 | 0x07, 0, 3);
        kernel.socketError = "Connection reset by peer";
        advanceMillis(1);
        assertEquals(TfoOutcome.SYN_DATA_ACKED, result().outcome());
        assertEquals("Connection reset by peer", kernel.socketError, "the error is left for Netty to report");
    }

    @Test
    void aServerThatSpokeFirstGetsItsSynAtOnceNextTime() {
        channel(TfoClientOptions.builder());
        TfoClientOptions options = this.options;
        kernel.tcpInfo = FakeSocketOps.synInFlight(); // no cookie: a real handshake, the banner comes first
        ch.connect(SERVER);
        ch.pipeline().fireChannelRead(ascii("220 smtp ready\r\n"));
        ch.finishAndReleaseAll();

        channel(options);
        kernel.tcpInfo = FakeSocketOps.deferred();
        ch.connect(SERVER);
        assertEquals(List.of(""), kernel.synsSent, "no wait for a write that would come after the banner");
        kernel.tcpInfo = FakeSocketOps.established(0, 0);
        advanceMillis(1);
        assertEquals("the server speaks first: the handshake started without data", result().reason());
    }

    @Test
    void aClientThatSpeaksFirstWaitsLongEnoughForAColdFirstWrite() {
        channel();
        ch.connect(SERVER);
        advanceMillis(200); // a cold JVM's connect().sync() returning late under load
        assertTrue(kernel.synsSent.isEmpty());
        ch.writeAndFlush(ascii(GET));
        assertEquals(List.of(GET), kernel.synsSent);
    }

    /** Open but no longer connected (Netty's close in progress, or a failed connect): the server is named. */
    @Test
    void aWriteToAnOpenChannelThatIsNotConnectedNamesTheServer() {
        java.util.concurrent.atomic.AtomicBoolean active = new java.util.concurrent.atomic.AtomicBoolean(true);
        ch = new EmbeddedChannel() {
            @Override
            public boolean isActive() {
                return active.get() && super.isActive();
            }
        };
        ch.freezeTime();
        gate = new SynGate(ch, TfoClientOptions.builder().backoff(backoff).build(), kernel, new Verdict(ch),
                SynGate.Mode.CONNECT_THEN_WRITE);
        ch.pipeline().addFirst(SynGate.NAME, gate);
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                exceptions.add(cause);
            }
        });
        kernel.tcpInfo = FakeSocketOps.established(0, 1);
        kernel.immediateConnectIsDeferred = false;
        kernel.optionRefusal = "no TFO";
        ch.connect(SERVER);
        assertTrue(gate.verdict.future().isSuccess());
        active.set(false);
        ByteBuf data = ascii(GET);
        ChannelFuture write = ch.writeAndFlush(data);
        assertInstanceOf(ConnectException.class, write.cause());
        assertEquals("connection to /198.18.0.1:443 is not connected", write.cause().getMessage());
        assertEquals(List.of(write.cause()), exceptions, "the pipeline is told");
        assertEquals(0, data.refCnt());
    }

    // ---- observing a channel nobody set up (TfoResult.of) ----------------------------------------------------

    /** An observer on a connected channel whose handshake is in flight polls until the verdict. */
    @Test
    void anObserverPollsAHandshakeInFlightUntilItsVerdict() {
        ch = new EmbeddedChannel(); // active at once
        ch.freezeTime();
        kernel.tcpInfo = FakeSocketOps.synInFlight();
        Future<TfoResult> observed = HandshakeObserver.verdictOf(ch, kernel).future();
        advanceMillis(5);
        assertFalse(observed.isDone());
        kernel.tcpInfo = FakeSocketOps.established(0x20, 0);
        advanceMillis(10);
        assertEquals(TfoOutcome.SYN_DATA_ACKED, observed.getNow().outcome());
    }

    /** A deferred connect that nobody writes to: the observer stops polling until a flush sends the SYN. */
    @Test
    void anObserverDoesNotPollAnIdleDeferredConnect() {
        ch = new EmbeddedChannel();
        ch.freezeTime();
        CountingOps counting = new CountingOps(kernel);
        kernel.tcpInfo = FakeSocketOps.deferred();
        Future<TfoResult> observed = HandshakeObserver.verdictOf(ch, counting).future();
        int afterStart = counting.reads;
        advanceMillis(60_000);
        assertEquals(afterStart, counting.reads, "no tcp_info read while the channel is idle");
        kernel.tcpInfo = FakeSocketOps.established(0x20, 0);
        ch.writeAndFlush(ascii(GET));
        sent();
        advanceMillis(1);
        assertEquals(TfoOutcome.SYN_DATA_ACKED, observed.getNow().outcome());
    }

    /** A channel that never connects: the observer waits for channelActive, reading nothing meanwhile. */
    @Test
    void anObserverOfAChannelThatNeverConnectsDoesNotSpin() throws Exception {
        io.netty.channel.EventLoopGroup group = new io.netty.channel.nio.NioEventLoopGroup(1);
        try {
            io.netty.channel.Channel idle = new io.netty.channel.socket.nio.NioSocketChannel();
            group.register(idle).sync();
            CountingOps counting = new CountingOps(kernel);
            Future<TfoResult> observer = HandshakeObserver.verdictOf(idle, counting).future();
            idle.eventLoop().schedule(() -> { }, 200, TimeUnit.MILLISECONDS).sync();
            assertEquals(0, counting.reads, "not one tcp_info read for a channel that is not connected");
            assertFalse(observer.isDone());
            idle.close().sync();
            assertInstanceOf(ClosedChannelException.class, observer.cause());
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** Counts tcp_info reads. */
    private static final class CountingOps implements dev.tfo.internal.SocketOps {
        private final FakeSocketOps delegate;
        volatile int reads;

        CountingOps(FakeSocketOps delegate) {
            this.delegate = delegate;
        }

        @Override
        public String unsupportedReason(io.netty.channel.Channel channel) {
            return null;
        }

        @Override
        public String enableFastOpenConnect(io.netty.channel.Channel channel, boolean noCookie) {
            return null;
        }

        @Override
        public boolean nettySendsFirstWrite(io.netty.channel.Channel channel) {
            return false;
        }

        @Override
        public void sendFirstWriteAtConnect(io.netty.channel.Channel channel) {
            throw new AssertionError("an observer never connects");
        }

        @Override
        public String synDataRefusal(io.netty.channel.Channel channel) {
            throw new AssertionError("an observer never connects");
        }

        @Override
        public boolean immediateConnectIsDeferred(io.netty.channel.Channel channel) {
            return false;
        }

        @Override
        public dev.tfo.internal.TcpInfo tcpInfo(io.netty.channel.Channel channel) {
            reads++;
            return delegate.tcpInfo(channel);
        }

        @Override
        public String socketError(io.netty.channel.Channel channel) {
            return null;
        }

        @Override
        public int sendSyn(io.netty.channel.Channel channel, ByteBuf data, int index, int length,
                           InetSocketAddress remote) {
            throw new AssertionError("an observer never sends");
        }
    }
}
