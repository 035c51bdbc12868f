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

    /** Netty saw the same value as the live one: the usual case in a fresh JVM. */
    private static Facts live(int sysctl) {
        return new Facts(sysctl, true, (sysctl & 1) != 0, (sysctl & 2) != 0, SUMMARY);
    }

    @Test
    void clientOnUsualHostGetsNoWarning() {
        assertEquals(Optional.empty(), StartupWarning.of(live(1), true, false));
    }

    @Test
    void clientWithoutClientBitIsToldAboutTheClientBitOnly() {
        String warning = StartupWarning.of(live(2), true, false).orElseThrow();
        assertEquals("TCP Fast Open is off for this client: net.ipv4.tcp_fastopen=2 lacks the client bit 0x1 "
                + "(connections send plain SYNs). Fix: " + TfoSupport.FIX + ".", warning);
        assertFalse(warning.contains("server"), warning);
    }

    @Test
    void serverOnUsualHostIsToldAboutTheServerBitOnly() {
        String warning = StartupWarning.of(live(1), false, true).orElseThrow();
        assertEquals("TCP Fast Open is off for this server: net.ipv4.tcp_fastopen=1 lacks the server bit 0x2 "
                + "(TCP_FASTOPEN on the listener is silently ignored). Fix: " + TfoSupport.FIX + ".", warning);
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
    void staleNettyViewMattersOnlyForTheBitTheRunUses() {
        // Live 3, but Netty initialised when the server bit was off.
        Facts stale = new Facts(3, true, true, false, SUMMARY);
        assertEquals(Optional.empty(), StartupWarning.of(stale, true, false));
        assertEquals(Optional.of(SUMMARY), StartupWarning.of(stale, false, true));
        assertEquals(Optional.of(SUMMARY), StartupWarning.of(stale, true, true));
    }

    @Test
    void noSysctlOrNoNativeTransportIsTheLibrarySummaryForEveryRole() {
        assertEquals(Optional.of(SUMMARY), StartupWarning.of(new Facts(-1, true, false, false, SUMMARY), true, false));
        assertEquals(Optional.of(SUMMARY), StartupWarning.of(new Facts(3, false, false, false, SUMMARY), false, true));
    }

    @Test
    void factsOfTheLiveSupportMatchIt() {
        TfoSupport support = TfoSupport.current();
        Facts facts = Facts.of(support);
        assertEquals(support.sysctl(), facts.sysctl());
        assertEquals(support.summary(), facts.summary());
        assertEquals(support.epollAvailable() || support.ioUringAvailable(), facts.nativeTransport());
        assertEquals(support.epollAvailable() ? support.epollClientTfo() : support.ioUringClientTfo(),
                facts.nettyClient());
    }
}
