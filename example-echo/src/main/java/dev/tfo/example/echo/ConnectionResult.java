package dev.tfo.example.echo;

import dev.tfo.TfoCounters;
import dev.tfo.TfoOutcome;

/**
 * What one echo connection did: bytes sent and echoed, whether the echo was intact, and whether TCP Fast
 * Open carried the data in the SYN (with the kernel's counters as a second witness).
 *
 * @param index         1-based connection number
 * @param bytesSent     the payload's length (all of it was the first flight)
 * @param bytesEchoed   bytes received back
 * @param firstMismatch offset of the first echoed byte that differs from the one sent, or -1
 * @param outcome       the TFO outcome from the client socket's {@code tcp_info}
 * @param reason        why, in words
 * @param elapsedNanos  from the start of the connect to the last echoed byte
 * @param counters      the change of the namespace's {@code TCPFastOpen*} counters during the connection, or
 *                      {@code null} when they cannot be read (not Linux)
 */
public record ConnectionResult(int index, int bytesSent, int bytesEchoed, int firstMismatch, TfoOutcome outcome,
                               String reason, long elapsedNanos, TfoCounters counters) {

    /** Every byte came back, unchanged, and nothing more. */
    public boolean intact() {
        return firstMismatch < 0 && bytesEchoed == bytesSent;
    }

    /** {@link #elapsedNanos()} in milliseconds. */
    public double elapsedMs() {
        return elapsedNanos / 1e6;
    }
}
