package dev.tfo.example.echo;

import dev.tfo.testkit.Host;
import dev.tfo.testkit.HostProcess;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server on its own: echo, per-connection log line, bind failure, graceful stop on SIGTERM. */
class EchoServerTest {
    private final EventLoopGroup group = NettyTransport.best().newGroup(1);
    private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
    private final PrintStream log = new PrintStream(logBytes, true, StandardCharsets.UTF_8);

    @AfterEach
    void shutdown() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void echoesAPlainClientAndLogsTheOutcome() throws Exception {
        try (EchoServer server = EchoServer.start(group, NettyTransport.best(),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), log)) {
            byte[] sent = "plain socket, no TFO".getBytes(StandardCharsets.US_ASCII);
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.localAddress().getPort())) {
                s.getOutputStream().write(sent);
                assertArrayEquals(sent, s.getInputStream().readNBytes(sent.length));
            }
            assertEquals(1, server.accepted());
            String text = logBytes.toString(StandardCharsets.UTF_8);
            assertTrue(text.startsWith("server: listening on 127.0.0.1:" + server.localAddress().getPort()), text);
            assertTrue(text.contains("server: connection 1 from 127.0.0.1:"), text);
            // A plain java.net.Socket never puts data in the SYN.
            assertTrue(text.contains(": NO_SYN_DATA ("), text);
        }
        assertTrue(logBytes.toString(StandardCharsets.UTF_8).endsWith("server: stopped after 1 connection(s)\n"));
    }

    @Test
    void portInUseIsAnEchoException() throws Exception {
        try (EchoServer first = EchoServer.start(group, NettyTransport.best(),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), log)) {
            EchoException e = assertThrows(EchoException.class, () -> EchoServer.start(group, NettyTransport.best(),
                    first.localAddress(), log));
            assertTrue(e.getMessage().startsWith("cannot listen on 127.0.0.1:" + first.localAddress().getPort()
                    + ": "), e.getMessage());
            assertTrue(e.getMessage().contains("Address already in use"), e.getMessage());
        }
    }

    @Test
    void listenOnlyServesUntilSigtermThenStopsGracefully() throws Exception {
        try (HostProcess proc = Host.current().startJava(Main.class, "--listen-only", "-s", "127.0.0.1", "-p", "0")) {
            String listening = proc.awaitLine(l -> l.startsWith("server: listening on 127.0.0.1:"), Duration.ofSeconds(20));
            int port = Integer.parseInt(listening.replaceAll(".*:(\\d+) .*", "$1"));
            byte[] sent = "until SIGTERM".getBytes(StandardCharsets.US_ASCII);
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                s.getOutputStream().write(sent);
                assertArrayEquals(sent, s.getInputStream().readNBytes(sent.length));
            }
            proc.awaitLine(l -> l.startsWith("server: connection 1 from"), Duration.ofSeconds(5));
            // SIGTERM through ProcessHandle: Process.destroy() (and so HostProcess.close()) also closes the pipes,
            // which would lose what the shutdown hook prints.
            ProcessHandle.of(proc.pid()).orElseThrow().destroy();
            int exit = proc.awaitExit(Duration.ofSeconds(10));
            assertEquals(128 + 15, exit, proc::transcript);
            assertTrue(proc.lines().contains("server: shutting down"), proc::transcript);
            assertEquals("server: stopped after 1 connection(s)", proc.lines().get(proc.lines().size() - 1),
                    proc::transcript);
            assertEquals(java.util.List.of(), proc.leakReports(), proc::transcript);
        }
    }
}
