package dev.tfo.example.echo;

import org.junit.jupiter.api.Test;

import static dev.tfo.TfoOutcome.SYN_DATA_ACKED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConnectionResultTest {

    @Test
    void intactMeansEveryByteBackUnchangedAndNothingMore() {
        assertTrue(new ConnectionResult(1, 5, 5, -1, SYN_DATA_ACKED, "r", 1, null).intact());
        assertFalse(new ConnectionResult(1, 5, 4, -1, SYN_DATA_ACKED, "r", 1, null).intact(), "short");
        assertFalse(new ConnectionResult(1, 5, 5, 0, SYN_DATA_ACKED, "r", 1, null).intact(), "changed");
        assertFalse(new ConnectionResult(1, 5, 6, 5, SYN_DATA_ACKED, "r", 1, null).intact(), "longer");
    }

    @Test
    void elapsedInMilliseconds() {
        assertEquals(1.5, new ConnectionResult(1, 5, 5, -1, SYN_DATA_ACKED, "r", 1_500_000, null).elapsedMs());
    }
}
