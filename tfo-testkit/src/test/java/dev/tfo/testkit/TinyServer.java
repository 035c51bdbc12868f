package dev.tfo.testkit;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * Test main: {@code TinyServer <port> <name>}. Listens on all addresses; for each connection reads one
 * line and answers {@code <name>: <line>}. Prints {@code listening <port>}, then {@code got <line>} per
 * request. Exits when stdin says {@code quit} (or closes).
 */
public final class TinyServer {

    private TinyServer() {
    }

    /**
     * Entry point.
     *
     * @param args port, name
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        String name = args[1];
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(port));
        Thread acceptor = new Thread(() -> {
            while (true) {
                try (Socket s = server.accept()) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                            StandardCharsets.UTF_8));
                    String line = in.readLine();
                    System.out.println("got " + line);
                    OutputStream out = s.getOutputStream();
                    if (line != null && line.startsWith("GET ")) {
                        out.write(("HTTP/1.0 200 OK\r\nContent-Length: " + (name.length() + 1)
                                + "\r\nConnection: close\r\n\r\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
                    } else {
                        out.write((name + ": " + line + "\n").getBytes(StandardCharsets.UTF_8));
                    }
                    out.flush();
                } catch (Exception e) {
                    if (server.isClosed()) {
                        return;
                    }
                    System.out.println("error " + e);
                }
            }
        }, "acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
        System.out.println("listening " + port);
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String cmd;
        while ((cmd = stdin.readLine()) != null && !cmd.equals("quit")) {
            System.out.println("ignored " + cmd);
        }
        server.close();
        System.out.println("bye");
    }
}
