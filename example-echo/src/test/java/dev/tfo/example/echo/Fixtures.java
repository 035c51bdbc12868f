package dev.tfo.example.echo;

import dev.tfo.TfoCounters;
import dev.tfo.TfoOutcome;

/** Hand-made results for the report tests. */
final class Fixtures {
    private Fixtures() {
    }

    static TfoCounters counters(long active, long passive, long cookieReqd) {
        return TfoCounters.parse("TcpExt: SyncookiesSent TCPFastOpenActive TCPFastOpenPassive TCPFastOpenCookieReqd\n"
                + "TcpExt: 0 " + active + " " + passive + " " + cookieReqd + "\n");
    }

    static ConnectionResult result(int index, TfoOutcome outcome) {
        return new ConnectionResult(index, 21, 21, -1, outcome, "why " + outcome, 1_234_567L,
                outcome.dataInSyn() ? counters(1, 1, 0) : counters(0, 0, 1));
    }
}
