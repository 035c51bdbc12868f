package dev.tfo;

import dev.tfo.internal.BoundedLru;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a client learned about each server (IP and port) it talked to, for the next deferred connect to it. One per
 * {@link TfoClientOptions}; bounded (the least recently used server is forgotten first).
 *
 * <ul>
 *   <li>Whether the server spoke first, before the client wrote anything: a banner protocol (SMTP, FTP, SSH,
 *       MySQL). A deferred connect to such a server sends its SYN at once instead of waiting for a first write that
 *       will not come; to any other server it waits up to {@link TfoClientOptions#firstWriteWait()}, so that the
 *       first write of a client that speaks first rides in the SYN even when it comes late (a cold JVM).</li>
 *   <li>The round-trip time of its last handshake ({@code tcpi_rtt}), so that the gate reads {@code tcp_info}
 *       when the next SYN-ACK is due. A client that reads only once its request was written (Reactor Netty) hears
 *       of the handshake from nothing else.</li>
 * </ul>
 */
final class Destinations {
    static final int MAX_REMEMBERED = 4096;

    private final BoundedLru<InetSocketAddress, Boolean> serverFirst = new BoundedLru<>(MAX_REMEMBERED);
    /** A cell per server, updated in place: learning a handshake allocates nothing once the server is known. */
    private final BoundedLru<InetSocketAddress, AtomicLong> handshakeNanos = new BoundedLru<>(MAX_REMEMBERED);

    /** Whether the server spoke first the last time this client talked to it. */
    boolean serverSpeaksFirst(InetSocketAddress remote) {
        return remote != null && serverFirst.get(remote) != null;
    }

    /** Learns who spoke first on a connection to {@code remote}. */
    void recordFirstSpeaker(InetSocketAddress remote, boolean server) {
        if (server) {
            serverFirst.put(remote, Boolean.TRUE);
        } else {
            serverFirst.remove(remote);
        }
    }

    /** The round-trip time of the last handshake with {@code remote}, or 0 when unknown. */
    long handshakeNanos(InetSocketAddress remote) {
        AtomicLong nanos = remote == null ? null : handshakeNanos.get(remote);
        return nanos == null ? 0 : nanos.get();
    }

    /** Learns a handshake's round-trip time ({@code tcpi_rtt}, microseconds; ignored when not positive). */
    void recordHandshake(InetSocketAddress remote, long rttMicros) {
        if (remote != null && rttMicros > 0) {
            long nanos = TimeUnit.MICROSECONDS.toNanos(rttMicros);
            AtomicLong known = handshakeNanos.get(remote);
            if (known != null) {
                known.set(nanos);
            } else {
                handshakeNanos.put(remote, new AtomicLong(nanos));
            }
        }
    }
}
