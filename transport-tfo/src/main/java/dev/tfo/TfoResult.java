package dev.tfo;

import dev.tfo.internal.NettyVersion;
import dev.tfo.internal.SocketOps;
import dev.tfo.internal.TcpInfo;
import dev.tfo.internal.Transport;
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
    /** The transport label of each channel class, found once per class. */
    private static final ClassValue<String> TRANSPORTS = new ClassValue<String>() {
        @Override
        protected String computeValue(Class<?> type) {
            Transport transport = Transport.ofClass(type);
            if (transport.isNative()) {
                return transport.displayName();
            }
            for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
                if (c.getName().startsWith("io.netty.channel.socket.nio.")) {
                    return "nio";
                }
            }
            return "other";
        }
    };

    private final TfoOutcome outcome;
    private final String reason;
    private final int synDataBytes;
    private final String transport;

    private TfoResult(TfoOutcome outcome, String reason, int synDataBytes, String transport) {
        this.outcome = outcome;
        this.reason = reason;
        this.synDataBytes = synDataBytes;
        this.transport = transport;
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
            return channel.eventLoop().newSucceededFuture(server(channel));
        }
        return HandshakeObserver.verdictOf(channel, SocketOps.NATIVE).future();
    }

    /** Decides the outcome of an accepted server connection. */
    /** The label of a channel's transport: {@code "epoll"}, {@code "io_uring"}, {@code "nio"} or {@code "other"}. */
    static String transportOf(Class<? extends Channel> channelType) {
        return TRANSPORTS.get(channelType);
    }

    static TfoResult server(Channel child) {
        return server(TcpInfo.read(child), child.getClass().getSimpleName(), transportOf(child.getClass()));
    }

    static TfoResult server(TcpInfo info, String channelType, String transport) {
        if (info == null) {
            return new TfoResult(TfoOutcome.NO_SYN_DATA,
                    "transport " + channelType + " cannot accept data in a SYN (use epoll or io_uring)", -1, transport);
        }
        if (info.synData()) {
            return new TfoResult(TfoOutcome.SYN_DATA_ACCEPTED, "the SYN carried data with a valid cookie", -1, transport);
        }
        return new TfoResult(TfoOutcome.NO_SYN_DATA, (info.options() & TcpInfo.OPT_TFO_CHILD) != 0
                ? "TFO child without data in the SYN"
                : "the SYN carried no accepted data (plain SYN, cookie request, or invalid cookie)", -1, transport);
    }

    /**
     * Decides the outcome of a client connection whose handshake is over.
     *
     * @param notAttempted why no data rode in the SYN by our choice, or {@code null} when it may have
     * @param synBytes     how many bytes the SYN carried, or -1 when unknown
     */
    static TfoResult client(Channel channel, TcpInfo info, String notAttempted, int synBytes) {
        return client(info, notAttempted, synBytes, transportOf(channel.getClass()));
    }

    static TfoResult client(TcpInfo info, String notAttempted, int synBytes, String transport) {
        if (info == null) {
            return new TfoResult(TfoOutcome.NOT_ATTEMPTED,
                    notAttempted != null ? notAttempted : "the transport cannot send data in a SYN", synBytes, transport);
        }
        if (info.synData()) {
            // With the byte count, the reason is written when asked (reason()): no string per connection.
            return new TfoResult(TfoOutcome.SYN_DATA_ACKED, synBytes > 0 ? null
                    : "the SYN carried data and the server acked it", synBytes, transport);
        }
        if (notAttempted != null && info.clientFail() != TcpInfo.FAIL_COOKIE_UNAVAILABLE) {
            return new TfoResult(TfoOutcome.NOT_ATTEMPTED, notAttempted, synBytes, transport);
        }
        switch (info.clientFail()) {
            case TcpInfo.FAIL_COOKIE_UNAVAILABLE:
                return new TfoResult(TfoOutcome.COOKIE_REQUESTED,
                        "no cookie was cached for this server: the SYN requested one, the data followed the handshake", synBytes, transport);
            case TcpInfo.FAIL_DATA_NOT_ACKED:
                return new TfoResult(TfoOutcome.DATA_NOT_ACKED,
                        "the server did not ack the SYN's data (cookie rejected, key changed, or TFO queue full); "
                                + "the data was resent after the handshake", synBytes, transport);
            case TcpInfo.FAIL_SYN_RETRANSMITTED:
                return new TfoResult(TfoOutcome.SYN_RETRANSMITTED,
                        "the SYN with data was retransmitted (something on the path drops SYNs carrying data)", synBytes, transport);
            default:
                return new TfoResult(TfoOutcome.NOT_ATTEMPTED,
                        "the kernel sent a plain SYN (client TFO off in the kernel, or disabled after a black hole)", synBytes, transport);
        }
    }

    /** The same evidence with another reason. */
    TfoResult withReason(String newReason) {
        return new TfoResult(outcome, newReason, synDataBytes, transport);
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
     * The Netty transport of the connection, a tag for metrics: {@code "epoll"} and {@code "io_uring"} can do TCP
     * Fast Open; {@code "nio"} and {@code "other"} never do (their outcome is {@link TfoOutcome#NOT_ATTEMPTED} or
     * {@link TfoOutcome#NO_SYN_DATA}).
     *
     * @return {@code "epoll"}, {@code "io_uring"}, {@code "nio"} or {@code "other"}
     */
    public String transport() {
        return transport;
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
