package dev.tfo;

import dev.tfo.internal.BoundedLru;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * Remembers the servers a client asked for a cookie and got none back yet, so that a second
 * {@link TfoOutcome#COOKIE_REQUESTED} to the same IP can say what it means: that server does not issue
 * cookies. The kernel caches cookies per destination IP, so the memory is per IP too. It is bounded (the
 * least recently used server is forgotten first) and a {@link TfoOutcome#SYN_DATA_ACKED} (a cookie worked)
 * forgets the server. One per {@link TfoClientOptions}.
 */
final class CookieRequests {
    static final int MAX_REMEMBERED = 4096;
    static final String NONE_RETURNED = "no cookie was cached for this server although one was requested "
            + "before: the server does not issue cookies (its net.ipv4.tcp_fastopen lacks 0x2, its listener "
            + "lacks TCP_FASTOPEN, or the path strips the TFO option); the data followed the handshake";

    /** Server IP to when a handshake that requested a cookie from it was over (System.nanoTime). */
    private final BoundedLru<InetAddress, Long> asked = new BoundedLru<>(MAX_REMEMBERED);

    /**
     * The verdict, its reason sharpened when a cookie was requested from the same server in a handshake that
     * was over before this connection started (so the answer, had it carried a cookie, was cached in time).
     *
     * @param startedNanos when this connection started ({@code System.nanoTime()})
     */
    TfoResult explain(SocketAddress remote, TfoResult verdict, long startedNanos) {
        if (!(remote instanceof InetSocketAddress) || ((InetSocketAddress) remote).getAddress() == null) {
            return verdict;
        }
        InetAddress ip = ((InetSocketAddress) remote).getAddress();
        switch (verdict.outcome()) {
            case SYN_DATA_ACKED:
                asked.remove(ip);
                return verdict;
            case COOKIE_REQUESTED:
                Long before = asked.put(ip, System.nanoTime());
                return before != null && before - startedNanos < 0 ? verdict.withReason(NONE_RETURNED) : verdict;
            default:
                return verdict;
        }
    }

    /** How many servers are remembered. */
    int size() {
        return asked.size();
    }
}
