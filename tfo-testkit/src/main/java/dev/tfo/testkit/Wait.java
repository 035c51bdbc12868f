package dev.tfo.testkit;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * A polling wait with a deadline, for conditions that offer nothing to block on (a file that grows, a
 * counter in {@code /proc}, a socket that starts listening in another namespace). Tests should wait on
 * conditions like this instead of sleeping.
 *
 * <pre>{@code
 * Wait.until("server listening", Duration.ofSeconds(5), () -> host.exec("ss", "-ltn").contains(":7"));
 * }</pre>
 */
public final class Wait {

    private static final long FIRST_PAUSE_NANOS = Duration.ofMillis(1).toNanos();
    private static final long MAX_PAUSE_NANOS = Duration.ofMillis(50).toNanos();

    private Wait() {
    }

    /**
     * Polls {@code condition} (1 ms, then backing off to 50 ms between polls) until it holds.
     *
     * @param what      what is awaited, for the timeout message
     * @param timeout   how long to wait at most
     * @param condition the condition
     * @throws LabException if the condition still does not hold at the deadline
     */
    public static void until(String what, Duration timeout, BooleanSupplier condition) {
        forValue(what, timeout, () -> condition.getAsBoolean() ? Boolean.TRUE : null);
    }

    /**
     * Polls {@code probe} until it returns a non-null value, and returns that value.
     *
     * @param what    what is awaited, for the timeout message
     * @param timeout how long to wait at most
     * @param probe   returns {@code null} while not ready
     * @param <T>     the value's type
     * @return the first non-null value
     * @throws LabException if the probe still returns {@code null} at the deadline
     */
    public static <T> T forValue(String what, Duration timeout, Supplier<T> probe) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = FIRST_PAUSE_NANOS;
        while (true) {
            T value = probe.get();
            if (value != null) {
                return value;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new LabException("timed out after " + timeout.toMillis() + " ms waiting for: " + what);
            }
            LockSupport.parkNanos(Math.min(pause, left));
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new LabException("interrupted while waiting for: " + what);
            }
            pause = Math.min(pause * 2, MAX_PAUSE_NANOS);
        }
    }
}
