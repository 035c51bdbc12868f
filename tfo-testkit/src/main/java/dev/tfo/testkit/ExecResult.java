package dev.tfo.testkit;

import java.util.List;

/**
 * The outcome of a finished command: its exit code and everything it printed.
 *
 * @param command  the command line that ran (as given to the OS)
 * @param exitCode the exit code (or -1 if it had to be killed on timeout)
 * @param stdout   everything printed on standard output
 * @param stderr   everything printed on standard error
 */
public record ExecResult(List<String> command, int exitCode, String stdout, String stderr) {

    /**
     * Tells whether the command succeeded.
     *
     * @return {@code true} if the exit code is 0
     */
    public boolean ok() {
        return exitCode == 0;
    }

    /**
     * Returns this result if the command succeeded, else throws.
     *
     * @return this result
     * @throws LabException naming the command, its exit code, stderr and stdout, if the exit code is not 0
     */
    public ExecResult orThrow() {
        if (!ok()) {
            throw new LabException("command failed (exit " + exitCode + "): " + String.join(" ", command)
                    + (stderr.isBlank() ? "" : "\n--- stderr ---\n" + stderr.strip())
                    + (stdout.isBlank() ? "" : "\n--- stdout ---\n" + stdout.strip()));
        }
        return this;
    }
}
