package dev.tfo;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

import static dev.tfo.TfoResultTest.info;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class CookieRequestsTest {
    private static final TfoResult REQUESTED = TfoResult.client(info(1, 0, 1), null);
    private static final TfoResult ACKED = TfoResult.client(info(1, 0x20, 0), null);

    private static SocketAddress server(int last) {
        return new InetSocketAddress("198.18.222." + last, 7000);
    }

    @Test
    void aSecondRequestAfterTheFirstWasAnsweredMeansTheServerIssuesNoCookies() {
        long start1 = System.nanoTime();
        assertSame(REQUESTED, CookieRequests.explain(server(1), REQUESTED, start1));
        long start2 = System.nanoTime();
        TfoResult second = CookieRequests.explain(server(1), REQUESTED, start2);
        assertEquals(TfoOutcome.COOKIE_REQUESTED, second.outcome());
        assertEquals(CookieRequests.NONE_RETURNED, second.reason());
        assertEquals(REQUESTED.tcpiFastopenClientFail(), second.tcpiFastopenClientFail(), "same evidence");
    }

    @Test
    void connectionsStartedBeforeTheFirstAnswerAreNotBlamed() {
        long startedEarly = System.nanoTime();
        assertSame(REQUESTED, CookieRequests.explain(server(2), REQUESTED, startedEarly));
        assertSame(REQUESTED, CookieRequests.explain(server(2), REQUESTED, startedEarly),
                "concurrent first connections all request a cookie, legitimately");
    }

    @Test
    void aWorkingCookieForgetsTheServer() {
        CookieRequests.explain(server(3), REQUESTED, System.nanoTime());
        assertSame(ACKED, CookieRequests.explain(server(3), ACKED, System.nanoTime()));
        assertSame(REQUESTED, CookieRequests.explain(server(3), REQUESTED, System.nanoTime()));
    }

    @Test
    void otherOutcomesAndAddressesAreLeftAlone() {
        TfoResult notAttempted = TfoResult.client(info(1, 0, 0), "backoff");
        assertSame(notAttempted, CookieRequests.explain(server(4), notAttempted, System.nanoTime()));
        assertSame(REQUESTED, CookieRequests.explain(null, REQUESTED, System.nanoTime()));
        assertSame(REQUESTED, CookieRequests.explain(InetSocketAddress.createUnresolved("x", 1), REQUESTED,
                System.nanoTime()));
    }
}
