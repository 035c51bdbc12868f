package dev.tfo;

import dev.tfo.internal.BoundedLru;

import java.net.InetSocketAddress;

/**
 * Remembers the servers (IP and port) that spoke first on a connection of this client, before it wrote
 * anything: a banner protocol (SMTP, FTP, SSH, MySQL). A deferred connect to such a server sends its SYN at
 * once instead of waiting for a first write that will not come; to any other server it waits up to
 * {@link TfoClientOptions#firstWriteWait()}, so that the first write of a client that speaks first rides in
 * the SYN even when it comes late (a cold JVM). Bounded: the least recently used server is forgotten first.
 * One per {@link TfoClientOptions}.
 */
final class FirstSpeakers {
    static final int MAX_REMEMBERED = 4096;

    private final BoundedLru<InetSocketAddress, Boolean> serverFirst = new BoundedLru<>(MAX_REMEMBERED);

    /** Whether the server spoke first the last time this client talked to it. */
    boolean serverSpeaksFirst(InetSocketAddress remote) {
        return serverFirst.get(remote) != null;
    }

    /** Learns who spoke first on a connection to {@code remote}. */
    void record(InetSocketAddress remote, boolean server) {
        if (server) {
            serverFirst.put(remote, Boolean.TRUE);
        } else {
            serverFirst.remove(remote);
        }
    }
}
