package dev.tfo.example.echo;

import dev.tfo.TfoSupport;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The one line the example prints at start-up when TCP Fast Open cannot work for what this run does: a
 * client run needs the sysctl's client bit, a server run its server bit, {@code -l} both. A client on a usual
 * host ({@code net.ipv4.tcp_fastopen=1}) gets no warning about the server bit it does not use.
 */
final class StartupWarning {

    /**
     * What the warning is decided from.
     *
     * @param sysctl          live {@code net.ipv4.tcp_fastopen}, -1 when unreadable
     * @param nativeTransport whether epoll or io_uring loads
     * @param nettyClient     whether Netty (epoll, else io_uring) saw the client bit when it initialised
     * @param nettyServer     whether Netty saw the server bit when it initialised
     * @param summary         {@link TfoSupport#summary()}, for what no role changes (not Linux, no native transport,
     *                        a stale view in Netty)
     */
    record Facts(int sysctl, boolean nativeTransport, boolean nettyClient, boolean nettyServer, String summary) {

        static Facts of(TfoSupport support) {
            boolean epoll = support.epollAvailable();
            return new Facts(support.sysctl(), epoll || support.ioUringAvailable(),
                    epoll ? support.epollClientTfo() : support.ioUringClientTfo(),
                    epoll ? support.epollServerTfo() : support.ioUringServerTfo(), support.summary());
        }

        boolean has(int bit) {
            return sysctl >= 0 && (sysctl & bit) == bit;
        }
    }

    private StartupWarning() {
    }

    /** The warning for a run that connects ({@code client}) and/or listens ({@code server}), if any. */
    static Optional<String> of(TfoSupport support, boolean client, boolean server) {
        return of(Facts.of(support), client, server);
    }

    static Optional<String> of(Facts facts, boolean client, boolean server) {
        if (facts.sysctl() < 0 || !facts.nativeTransport()) {
            return Optional.of(facts.summary());
        }
        List<String> missing = new ArrayList<>(2);
        if (client && !facts.has(TfoSupport.CLIENT)) {
            missing.add("the client bit 0x1 (connections send plain SYNs)");
        }
        if (server && !facts.has(TfoSupport.SERVER)) {
            missing.add("the server bit 0x2 (TCP_FASTOPEN on the listener is silently ignored)");
        }
        if (!missing.isEmpty()) {
            String role = client && server ? "client and server" : client ? "client" : "server";
            return Optional.of("TCP Fast Open is off for this " + role + ": net.ipv4.tcp_fastopen=" + facts.sysctl()
                    + " lacks " + String.join(" and ", missing) + ". Fix: " + TfoSupport.FIX + ".");
        }
        boolean stale = client && facts.nettyClient() != facts.has(TfoSupport.CLIENT)
                || server && facts.nettyServer() != facts.has(TfoSupport.SERVER);
        return stale ? Optional.of(facts.summary()) : Optional.empty();
    }
}
