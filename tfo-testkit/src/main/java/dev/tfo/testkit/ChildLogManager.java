package dev.tfo.testkit;

import java.util.logging.LogManager;

/**
 * The JDK {@link LogManager} of child JVMs started by {@link Host#startJava}
 * ({@code -Djava.util.logging.manager=dev.tfo.testkit.ChildLogManager}): identical, except that the
 * reset JDK logging performs in its own shutdown hook is skipped, so that the leak check that
 * {@link ChildMain} runs at exit (concurrently with that hook) still reaches its handler.
 */
public class ChildLogManager extends LogManager {

    /** Creates the log manager (the JDK does, once). */
    public ChildLogManager() {
    }

    /** Resets logging, except when called by JDK logging's shutdown hook. */
    @Override
    public void reset() {
        boolean fromShutdownHook = StackWalker.getInstance().walk(frames -> frames
                .anyMatch(f -> f.getClassName().startsWith("java.util.logging.LogManager$Cleaner")));
        if (!fromShutdownHook) {
            super.reset();
        }
    }
}
