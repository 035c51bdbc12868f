package dev.tfo;

import dev.tfo.internal.NettyVersion;
import dev.tfo.internal.SocketOps;
import dev.tfo.internal.TcpInfo;
import io.netty.channel.Channel;
import io.netty.channel.ServerChannel;
import io.netty.util.concurrent.Future;

import static java.util.Objects.requireNonNull;

/**
 * The proof, for one connection, of whether TCP Fast Open happened: the {@link TfoOutcome}, a human reason,
 * and the raw {@code tcp_info} evidence it was decided from.
 *
 * <pre>{@code
 * TfoBootstraps.connect(bootstrap, server, firstFlight).addListener(f -> {
 *     if (f.isSuccess()) {
 *         TfoResult.of((Channel) f.getNow()).addListener(r ->
 *             log.info("TFO: {}", r.getNow()));   // e.g. SYN_DATA_ACKED (the SYN carried 42 bytes, acked)
 *     }
 * });
 * }</pre>
 *
 * <p>On a client channel the result is known once the handshake is over (the kernel reports the SYN-ACK's
 * verdict only then), so it is handed out as a {@link Future}; reading {@code tcp_info} in
 * {@code channelActive} would race with the SYN-ACK. On an accepted server channel it is known at once.
 */
public final class TfoResult {
    private final TfoOutcome outcome;
    private final String reason;
    private final int tcpiOptions;
    private final int fastopenClientFail;
    private final long rttMicros;
    private final int synDataBytes;

    private TfoResult(TfoOutcome outcome, String reason, TcpInfo info, int synDataBytes) {
        this(outcome, reason, info == null ? -1 : info.options(), info == null ? -1 : info.clientFail(),
                info == null ? -1 : info.rttMicros(), synDataBytes);
    }

    private TfoResult(TfoOutcome outcome, String reason, int tcpiOptions, int fastopenClientFail, long rttMicros,
                      int synDataBytes) {
        this.outcome = outcome;
        this.reason = reason;
        this.tcpiOptions = tcpiOptions;
        this.fastopenClientFail = fastopenClientFail;
        this.rttMicros = rttMicros;
        this.synDataBytes = synDataBytes;
    }

    /**
     * The result of a channel's TFO attempt.
     *
     * <ul>
     *   <li>An accepted (child) channel of a server: a completed future, decided from {@code tcp_info} now.</li>
     *   <li>A client channel set up by {@link TfoBootstraps} or {@link TfoChannels}: completes once the
     *       handshake is over; fails if the connection fails first.</li>
     *   <li>Any other client channel: its handshake is watched from now on (or from its connect), by a
     *       handler this method puts first in its pipeline.</li>
     * </ul>
     *
     * <pre>{@code
     * TfoResult.of(channel).addListener(f -> log.info("{}", f.getNow()));
     * }</pre>
     *
     * @param channel a TCP channel
     * @return the result, once decided
     * @throws IllegalStateException when the Netty on the class path is older than 4.1.76.Final (naming both)
     */
    public static Future<TfoResult> of(Channel channel) {
        requireNonNull(channel, "channel");
        NettyVersion.requireSupported();
        if (channel.parent() instanceof ServerChannel) {
            return channel.eventLoop().newSucceededFuture(server(TcpInfo.read(channel), channel.getClass().getSimpleName()));
        }
        return HandshakeObserver.verdictOf(channel, SocketOps.NATIVE).future();
    }

    /** Decides the outcome of an accepted server connection. */
    static TfoResult server(TcpInfo info, String channelType) {
        if (info == null) {
            return new TfoResult(TfoOutcome.NO_SYN_DATA,
                    "transport " + channelType + " cannot accept data in a SYN (use epoll or io_uring)", null, -1);
        }
        if (info.synData()) {
            return new TfoResult(TfoOutcome.SYN_DATA_ACCEPTED, "the SYN carried data with a valid cookie", info, -1);
        }
        return new TfoResult(TfoOutcome.NO_SYN_DATA, (info.options() & TcpInfo.OPT_TFO_CHILD) != 0
                ? "TFO child without data in the SYN"
                : "the SYN carried no accepted data (plain SYN, cookie request, or invalid cookie)", info, -1);
    }

    /**
     * Decides the outcome of a client connection whose handshake is over.
     *
     * @param notAttempted why no data rode in the SYN by our choice, or {@code null} when it may have
     * @param synBytes     how many bytes the SYN carried, or -1 when unknown
     */
    static TfoResult client(TcpInfo info, String notAttempted, int synBytes) {
        if (info == null) {
            return new TfoResult(TfoOutcome.NOT_ATTEMPTED,
                    notAttempted != null ? notAttempted : "the transport cannot send data in a SYN", null, synBytes);
        }
        if (info.synData()) {
            // With the byte count, the reason is written when asked (reason()): no string per connection.
            return new TfoResult(TfoOutcome.SYN_DATA_ACKED, synBytes > 0 ? null
                    : "the SYN carried data and the server acked it", info, synBytes);
        }
        if (notAttempted != null && info.clientFail() != TcpInfo.FAIL_COOKIE_UNAVAILABLE) {
            return new TfoResult(TfoOutcome.NOT_ATTEMPTED, notAttempted, info, synBytes);
        }
        switch (info.clientFail()) {
            case TcpInfo.FAIL_COOKIE_UNAVAILABLE:
                return new TfoResult(TfoOutcome.COOKIE_REQUESTED,
                        "no cookie was cached for this server: the SYN requested one, the data followed the handshake",
                        info, synBytes);
            case TcpInfo.FAIL_DATA_NOT_ACKED:
                return new TfoResult(TfoOutcome.DATA_NOT_ACKED,
                        "the server did not ack the SYN's data (cookie rejected, key changed, or TFO queue full); "
                                + "the data was resent after the handshake", info, synBytes);
            case TcpInfo.FAIL_SYN_RETRANSMITTED:
                return new TfoResult(TfoOutcome.SYN_RETRANSMITTED,
                        "the SYN with data was retransmitted (something on the path drops SYNs carrying data)", info,
                        synBytes);
            default:
                return new TfoResult(TfoOutcome.NOT_ATTEMPTED,
                        "the kernel sent a plain SYN (client TFO off in the kernel, or disabled after a black hole)",
                        info, synBytes);
        }
    }

    /** The same evidence with another reason. */
    TfoResult withReason(String newReason) {
        return new TfoResult(outcome, newReason, tcpiOptions, fastopenClientFail, rttMicros, synDataBytes);
    }

    /**
     * What happened.
     *
     * @return the outcome
     */
    public TfoOutcome outcome() {
        return outcome;
    }

    /**
     * Why, in one human sentence fragment.
     *
     * @return the reason, never {@code null}
     */
    public String reason() {
        return reason != null ? reason : "the SYN carried " + synDataBytes + " bytes and the server acked them";
    }

    /**
     * The raw {@code tcpi_options} the outcome was decided from.
     *
     * @return the options byte, or -1 when the transport has no {@code tcp_info}
     */
    public int tcpiOptions() {
        return tcpiOptions;
    }

    /**
     * The raw {@code tcpi_fastopen_client_fail}.
     *
     * @return 0..3, or -1 when the transport has no {@code tcp_info}
     */
    public int tcpiFastopenClientFail() {
        return fastopenClientFail;
    }

    /**
     * The kernel's smoothed round-trip time when the outcome was decided.
     *
     * @return microseconds, or -1
     */
    public long rttMicros() {
        return rttMicros;
    }

    /**
     * How many bytes the client's SYN carried, as the kernel accepted them into it (whether or not the server
     * then acked them).
     *
     * @return the count (0: a SYN without data), or -1 when unknown (server side, or a SYN this library did
     *         not send itself)
     */
    public int synDataBytes() {
        return synDataBytes;
    }

    /**
     * For example {@code SYN_DATA_ACKED (the SYN carried 85 bytes and the server acked them)}.
     *
     * @return the outcome and the reason
     */
    @Override
    public String toString() {
        return outcome + " (" + reason() + ')';
    }
}
