package dev.tfo.example.echo;

import dev.tfo.TfoSupport;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The one line the example prints at start-up when TCP Fast Open cannot work for what this run does: a
 * client run needs the sysctl's client bit, a server run its server bit, {@code -l} both. A client on a usual
 * host ({@code net.ipv4.tcp_fastopen=1}) gets no warning about the server bit it does not use.
 */
final class StartupWarning {
    /** The fix for a sysctl lacking a bit, on a host, in a container and in a pod. */
    static final String FIX = "sysctl -w net.ipv4.tcp_fastopen=3 (host), "
            + "docker run --sysctl net.ipv4.tcp_fastopen=3 (container), or securityContext.sysctls "
            + "[{name: net.ipv4.tcp_fastopen, value: \"3\"}] in a Kubernetes pod";

    /**
     * What the warning is decided from.
     *
     * @param sysctl  live {@code net.ipv4.tcp_fastopen}, -1 when unreadable
     * @param usable  whether a native transport (epoll or io_uring) loads: NIO cannot do TFO
     * @param summary {@link TfoSupport#summary()}, for what no role changes (not Linux, no native transport)
     */
    record Facts(int sysctl, boolean usable, String summary) {

        static Facts of(TfoSupport support) {
            return new Facts(support.sysctl(), Epoll.isAvailable() || IoUring.isAvailable(), support.summary());
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
        if (facts.sysctl() < 0 || !facts.usable()) {
            return Optional.of(facts.summary());
        }
        List<String> missing = new ArrayList<>(2);
        if (client && !facts.has(0x1)) {
            missing.add("the client bit 0x1 (connections send plain SYNs)");
        }
        if (server && !facts.has(0x2)) {
            missing.add("the server bit 0x2 (TCP_FASTOPEN on the listener is silently ignored)");
        }
        if (missing.isEmpty()) {
            return Optional.empty();
        }
        String role = client && server ? "client and server" : client ? "client" : "server";
        return Optional.of("TCP Fast Open is off for this " + role + ": net.ipv4.tcp_fastopen=" + facts.sysctl()
                + " lacks " + String.join(" and ", missing) + ". Fix: " + FIX + ".");
    }
}
