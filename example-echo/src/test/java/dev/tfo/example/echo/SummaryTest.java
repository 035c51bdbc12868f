package dev.tfo.example.echo;

import dev.tfo.TfoOutcome;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.tfo.TfoOutcome.COOKIE_REQUESTED;
import static dev.tfo.TfoOutcome.DATA_NOT_ACKED;
import static dev.tfo.TfoOutcome.NOT_ATTEMPTED;
import static dev.tfo.TfoOutcome.SYN_DATA_ACKED;
import static dev.tfo.TfoOutcome.SYN_RETRANSMITTED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SummaryTest {

    private static Summary of(TfoOutcome... outcomes) {
        List<ConnectionResult> results = new ArrayList<>();
        for (TfoOutcome o : outcomes) {
            results.add(Fixtures.result(results.size() + 1, o));
        }
        return Summary.of(results);
    }

    @Test
    void theIssuesExampleWording() {
        TfoOutcome[] outcomes = new TfoOutcome[10];
        java.util.Arrays.fill(outcomes, SYN_DATA_ACKED);
        outcomes[0] = COOKIE_REQUESTED;
        Summary s = of(outcomes);
        assertEquals("9/10 connections carried data in the SYN; 1 requested a cookie", s.text());
        assertEquals(9, s.dataInSyn());
        assertEquals(1, s.count(COOKIE_REQUESTED));
        assertTrue(s.allIntact());
    }

    @Test
    void singularAndAllInTheSyn() {
        assertEquals("1/1 connection carried data in the SYN", of(SYN_DATA_ACKED).text());
        assertEquals("0/1 connection carried data in the SYN; 1 did not attempt TFO", of(NOT_ATTEMPTED).text());
    }

    @Test
    void everyFailureKindIsCountedInAFixedOrder() {
        assertEquals("1/6 connections carried data in the SYN; 2 requested a cookie; "
                        + "1 had its SYN data not acked by the server; 1 had its SYN with data retransmitted; "
                        + "1 did not attempt TFO",
                of(NOT_ATTEMPTED, SYN_RETRANSMITTED, DATA_NOT_ACKED, COOKIE_REQUESTED, SYN_DATA_ACKED, COOKIE_REQUESTED)
                        .text());
    }

    @Test
    void corruptedConnectionsAreCalledOut() {
        ConnectionResult bad = new ConnectionResult(2, 21, 21, 7, SYN_DATA_ACKED, "ok", 1, null);
        Summary s = Summary.of(List.of(Fixtures.result(1, COOKIE_REQUESTED), bad));
        assertFalse(s.allIntact());
        assertEquals(1, s.intact());
        assertEquals("1/2 connections carried data in the SYN; 1 requested a cookie; 1 NOT echoed intact", s.text());
    }
}
