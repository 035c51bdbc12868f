package dev.tfo.example.echo;

import dev.tfo.TfoOutcome;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/**
 * JSON Lines, written by hand (no JSON library): one object per connection, e.g.
 * {@code {"index":2,"bytesSent":26,"bytesEchoed":26,"intact":true,"outcome":"SYN_DATA_ACKED",...,"elapsedMs":0.412}},
 * then {@code {"summary":"2/3 connections carried data in the SYN; 1 requested a cookie",...}}.
 */
final class JsonLinesReport implements Report {
    private final PrintStream out;

    JsonLinesReport(PrintStream out) {
        this.out = out;
    }

    @Override
    public void connection(ConnectionResult r) {
        StringBuilder json = new StringBuilder(256)
                .append("{\"index\":").append(r.index())
                .append(",\"bytesSent\":").append(r.bytesSent())
                .append(",\"bytesEchoed\":").append(r.bytesEchoed())
                .append(",\"intact\":").append(r.intact())
                .append(",\"firstMismatch\":").append(r.firstMismatch())
                .append(",\"outcome\":").append(quote(r.outcome().name()))
                .append(",\"dataInSyn\":").append(r.outcome().dataInSyn())
                .append(",\"reason\":").append(quote(r.reason()))
                .append(",\"elapsedMs\":").append(String.format(Locale.ROOT, "%.3f", r.elapsedMs()))
                .append(",\"counters\":");
        if (r.counters() == null) {
            json.append("null");
        } else {
            appendCounts(json, KernelCounters.of(r.counters()));
        }
        out.println(json.append('}'));
    }

    @Override
    public void summary(Summary s) {
        StringBuilder json = new StringBuilder(256)
                .append("{\"summary\":").append(quote(s.text()))
                .append(",\"connections\":").append(s.connections())
                .append(",\"dataInSyn\":").append(s.dataInSyn())
                .append(",\"intact\":").append(s.intact())
                .append(",\"outcomes\":{");
        boolean first = true;
        for (TfoOutcome outcome : TfoOutcome.values()) { // a stable order
            if (s.count(outcome) > 0) {
                json.append(first ? "" : ",").append(quote(outcome.name())).append(':').append(s.count(outcome));
                first = false;
            }
        }
        out.println(json.append("}}"));
    }

    private static void appendCounts(StringBuilder json, Map<String, Long> counts) {
        json.append('{');
        boolean first = true;
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            json.append(first ? "" : ",").append(quote(e.getKey())).append(':').append(e.getValue());
            first = false;
        }
        json.append('}');
    }

    /**
     * A JSON string literal (RFC 8259): quotes, backslashes and control characters escaped; everything
     * outside printable ASCII as {@code \}{@code uXXXX}, so the output is valid whatever the console's charset.
     */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"':
                    sb.append("\\\"");
                    break;
                case '\\':
                    sb.append("\\\\");
                    break;
                case '\n':
                    sb.append("\\n");
                    break;
                case '\r':
                    sb.append("\\r");
                    break;
                case '\t':
                    sb.append("\\t");
                    break;
                case '\b':
                    sb.append("\\b");
                    break;
                case '\f':
                    sb.append("\\f");
                    break;
                default:
                    if (c < 0x20 || c > 0x7e) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        return sb.append('"').toString();
    }
}
