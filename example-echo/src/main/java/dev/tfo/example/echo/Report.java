package dev.tfo.example.echo;

import java.io.PrintStream;

/** Where a client run is reported: human text, or JSON Lines for scripts. */
public interface Report {

    /** One finished connection. */
    void connection(ConnectionResult result);

    /** The end of the run. */
    void summary(Summary summary);

    /** Human text on {@code out}: one line per connection, then the summary line. */
    static Report human(PrintStream out) {
        return new HumanReport(out);
    }

    /** JSON Lines on {@code out}: one object per connection, then one object with a {@code summary} field. */
    static Report jsonLines(PrintStream out) {
        return new JsonLinesReport(out);
    }
}
