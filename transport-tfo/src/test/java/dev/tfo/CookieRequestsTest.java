package dev.tfo;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

import static dev.tfo.TfoResultTest.info;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class CookieRequestsTest {
    private final CookieRequests cookieRequests = new CookieRequests();
    private static final TfoResult REQUESTED = TfoResult.client(info(1, 0, 1), null, -1, "epoll");
    private static final TfoResult ACKED = TfoResult.client(info(1, 0x20, 0), null, -1, "epoll");

    private static SocketAddress server(int last) {
        return new InetSocketAddress("198.18.222." + last, 7000);
    }

    @Test
    void aSecondRequestAfterTheFirstWasAnsweredMeansTheServerIssuesNoCookies() {
        long start1 = System.nanoTime();
        assertSame(REQUESTED, cookieRequests.explain(server(1), REQUESTED, start1));
        long start2 = System.nanoTime();
        TfoResult second = cookieRequests.explain(server(1), REQUESTED, start2);
        assertEquals(TfoOutcome.COOKIE_REQUESTED, second.outcome());
        assertEquals(CookieRequests.NONE_RETURNED, second.reason());
        assertEquals(REQUESTED.synDataBytes(), second.synDataBytes(), "same evidence");
        assertEquals(REQUESTED.transport(), second.transport(), "same evidence");
    }

    @Test
    void connectionsStartedBeforeTheFirstAnswerAreNotBlamed() {
        long startedEarly = System.nanoTime();
        assertSame(REQUESTED, cookieRequests.explain(server(2), REQUESTED, startedEarly));
        assertSame(REQUESTED, cookieRequests.explain(server(2), REQUESTED, startedEarly),
                "concurrent first connections all request a cookie, legitimately");
    }

    @Test
    void aWorkingCookieForgetsTheServer() {
        cookieRequests.explain(server(3), REQUESTED, System.nanoTime());
        assertSame(ACKED, cookieRequests.explain(server(3), ACKED, System.nanoTime()));
        assertSame(REQUESTED, cookieRequests.explain(server(3), REQUESTED, System.nanoTime()));
    }

    @Test
    void theMemoryIsBoundedAndEachOptionsObjectHasItsOwn() {
        for (int i = 0; i < CookieRequests.MAX_REMEMBERED + 100; i++) {
            cookieRequests.explain(new InetSocketAddress("198.18." + (i >> 8 & 0xff) + "." + (i & 0xff), 7000),
                    REQUESTED, System.nanoTime());
        }
        assertEquals(CookieRequests.MAX_REMEMBERED, cookieRequests.size());
        TfoClientOptions a = TfoClientOptions.builder().build();
        TfoClientOptions b = TfoClientOptions.builder().build();
        a.cookieRequests().explain(server(5), REQUESTED, System.nanoTime());
        assertEquals(1, a.cookieRequests().size());
        assertEquals(0, b.cookieRequests().size(), "tests and clients are isolated by their options");
    }

    @Test
    void otherOutcomesAndAddressesAreLeftAlone() {
        TfoResult notAttempted = TfoResult.client(info(1, 0, 0), "backoff", -1, "epoll");
        assertSame(notAttempted, cookieRequests.explain(server(4), notAttempted, System.nanoTime()));
        assertSame(REQUESTED, cookieRequests.explain(null, REQUESTED, System.nanoTime()));
        assertSame(REQUESTED, cookieRequests.explain(InetSocketAddress.createUnresolved("x", 1), REQUESTED,
                System.nanoTime()));
    }
}
