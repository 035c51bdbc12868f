package dev.tfo;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TfoCountersTest {
    static final String NETSTAT = "TcpExt: SyncookiesSent TCPFastOpenActive TCPFastOpenActiveFail "
            + "TCPFastOpenPassive TCPFastOpenPassiveFail TCPFastOpenListenOverflow TCPFastOpenCookieReqd "
            + "TCPFastOpenBlackhole TCPFastOpenPassiveAltKey TCPDelivered\n"
            + "TcpExt: 7 5 1 4 2 0 3 0 1 99\n"
            + "IpExt: InNoRoutes InOctets\n"
            + "IpExt: 0 1234\n";

    @Test
    void parsesEveryFastOpenCounterAndNothingElse() {
        TfoCounters c = TfoCounters.parse(NETSTAT);
        assertEquals(5, c.active());
        assertEquals(1, c.activeFail());
        assertEquals(4, c.passive());
        assertEquals(2, c.passiveFail());
        assertEquals(0, c.listenOverflow());
        assertEquals(3, c.cookieReqd());
        assertEquals(0, c.blackhole());
        assertEquals(1, c.passiveAltKey());
        assertEquals("Active=5 ActiveFail=1 Passive=4 PassiveFail=2 ListenOverflow=0 CookieReqd=3 Blackhole=0 "
                + "PassiveAltKey=1", c.toString(), "only TCPFastOpen* counters are kept");
    }

    @Test
    void minusGivesWhatHappenedInBetween() {
        TfoCounters before = TfoCounters.parse(NETSTAT);
        TfoCounters after = TfoCounters.parse(NETSTAT.replace("TcpExt: 7 5 1 4", "TcpExt: 7 9 1 8"));
        TfoCounters delta = after.minus(before);
        assertEquals(4, delta.active());
        assertEquals(4, delta.passive());
        assertEquals(0, delta.cookieReqd());
        assertEquals("Active=4 ActiveFail=0 Passive=4 PassiveFail=0 ListenOverflow=0 CookieReqd=0 Blackhole=0 "
                + "PassiveAltKey=0", delta.toString());
    }

    @Test
    void aCounterThisKernelLacksReadsZero() {
        TfoCounters old = TfoCounters.parse("TcpExt: TCPFastOpenActive TCPFastOpenPassive\nTcpExt: 2 3\n");
        assertEquals(2, old.active());
        assertEquals(3, old.passive());
        assertEquals(0, old.passiveAltKey());
    }

    @Test
    void snapshotReadsThisNamespace() {
        TfoCounters now = TfoCounters.snapshot();
        assertTrue(now.toString().startsWith("Active="), now.toString());
        assertTrue(now.active() >= 0);
    }

    @Test
    void badInputNamesTheArgument() {
        assertEquals("netstat", assertThrows(NullPointerException.class, () -> TfoCounters.parse(null)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TfoCounters.parse("Ip: 1\nIp: 2\n"))
                .getMessage().startsWith("netstat:"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TfoCounters.parse("TcpExt: A B\nTcpExt: 1\n")).getMessage().contains("names"));
        assertEquals("earlier", assertThrows(NullPointerException.class,
                () -> TfoCounters.parse(NETSTAT).minus(null)).getMessage());
    }
}
