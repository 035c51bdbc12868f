package dev.tfo.example.echo;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static dev.tfo.TfoOutcome.COOKIE_REQUESTED;
import static dev.tfo.TfoOutcome.SYN_DATA_ACKED;
import static org.junit.jupiter.api.Assertions.assertEquals;

class HumanReportTest {

    @Test
    void oneLinePerConnectionThenTheSummary() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Report report = Report.human(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        ConnectionResult first = Fixtures.result(1, COOKIE_REQUESTED);
        ConnectionResult second = Fixtures.result(2, SYN_DATA_ACKED);
        report.connection(first);
        report.connection(second);
        report.connection(new ConnectionResult(3, 10, 4, -1, SYN_DATA_ACKED, "r", 500_000, null));
        report.connection(new ConnectionResult(4, 10, 10, 3, SYN_DATA_ACKED, "r", 500_000, Fixtures.counters(0, 0, 0)));
        report.summary(Summary.of(List.of(first, second)));
        assertEquals(List.of(
                "connection 1: sent 21 bytes, echoed 21 bytes intact in 1.235 ms; COOKIE_REQUESTED (why COOKIE_REQUESTED); counters CookieReqd+1",
                "connection 2: sent 21 bytes, echoed 21 bytes intact in 1.235 ms; SYN_DATA_ACKED (why SYN_DATA_ACKED); counters Active+1 Passive+1",
                "connection 3: sent 10 bytes, echoed 4 bytes INCOMPLETE in 0.500 ms; SYN_DATA_ACKED (r); counters unavailable",
                "connection 4: sent 10 bytes, echoed 10 bytes CORRUPTED from byte 3 in 0.500 ms; SYN_DATA_ACKED (r); counters unchanged",
                "1/2 connections carried data in the SYN; 1 requested a cookie"),
                bytes.toString(StandardCharsets.UTF_8).lines().toList());
    }

    @Test
    void countersShowOnlyWhatChanged() {
        assertEquals("counters Active+1 Passive+1",
                HumanReport.counters(Fixtures.counters(3, 2, 1).minus(Fixtures.counters(2, 1, 1))));
        assertEquals("counters unchanged", HumanReport.counters(Fixtures.counters(3, 2, 1).minus(Fixtures.counters(3, 2, 1))));
        assertEquals("counters unavailable", HumanReport.counters(null));
    }
}
