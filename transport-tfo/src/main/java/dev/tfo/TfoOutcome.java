package dev.tfo;

/**
 * What happened to TCP Fast Open on one connection, as the kernel's {@code tcp_info} tells it.
 *
 * <p>Client-side outcomes: {@link #SYN_DATA_ACKED}, {@link #COOKIE_REQUESTED}, {@link #DATA_NOT_ACKED},
 * {@link #SYN_RETRANSMITTED}, {@link #NOT_ATTEMPTED}. Server-side (accepted child channel) outcomes:
 * {@link #SYN_DATA_ACCEPTED}, {@link #NO_SYN_DATA}. In every case the data itself is delivered: an outcome
 * only says whether it saved a round trip.
 */
public enum TfoOutcome {
    /** Client: the first flight travelled in the SYN and the server acknowledged it. One round trip saved. */
    SYN_DATA_ACKED(true, false),
    /**
     * Client: no cookie was cached for this server, so the SYN asked for one and the data followed the
     * handshake. Expected on the first connection to a server; the next connection should carry data. When it
     * does not, the server issues no cookies, and {@link TfoResult#reason()} says so.
     */
    COOKIE_REQUESTED(false, false),
    /**
     * Client: the SYN carried data but the SYN-ACK did not acknowledge it (the server rejected the cookie, its
     * TFO queue overflowed, or its key changed); the data was sent again after the handshake.
     */
    DATA_NOT_ACKED(false, false),
    /**
     * Client: the SYN with data was retransmitted, typically because a middlebox drops SYNs carrying data;
     * the data was sent again after the handshake, at the cost of a retransmission timeout.
     */
    SYN_RETRANSMITTED(false, false),
    /** Client: TFO was not attempted; {@link TfoResult#reason()} says why (transport, kernel, backoff, ...). */
    NOT_ATTEMPTED(false, false),
    /** Server: the accepted connection's SYN carried data with a valid cookie; it was delivered at once. */
    SYN_DATA_ACCEPTED(true, true),
    /** Server: the accepted connection's SYN carried no data that TFO accepted (a plain or cookie-request SYN). */
    NO_SYN_DATA(false, true);

    private final boolean dataInSyn;
    private final boolean server;

    TfoOutcome(boolean dataInSyn, boolean server) {
        this.dataInSyn = dataInSyn;
        this.server = server;
    }

    /**
     * Whether data travelled in the SYN and was accepted: the round trip was saved.
     *
     * @return {@code true} for {@link #SYN_DATA_ACKED} and {@link #SYN_DATA_ACCEPTED}
     */
    public boolean dataInSyn() {
        return dataInSyn;
    }

    /**
     * Whether this is the outcome of a connection a server accepted, rather than one a client opened.
     *
     * @return {@code true} for {@link #SYN_DATA_ACCEPTED} and {@link #NO_SYN_DATA}
     */
    public boolean server() {
        return server;
    }
}
