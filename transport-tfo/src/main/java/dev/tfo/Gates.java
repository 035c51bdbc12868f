package dev.tfo;

import dev.tfo.internal.SocketOps;
import io.netty.channel.Channel;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.Attribute;

/**
 * The one place a client channel gets its {@link SynGate}: first in its pipeline, with the options it was given,
 * unless it has one; and where a gate is found again. The channel keeps one attribute, its {@link Verdict}, which
 * carries the gate. A {@link HandshakeObserver} that {@link TfoResult#of} put there before the connect gives way to
 * the gate, and its verdict becomes the gate's.
 */
final class Gates {
    private Gates() {
    }

    /**
     * A connect-then-write gate ({@link TfoChannels}), or the channel's gate if it has one.
     *
     * @throws IllegalArgumentException when the channel is not a TCP {@link SocketChannel}
     * @throws IllegalStateException    when the channel is already connected
     */
    static SynGate install(Channel channel, TfoClientOptions options, SocketOps ops) {
        return install(channel, options, ops, SynGate.Mode.CONNECT_THEN_WRITE);
    }

    /**
     * The gate of a {@link TfoBootstraps#connect}, whose first flight the caller vouched for: Netty's own TFO connect
     * where it can. A connect-then-write gate that has seen nothing yet (the bootstrap's) gives way to it.
     */
    static SynGate installForFirstFlight(Channel channel, TfoClientOptions options, SocketOps ops) {
        boolean netty = ops.nettySendsFirstWrite(channel) && !options.noCookie();
        return install(channel, options, ops, netty ? SynGate.Mode.FIRST_FLIGHT : SynGate.Mode.FIRST_FLIGHT_DEFERRED);
    }

    /** The gate of a channel, or {@code null}. */
    static SynGate of(Channel channel) {
        Verdict v = Verdict.of(channel);
        return v != null ? v.gate : null;
    }

    private static SynGate install(Channel channel, TfoClientOptions options, SocketOps ops, SynGate.Mode mode) {
        if (!(channel instanceof SocketChannel)) {
            throw new IllegalArgumentException("channel: " + channel.getClass().getName()
                    + " is not a TCP SocketChannel");
        }
        Attribute<Verdict> attr = channel.attr(Verdict.KEY);
        Verdict verdict = attr.get();
        SynGate existing = verdict != null ? verdict.gate : null;
        if (existing != null && (mode == SynGate.Mode.CONNECT_THEN_WRITE
                || existing.mode != SynGate.Mode.CONNECT_THEN_WRITE || !existing.untouched())) {
            return existing; // one gate per channel; only a first flight takes over, and only an untouched gate
        }
        if (channel.isActive()) {
            throw new IllegalStateException("channel: already connected: enable TFO before the connect "
                    + "(e.g. in initChannel)");
        }
        if (verdict == null) {
            Verdict mine = new Verdict(channel);
            verdict = attr.setIfAbsent(mine);
            verdict = verdict != null ? verdict : mine;
        }
        SynGate gate = new SynGate(channel, options, ops, verdict, mode);
        verdict.gate = gate;
        if (existing != null) {
            existing.removals = 2; // steps aside for good: its verdict is the new gate's to decide
            channel.pipeline().replace(existing, SynGate.NAME, gate);
            return gate;
        }
        HandshakeObserver observer = channel.pipeline().get(HandshakeObserver.class);
        if (observer != null) {
            channel.pipeline().replace(observer, SynGate.NAME, gate); // its verdict is the gate's now
        } else {
            channel.pipeline().addFirst(SynGate.NAME, gate);
        }
        return gate;
    }
}
