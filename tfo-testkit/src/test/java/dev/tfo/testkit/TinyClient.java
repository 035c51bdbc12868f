package dev.tfo.testkit;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * Test main: {@code TinyClient <host> <port> <message>}. Connects (10 s timeout), sends the message as
 * one line, prints {@code connect-ms <n>} and {@code reply <line>}, exits 0; exits 1 on failure.
 */
public final class TinyClient {

    private TinyClient() {
    }

    /**
     * Entry point.
     *
     * @param args host, port, message
     */
    public static void main(String[] args) {
        try (Socket s = new Socket()) {
            long start = System.nanoTime();
            s.connect(new InetSocketAddress(args[0], Integer.parseInt(args[1])), 10_000);
            System.out.println("connect-ms " + (System.nanoTime() - start) / 1_000_000);
            s.getOutputStream().write((args[2] + "\n").getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            System.out.println("reply " + in.readLine());
        } catch (Exception e) {
            System.out.println("failed " + e);
            System.exit(1);
        }
    }
}
