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
        assertEquals(Epoll.isAvailable(), s.epollAvailable());
        assertEquals(Epoll.isTcpFastOpenClientSideAvailable(), s.epollClientTfo());
        assertEquals(Epoll.isTcpFastOpenServerSideAvailable(), s.epollServerTfo());
        assertEquals((s.sysctl() & 1) != 0, s.has(TfoSupport.CLIENT));
    }

    @Test
    void summaryNamesTheFixWhenABitIsMissing() {
        TfoSupport s = TfoSupport.current();
        if (s.has(TfoSupport.CLIENT | TfoSupport.SERVER)) {
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
