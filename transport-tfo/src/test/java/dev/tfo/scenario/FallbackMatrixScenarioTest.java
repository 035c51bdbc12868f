package dev.tfo.scenario;

import dev.tfo.testkit.Host;
import dev.tfo.testkit.Lab;
import dev.tfo.testkit.NeedsLab;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fallback matrix: clients with net.ipv4.tcp_fastopen 0/1/3 (and an NIO client) against servers with
 * 0/1/3 (and a listener without TCP_FASTOPEN), two connections each. Every byte is delivered every time;
 * the outcome says whether TFO happened and, when it did not, why.
 */
@NeedsLab
class FallbackMatrixScenarioTest {
    private static final int CONNECTIONS = 2;
    private static final int SIZE = 3000;

    @Test
    void everyCombinationDeliversTheSameBytesAndExplainsItself() {
        try (Lab lab = Lab.create()) {
            Map<String, Host> servers = new LinkedHashMap<>();
            servers.put("server0", lab.host("s0").sysctl("net.ipv4.tcp_fastopen", "0"));
            servers.put("server1", lab.host("s1").sysctl("net.ipv4.tcp_fastopen", "1"));
            servers.put("server3", lab.host("s3").sysctl("net.ipv4.tcp_fastopen", "3"));
            servers.put("server3-no-option", lab.host("s3n").sysctl("net.ipv4.tcp_fastopen", "3"));
            Map<String, Host> clients = new LinkedHashMap<>();
            clients.put("client0", lab.host("c0").sysctl("net.ipv4.tcp_fastopen", "0"));
            clients.put("client1", lab.host("c1").sysctl("net.ipv4.tcp_fastopen", "1"));
            clients.put("client3", lab.host("c3").sysctl("net.ipv4.tcp_fastopen", "3"));
            clients.put("client3-nio", lab.host("c3nio").sysctl("net.ipv4.tcp_fastopen", "3"));

            List<Driver> agents = new ArrayList<>();
            servers.forEach((name, host) -> {
                agents.add(Driver.server(host, "port=7000", "quiet=true",
                        name.endsWith("no-option") ? "tfo=off" : "tfo=on"));
            });
            List<String> problems = new ArrayList<>();
            int cases = 0;
            for (Map.Entry<String, Host> c : clients.entrySet()) {
                Driver client = Driver.client(c.getValue(), "host=127.0.0.1", "port=7000", "backoff=off",
                        "transport=" + (c.getKey().endsWith("nio") ? "nio" : "epoll"));
                agents.add(client);
                for (Map.Entry<String, Host> s : servers.entrySet()) {
                    String ip = lab.link(c.getValue(), s.getValue()).address(s.getValue()).getHostAddress();
                    List<String> expected = expected(c.getKey(), s.getKey());
                    for (int i = 0; i < CONNECTIONS; i++) {
                        Driver.Run run = new Driver.Run(client.command("RUN 1 1 " + SIZE + " " + ip,
                                l -> l.startsWith("DONE "), Duration.ofSeconds(30)));
                        Driver.Conn conn = run.single();
                        cases++;
                        String where = c.getKey() + " -> " + s.getKey() + " #" + (i + 1) + ": " + conn;
                        if (!conn.intact || conn.bytes != SIZE) {
                            problems.add("NOT DELIVERED " + where);
                        }
                        String want = expected.get(i);
                        if (!conn.outcome.equals(want.split(":")[0])) {
                            problems.add("expected " + want + ", got " + where);
                        } else if (want.contains(":") && !conn.rest.contains(want.substring(want.indexOf(':') + 1))) {
                            problems.add("reason should say '" + want.substring(want.indexOf(':') + 1) + "': " + where);
                        }
                    }
                }
            }
            for (Driver d : agents) {
                d.process().send("QUIT");
                assertEquals(0, d.process().awaitExit(Duration.ofSeconds(20)), d.process().transcript());
                assertTrue(d.process().leakReports().isEmpty(), d.process().leakReports().toString());
            }
            assertEquals(clients.size() * servers.size() * CONNECTIONS, cases);
            assertTrue(problems.isEmpty(), String.join("\n", problems));
        }
    }

    /** Outcome per connection, optionally with a fragment the reason must contain after a colon. */
    private static List<String> expected(String client, String server) {
        if (client.endsWith("nio")) {
            return List.of("NOT_ATTEMPTED:NioSocketChannel cannot send data in a SYN",
                    "NOT_ATTEMPTED:NioSocketChannel cannot send data in a SYN");
        }
        if (client.equals("client0")) {
            return List.of("NOT_ATTEMPTED:lacks the client bit 0x1 (live value: 0)",
                    "NOT_ATTEMPTED:lacks the client bit 0x1 (live value: 0)");
        }
        if (server.equals("server3")) {
            return List.of("COOKIE_REQUESTED", "SYN_DATA_ACKED");
        }
        // Servers that never issue a cookie: the client asks again on every connection, and says so.
        return List.of("COOKIE_REQUESTED:no cookie was cached", "COOKIE_REQUESTED:the server does not issue cookies");
    }
}
