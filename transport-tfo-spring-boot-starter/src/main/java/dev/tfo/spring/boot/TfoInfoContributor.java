package dev.tfo.spring.boot;

import dev.tfo.TfoSupport;
import org.springframework.boot.actuate.info.Info;
import org.springframework.boot.actuate.info.InfoContributor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code tfo} in {@code /actuator/info}: whether this host (its network namespace, read live) lets clients send and
 * servers accept data in the SYN, the native transports, and the fix when something is missing.
 *
 * <pre>{@code
 * "tfo": {"sysctl": 1, "client": true, "server": false, "epoll": true, "ioUring": false,
 *         "summary": "TCP Fast Open works for clients only (...)", "fix": "sysctl -w net.ipv4.tcp_fastopen=3 (host), ..."}
 * }</pre>
 */
final class TfoInfoContributor implements InfoContributor {
    @Override
    public void contribute(Info.Builder builder) {
        TfoSupport support = TfoSupport.current();
        Map<String, Object> tfo = new LinkedHashMap<>();
        tfo.put("sysctl", support.sysctl());
        tfo.put("client", TfoHost.librarySupported() && support.has(TfoSupport.CLIENT));
        tfo.put("server", TfoHost.librarySupported() && support.has(TfoSupport.SERVER));
        tfo.put("epoll", support.epollAvailable());
        tfo.put("ioUring", support.ioUringAvailable());
        tfo.put("summary", support.summary());
        if (!support.isFullyAvailable()) {
            tfo.put("fix", TfoHost.librarySupported() ? TfoSupport.FIX : TfoHost.NETTY_PROBLEM);
        }
        builder.withDetail("tfo", tfo);
    }
}
