package dev.tfo.testkit;

/**
 * Thrown when the test lab cannot do what was asked: a command failed, a process did not print the
 * expected line in time, a capture could not start. The message always carries the evidence (command,
 * exit code, stderr, output so far).
 */
public class LabException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception with a message.
     *
     * @param message what failed, with the evidence
     */
    public LabException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a message and a cause.
     *
     * @param message what failed, with the evidence
     * @param cause   the underlying failure
     */
    public LabException(String message, Throwable cause) {
        super(message, cause);
    }
}
