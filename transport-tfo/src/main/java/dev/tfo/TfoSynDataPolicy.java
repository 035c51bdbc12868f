package dev.tfo;

import io.netty.buffer.ByteBuf;

/**
 * Decides how much of a connection's first write may travel in the SYN. Data in a SYN can be delivered
 * twice (a duplicated or retransmitted SYN) and is processed by the server before the handshake proves the
 * client's address (RFC 7413, section 6), so only bytes that are safe to replay belong there: a TLS
 * ClientHello, an HTTP {@code GET}, never an HTTP {@code POST} or a Redis {@code INCR}. Bytes the policy
 * does not admit are sent right after the handshake, as on a connection without TFO.
 *
 * <p>The policy sees the bytes exactly as they leave the pipeline (after every encoder, and after TLS), and
 * applies to connections from {@link TfoChannels} that connect first and write later. A first flight given to {@link TfoBootstraps#connect} is the caller's
 * statement that it is safe to replay and always rides in the SYN.
 *
 * <pre>{@code
 * // Redis: let the RESP3 handshake (HELLO) ride in the SYN, nothing else
 * TfoSynDataPolicy helloOnly = first -> startsWith(first, "*2\r\n$5\r\nHELLO\r\n") ? first.readableBytes() : 0;
 * TfoClientOptions options = TfoClientOptions.builder().synDataPolicy(helloOnly).build();
 * }</pre>
 */
@FunctionalInterface
public interface TfoSynDataPolicy {
    /**
     * How many bytes from the start of the first write may travel in the SYN.
     *
     * @param firstWrite the bytes of the first flush, from its reader index (a read-only view: do not keep it)
     * @return 0 (none: the SYN leaves without data) to {@code firstWrite.readableBytes()}; values outside that
     *         range are clamped
     */
    int admit(ByteBuf firstWrite);

    /**
     * The default: admits only bytes known to be safe to replay. The leading TLS handshake records (the
     * ClientHello); an HTTP/1.x {@code GET}, {@code HEAD} or {@code OPTIONS} request up to the end of its
     * headers; the HTTP/2 client preface with the connection-level frames after it ({@code SETTINGS},
     * {@code WINDOW_UPDATE}, {@code PING}, {@code PRIORITY}). Anything else (an HTTP {@code POST}, an unknown
     * protocol) stays out of the SYN.
     *
     * <pre>{@code
     * TfoClientOptions.builder().synDataPolicy(TfoSynDataPolicy.replaySafe()).build();
     * }</pre>
     *
     * @return the shared instance
     */
    static TfoSynDataPolicy replaySafe() {
        return SynDataPolicies.REPLAY_SAFE;
    }

    /**
     * Admits every first write: for protocols whose first message is always safe to replay, which the caller
     * vouches for.
     *
     * <pre>{@code
     * TfoClientOptions.builder().synDataPolicy(TfoSynDataPolicy.any()).build();
     * }</pre>
     *
     * @return the shared instance
     */
    static TfoSynDataPolicy any() {
        return SynDataPolicies.ANY;
    }
}
