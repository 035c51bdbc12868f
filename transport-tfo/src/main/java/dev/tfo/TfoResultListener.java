package dev.tfo;

import io.netty.channel.Channel;

/**
 * Told the {@link TfoResult} of every connection of a client or server set up with options that name it
 * ({@link TfoClientOptions.Builder#resultListener}, {@link TfoServerOptions.Builder#resultListener}): the hook
 * for metrics and logs, e.g. the Micrometer binder of {@code transport-tfo-micrometer}.
 *
 * <pre>{@code
 * TfoResultListener log = (channel, result) -> logger.debug("{} {}", channel.remoteAddress(), result);
 * TfoClientOptions options = TfoClientOptions.builder().resultListener(log).build();
 * }</pre>
 *
 * <p>Called once per connection whose handshake completed (a client connection that fails before has no
 * result), on the channel's event loop: it must be quick and must not block. An exception it throws is
 * logged and otherwise ignored.
 */
@FunctionalInterface
public interface TfoResultListener {
    /**
     * A connection's TFO result is decided.
     *
     * @param channel the connection (a client channel, or a server's accepted child channel)
     * @param result  what happened
     */
    void onResult(Channel channel, TfoResult result);
}
