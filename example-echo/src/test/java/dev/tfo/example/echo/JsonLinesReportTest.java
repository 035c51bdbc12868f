package dev.tfo.example.echo;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static dev.tfo.TfoOutcome.COOKIE_REQUESTED;
import static dev.tfo.TfoOutcome.SYN_DATA_ACKED;
import static org.junit.jupiter.api.Assertions.assertEquals;

class JsonLinesReportTest {

    @Test
    void escapesQuotesBackslashesControlsAndNonAscii() {
        assertEquals("\"plain\"", JsonLinesReport.quote("plain"));
        assertEquals("\"a\\\"b\\\\c/d\"", JsonLinesReport.quote("a\"b\\c/d"));
        assertEquals("\"\\n\\r\\t\\b\\f\\u0000\\u001f\\u007f\"", JsonLinesReport.quote("\n\r\t\b\f\u0000\u001f\u007f"));
        assertEquals("\"h\\u00e9llo \\u2028 \\ud83d\\ude80\"", JsonLinesReport.quote("héllo \u2028 \uD83D\uDE80"));
        assertEquals("\"\"", JsonLinesReport.quote(""));
    }

    @Test
    void escapedTextReadsBackIdentically() {
        String nasty = "q\"b\\s\n\t\u0001 é 🚀 </script>";
        assertEquals(nasty, Json.fields("{\"reason\":" + JsonLinesReport.quote(nasty) + "}").get("reason"));
    }

    @Test
    void oneObjectPerConnectionThenTheSummaryObject() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Report report = Report.jsonLines(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        ConnectionResult first = Fixtures.result(1, COOKIE_REQUESTED);
        ConnectionResult second = new ConnectionResult(2, 21, 21, -1, SYN_DATA_ACKED, "said \"ok\"\n", 412_000, null);
        report.connection(first);
        report.connection(second);
        report.summary(Summary.of(List.of(first, second)));
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(List.of(
                "{\"index\":1,\"bytesSent\":21,\"bytesEchoed\":21,\"intact\":true,\"firstMismatch\":-1,"
                        + "\"outcome\":\"COOKIE_REQUESTED\",\"dataInSyn\":false,\"reason\":\"why COOKIE_REQUESTED\","
                        + "\"elapsedMs\":1.235,\"counters\":{\"TCPFastOpenActive\":0,\"TCPFastOpenActiveFail\":0,"
                        + "\"TCPFastOpenPassive\":0,\"TCPFastOpenPassiveFail\":0,\"TCPFastOpenListenOverflow\":0,"
                        + "\"TCPFastOpenCookieReqd\":1,\"TCPFastOpenBlackhole\":0,\"TCPFastOpenPassiveAltKey\":0}}",
                "{\"index\":2,\"bytesSent\":21,\"bytesEchoed\":21,\"intact\":true,\"firstMismatch\":-1,"
                        + "\"outcome\":\"SYN_DATA_ACKED\",\"dataInSyn\":true,\"reason\":\"said \\\"ok\\\"\\n\","
                        + "\"elapsedMs\":0.412,\"counters\":null}",
                "{\"summary\":\"1/2 connections carried data in the SYN; 1 requested a cookie\",\"connections\":2,"
                        + "\"dataInSyn\":1,\"intact\":2,\"outcomes\":{\"SYN_DATA_ACKED\":1,\"COOKIE_REQUESTED\":1}}"),
                lines);
        Map<String, String> parsed = Json.fields(lines.get(1));
        assertEquals("said \"ok\"\n", parsed.get("reason"));
        assertEquals("0.412", parsed.get("elapsedMs"));
    }
}
