package dev.tfo;

import dev.tfo.internal.TcpInfo;
import io.netty.channel.Channel;
import io.netty.channel.ServerChannel;
import io.netty.util.concurrent.Future;

import static java.util.Objects.requireNonNull;

/**
 * The proof, for one connection, of whether TCP Fast Open happened: the {@link TfoOutcome}, a human reason,
 * and the raw {@code tcp_info} evidence it was decided from.
 *
 * <p>{@code
 * TfoBootstraps.connect(bootstrap, server, firstFlight).addListener(f -> {
 *     if (f.isSuccess()) {
 *         TfoResult.of((Channel) f.getNow()).addListener(r ->
 *             log.info("TFO: {}", r.getNow()));   // e.g. SYN_DATA_ACKED (the SYN carried 42 bytes ...)
 *     }
 * });
 * }
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

    TfoResult(TfoOutcome outcome, String reason, TcpInfo info) {
        this(outcome, reason, info == null ? -1 : info.options(), info == null ? -1 : info.clientFail(),
                info == null ? -1 : info.rttMicros());
    }

    private TfoResult(TfoOutcome outcome, String reason, int tcpiOptions, int fastopenClientFail, long rttMicros) {
        this.outcome = outcome;
        this.reason = reason;
        this.tcpiOptions = tcpiOptions;
        this.fastopenClientFail = fastopenClientFail;
        this.rttMicros = rttMicros;
    }

    /**
     * The result of a channel's TFO attempt.
     *
     * <ul>
     *   <li>An accepted (child) channel of a server: a completed future, decided from {@code tcp_info} now.</li>
     *   <li>A channel connected by {@link TfoBootstraps#connect} or set up by {@link TfoBootstraps#client}: the
     *       future completes once the handshake is over; it fails if the connection fails first.</li>
     *   <li>Any other connected client channel: the handshake is watched from now on.</li>
     * </ul>
     *
     * @param channel a TCP channel
     */
    public static Future<TfoResult> of(Channel channel) {
        requireNonNull(channel, "channel");
        if (channel.parent() instanceof ServerChannel) {
            return channel.eventLoop().newSucceededFuture(server(TcpInfo.read(channel), channel.getClass().getSimpleName()));
        }
        return HandshakeWatcher.of(channel).result();
    }

    /** Decides the outcome of an accepted server connection. */
    static TfoResult server(TcpInfo info, String channelType) {
        if (info == null) {
            return new TfoResult(TfoOutcome.NO_SYN_DATA,
                    "transport " + channelType + " cannot accept data in a SYN (use epoll or io_uring)", null);
        }
        if (info.synData()) {
            return new TfoResult(TfoOutcome.SYN_DATA_ACCEPTED, "the SYN carried data with a valid cookie", info);
        }
        return new TfoResult(TfoOutcome.NO_SYN_DATA, (info.options() & TcpInfo.OPT_TFO_CHILD) != 0
                ? "TFO child without data in the SYN"
                : "the SYN carried no accepted data (plain SYN, cookie request, or invalid cookie)", info);
    }

    /**
     * Decides the outcome of a client connection whose handshake is over.
     *
     * @param notAttempted why TFO was not attempted, or {@code null} when it was (or may have been)
     */
    static TfoResult client(TcpInfo info, String notAttempted) {
        if (notAttempted != null) {
            return new TfoResult(TfoOutcome.NOT_ATTEMPTED, notAttempted, info);
        }
        if (info == null) {
            return new TfoResult(TfoOutcome.NOT_ATTEMPTED, "the transport cannot send data in a SYN", null);
        }
        if (info.synData()) {
            return new TfoResult(TfoOutcome.SYN_DATA_ACKED, "the SYN carried data and the server acked it", info);
        }
        switch (info.clientFail()) {
            case TcpInfo.FAIL_COOKIE_UNAVAILABLE:
                return new TfoResult(TfoOutcome.COOKIE_REQUESTED,
                        "no cookie was cached for this server: the SYN requested one, the data followed the handshake",
                        info);
            case TcpInfo.FAIL_DATA_NOT_ACKED:
                return new TfoResult(TfoOutcome.DATA_NOT_ACKED,
                        "the server did not ack the SYN's data (cookie rejected, key changed, or TFO queue full); "
                                + "the data was resent after the handshake", info);
            case TcpInfo.FAIL_SYN_RETRANSMITTED:
                return new TfoResult(TfoOutcome.SYN_RETRANSMITTED,
                        "the SYN with data was retransmitted (something on the path drops SYNs carrying data)", info);
            default:
                return new TfoResult(TfoOutcome.NOT_ATTEMPTED,
                        "the kernel sent a plain SYN (client TFO off in the kernel, or disabled after a black hole)",
                        info);
        }
    }

    /** The same evidence with another reason. */
    TfoResult withReason(String newReason) {
        return new TfoResult(outcome, newReason, tcpiOptions, fastopenClientFail, rttMicros);
    }

    /** What happened. */
    public TfoOutcome outcome() {
        return outcome;
    }

    /** Why, in one human sentence fragment (never {@code null}). */
    public String reason() {
        return reason;
    }

    /** Raw {@code tcpi_options} the outcome was decided from, or -1 when the transport has no {@code tcp_info}. */
    public int tcpiOptions() {
        return tcpiOptions;
    }

    /** Raw {@code tcpi_fastopen_client_fail} (0..3), or -1 when the transport has no {@code tcp_info}. */
    public int tcpiFastopenClientFail() {
        return fastopenClientFail;
    }

    /** The kernel's smoothed round-trip time when the outcome was decided, in microseconds, or -1. */
    public long rttMicros() {
        return rttMicros;
    }

    /** For example {@code SYN_DATA_ACKED (the SYN carried data and the server acked it)}. */
    @Override
    public String toString() {
        return outcome + " (" + reason + ')';
    }
}
