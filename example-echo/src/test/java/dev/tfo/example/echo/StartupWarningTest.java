package dev.tfo.example.echo;

import dev.tfo.TfoSupport;
import dev.tfo.example.echo.StartupWarning.Facts;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The start-up line names only the sysctl bits the run uses: client bit to connect, server bit to listen. */
class StartupWarningTest {
    private static final String SUMMARY = "the library's summary";

    /** A host where a native transport loads. */
    private static Facts live(int sysctl) {
        return new Facts(sysctl, true, SUMMARY);
    }

    @Test
    void clientOnUsualHostGetsNoWarning() {
        assertEquals(Optional.empty(), StartupWarning.of(live(1), true, false));
    }

    @Test
    void clientWithoutClientBitIsToldAboutTheClientBitOnly() {
        String warning = StartupWarning.of(live(2), true, false).orElseThrow();
        assertEquals("TCP Fast Open is off for this client: net.ipv4.tcp_fastopen=2 lacks the client bit 0x1 "
                + "(connections send plain SYNs). Fix: " + StartupWarning.FIX + ".", warning);
        assertFalse(warning.contains("server"), warning);
    }

    @Test
    void serverOnUsualHostIsToldAboutTheServerBitOnly() {
        String warning = StartupWarning.of(live(1), false, true).orElseThrow();
        assertEquals("TCP Fast Open is off for this server: net.ipv4.tcp_fastopen=1 lacks the server bit 0x2 "
                + "(TCP_FASTOPEN on the listener is silently ignored). Fix: " + StartupWarning.FIX + ".", warning);
        assertFalse(warning.contains("client"), warning);
    }

    @Test
    void serverWithServerBitGetsNoWarningWhateverTheClientBit() {
        assertEquals(Optional.empty(), StartupWarning.of(live(2), false, true));
    }

    @Test
    void bothRolesWithTfoOffNameBothBits() {
        String warning = StartupWarning.of(live(0), true, true).orElseThrow();
        assertTrue(warning.startsWith("TCP Fast Open is off for this client and server: net.ipv4.tcp_fastopen=0 "
                + "lacks the client bit 0x1 (connections send plain SYNs) and the server bit 0x2 "), warning);
    }

    @Test
    void bothRolesOnUsualHostNameTheServerBit() {
        String warning = StartupWarning.of(live(1), true, true).orElseThrow();
        assertTrue(warning.startsWith("TCP Fast Open is off for this client and server: net.ipv4.tcp_fastopen=1 "
                + "lacks the server bit 0x2 "), warning);
        assertFalse(warning.contains("client bit"), warning);
    }

    @Test
    void everythingOnGetsNoWarningForAnyRole() {
        assertEquals(Optional.empty(), StartupWarning.of(live(3), true, true));
        assertEquals(Optional.empty(), StartupWarning.of(live(3), true, false));
        assertEquals(Optional.empty(), StartupWarning.of(live(3), false, true));
    }

    @Test
    void noSysctlOrNoNativeTransportIsTheLibrarySummaryForEveryRole() {
        assertEquals(Optional.of(SUMMARY), StartupWarning.of(new Facts(-1, true, SUMMARY), true, false));
        assertEquals(Optional.of(SUMMARY), StartupWarning.of(new Facts(3, false, SUMMARY), false, true));
    }

    @Test
    void factsOfTheLiveSupportMatchIt() {
        TfoSupport support = TfoSupport.current();
        Facts facts = Facts.of(support);
        assertEquals(support.sysctl(), facts.sysctl());
        assertEquals(support.summary(), facts.summary());
        assertTrue(facts.usable(), "epoll loads in this build");
        assertEquals(facts.has(0x1), support.isClientAvailable());
        assertEquals(facts.has(0x2), support.isServerAvailable());
    }
}
