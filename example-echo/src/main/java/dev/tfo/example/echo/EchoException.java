package dev.tfo.example.echo;

/**
 * An expected failure (port in use, unreachable server, early close, ...): {@link Main} prints its message
 * as one line on stderr and exits with status 1, without a stack trace.
 */
public final class EchoException extends Exception {
    private static final long serialVersionUID = 1L;

    /** @param message the one-line message shown to the user */
    public EchoException(String message) {
        super(message);
    }

    /**
     * @param message the one-line message shown to the user
     * @param cause   the underlying failure (kept for debugging, never printed)
     */
    public EchoException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The most telling message of a Netty or JDK failure, on one line. */
    static String describe(Throwable t) {
        Throwable cause = t;
        // Skip wrappers that add nothing (no message, or just "SomeException: <the cause's message>").
        while (cause.getCause() != null
                && (cause.getMessage() == null || cause.getMessage().equals(cause.getCause().toString()))) {
            cause = cause.getCause();
        }
        String message = cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
        return message.replaceAll("\\s*\\R\\s*", " ");
    }
}
