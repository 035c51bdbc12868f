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
 *         "summary": "TCP Fast Open works for clients only (... lacks the server bit 0x2 ...). Fix: sysctl -w ..."}
 * }</pre>
 */
final class TfoInfoContributor implements InfoContributor {
    @Override
    public void contribute(Info.Builder builder) {
        TfoSupport support = TfoSupport.current();
        Map<String, Object> tfo = new LinkedHashMap<>();
        tfo.put("sysctl", support.sysctl());
        tfo.put("client", support.isClientAvailable());
        tfo.put("server", support.isServerAvailable());
        tfo.put("epoll", NativeTransports.epoll());
        tfo.put("ioUring", NativeTransports.ioUring());
        tfo.put("summary", support.summary());
        builder.withDetail("tfo", tfo);
    }
}
