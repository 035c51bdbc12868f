package dev.tfo.testkit;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * The trampoline that {@link Host#startJava} runs: {@code ChildMain <mainClass> args...}. It forces
 * Netty's logging to JDK logging (so leak records are never swallowed), prints every leak record on
 * stderr (where {@link HostProcess#leakReports()} finds them), runs the main class, and at JVM exit
 * forces one last leak detection.
 */
public final class ChildMain {

    private ChildMain() {
    }

    /**
     * Runs {@code args[0]}'s main with the remaining arguments.
     *
     * @param args the main class name, then its arguments
     * @throws Throwable whatever the main throws
     */
    public static void main(String[] args) throws Throwable {
        if (args.length == 0) {
            System.err.println("usage: ChildMain <mainClass> [args...]");
            System.exit(2);
        }
        LeakRecorder.install();
        LeakRecorder.echoTo(System.err);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LeakRecorder.echoTo(System.err);
            LeakRecorder.detectLeaks(3);
            System.err.flush();
        }, "leak-check-at-exit"));
        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
