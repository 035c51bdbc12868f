package dev.tfo.spring.boot;

import dev.tfo.TfoSupport;

/**
 * A part of the application the starter gave TFO to (the HTTP clients, the server, Redis): what it is, and what keeps
 * it from working on this host, for the one startup line ({@link TfoStartupReport}). An interface of the starter's
 * own, so that the report names no framework type: a part's class needs its framework, which may be absent.
 */
interface TfoPart {
    /** What has TFO, e.g. {@code "Reactor Netty server (TFO queue 256)"}. */
    String description();

    /**
     * Why this part gets no TFO here, or {@code null}.
     *
     * @param support the host's state, read once for the report
     */
    String problem(TfoSupport support);

    /** The problem of every client part: the kernel's client bit. */
    static String clientProblem(TfoSupport support) {
        return support.sysctl() >= 0 && (support.sysctl() & 0x1) != 0 ? null
                : "clients: net.ipv4.tcp_fastopen=" + support.sysctl() + " lacks the client bit 0x1";
    }
}
