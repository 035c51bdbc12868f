package dev.tfo.testkit;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * Test main: prints {@code ready <args>}, then {@code echo <line>} per stdin line; {@code exit N} exits
 * with code N after printing {@code to-stderr} on stderr.
 */
public final class EchoStdin {

    private EchoStdin() {
    }

    /**
     * Entry point.
     *
     * @param args printed after "ready"
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        System.out.println("ready " + String.join(",", args));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.startsWith("exit ")) {
                System.err.println("to-stderr");
                System.exit(Integer.parseInt(line.substring(5)));
            }
            System.out.println("echo " + line);
        }
    }
}
