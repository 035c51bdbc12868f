package dev.tfo;

import dev.tfo.internal.Procfs;
import io.netty.channel.epoll.Epoll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The diagnosis in the build's own namespace; {@link TfoBootstrapsNetnsTest} checks it where TFO is on. */
class TfoSupportTest {
    @Test
    void readsTheLiveSysctlAndNettysView() {
        TfoSupport s = TfoSupport.current();
        assertEquals(Procfs.readInt(Procfs.TCP_FASTOPEN).getAsInt(), s.sysctl());
        assertTrue(Epoll.isAvailable(), "epoll loads in this build");
        assertEquals((s.sysctl() & 1) != 0, s.isClientAvailable());
        assertEquals((s.sysctl() & 2) != 0, s.isServerAvailable());
        String d = s.describe();
        assertTrue(d.contains("epoll: available; Netty saw client TFO "
                + (Epoll.isTcpFastOpenClientSideAvailable() ? "on" : "off") + ", server TFO "
                + (Epoll.isTcpFastOpenServerSideAvailable() ? "on" : "off")), d);
    }

    @Test
    void summaryNamesTheFixWhenABitIsMissing() {
        TfoSupport s = TfoSupport.current();
        if (s.isClientAvailable() && s.isServerAvailable()) {
            assertTrue(s.summary().startsWith("TCP Fast Open is available"), s.summary());
        } else {
            assertTrue(s.summary().contains("sysctl -w net.ipv4.tcp_fastopen=3"), s.summary());
            assertTrue(s.summary().contains("docker run --sysctl net.ipv4.tcp_fastopen=3"), s.summary());
            assertTrue(s.summary().contains("securityContext.sysctls"), s.summary());
        }
    }

    @Test
    void describeDecodesEveryBit() {
        String d = TfoSupport.current().describe();
        for (String bit : new String[] {"0x1 ", "0x2 ", "0x4 ", "0x200", "0x400"}) {
            assertTrue(d.contains(bit), bit + " in\n" + d);
        }
        assertTrue(d.contains("epoll: "), d);
        assertTrue(d.contains("io_uring: "), d);
        assertTrue(d.contains("Netty's cached view"), d);
    }
}
