package dev.tfo.scenario;

import dev.tfo.testkit.Host;
import dev.tfo.testkit.HostProcess;
import dev.tfo.testkit.Lab;
import dev.tfo.testkit.Link;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A client host and a server host joined by a veth, both with tcp_fastopen=3 (scenario helper). */
final class Net implements AutoCloseable {

    final Lab lab;
    final Host client;
    final Host server;
    final Link link;
    private final List<Driver> agents = new ArrayList<>();

    Net() {
        lab = Lab.create();
        try {
            client = lab.host("client").sysctl("net.ipv4.tcp_fastopen", "3");
            server = lab.host("server").sysctl("net.ipv4.tcp_fastopen", "3")
                    .sysctl("net.core.somaxconn", "4096");
            link = lab.link(client, server);
        } catch (RuntimeException e) {
            lab.close();
            throw e;
        }
    }

    String serverIp() {
        return link.address(server).getHostAddress();
    }

    Driver startServer(Host host, String... args) {
        Driver d = Driver.server(host, args);
        agents.add(d);
        return d;
    }

    Driver startClient(Host host, String... args) {
        Driver d = Driver.client(host, args);
        agents.add(d);
        return d;
    }

    /**
     * Starts another agent main on {@code host} (a scenario's own agent), finished by {@link #finish()} like the
     * others; awaits its first stdout line starting with {@code ready} unless that is {@code null}.
     */
    Driver startAgent(Host host, Class<?> main, String ready, String... args) {
        Driver d = new Driver(host.startJava(main, args));
        agents.add(d);
        if (ready != null) {
            d.process().awaitLine(l -> l.startsWith(ready), Driver.START);
        }
        return d;
    }

    /** QUITs every agent, awaits its exit and asserts it exited 0 without a LEAK report. */
    void finish() {
        for (Driver d : agents) {
            HostProcess p = d.process();
            if (p.isAlive()) {
                p.send("QUIT");
                p.closeStdin();
            }
            int rc = p.awaitExit(Duration.ofSeconds(30));
            assertEquals(0, rc, p.transcript());
            assertTrue(p.leakReports().isEmpty(), "LEAK reported:\n" + p.transcript());
        }
        agents.clear();
    }

    @Override
    public void close() {
        lab.close();
    }
}
