package dev.tfo.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The multi-host lab: namespaces, links, sysctls, processes, captures, faults, VIP, cleanup. */
@NeedsLab
class LabTest {

    private static final Duration T = Duration.ofSeconds(30);

    private static HostProcess server(Host host, int port, String name) {
        HostProcess p = host.startJava(TinyServer.class, String.valueOf(port), name);
        p.awaitLine(l -> l.equals("listening " + port), T);
        return p;
    }

    private static String request(Host client, String address, int port, String message) {
        HostProcess c = client.startJava(TinyClient.class, address, String.valueOf(port), message);
        assertEquals(0, c.awaitExit(T), c.transcript());
        return c.awaitLine(l -> l.startsWith("reply "), T).substring("reply ".length());
    }

    private static long connectMillis(HostProcess client) {
        return Long.parseLong(client.awaitLine(l -> l.startsWith("connect-ms "), T).substring(11));
    }

    @Test
    void twoHostsOnALinkTalkTcp() {
        try (Lab lab = Lab.create()) {
            Host a = lab.host("a");
            Host b = lab.host("b");
            Link link = lab.link(a, b);
            assertEquals("198.18.1.1", link.address(a).getHostAddress());
            assertEquals("198.18.1.2", link.address(b).getHostAddress());
            assertEquals("eth0", link.iface(a));
            assertTrue(b.exec("ip", "-o", "addr", "show", "dev", link.iface(b)).contains("198.18.1.2/24"));
            server(b, 7000, "b");
            assertEquals("b: hi", request(a, link.address(b).getHostAddress(), 7000, "hi"));
            // a second link gets its own /24 and interface names
            Host c = lab.host("c");
            Link second = lab.link(a, c);
            assertEquals("198.18.2.1", second.address(a).getHostAddress());
            assertEquals("eth1", second.iface(a));
        }
    }

    @Test
    void sysctlIsPerNamespace() throws Exception {
        String hostValue = Files.readString(TestEnvironment.TCP_FASTOPEN).trim();
        try (Lab lab = Lab.create()) {
            Host a = lab.host("a").sysctl("net.ipv4.tcp_fastopen", "3");
            Host b = lab.host("b");
            assertEquals("3", a.sysctl("net.ipv4.tcp_fastopen"));
            assertEquals("1", b.sysctl("net.ipv4.tcp_fastopen")); // a new namespace starts at 1
            a.sysctl("net.ipv4.tcp_fastopen", "1027");
            assertEquals("1027", a.sysctl("net.ipv4.tcp_fastopen"));
            assertTrue(a.netstat().contains("TCPFastOpenActive"), a.netstat());
            assertEquals(0, a.tcpExt("TCPFastOpenActive"));
        }
        assertEquals(hostValue, Files.readString(TestEnvironment.TCP_FASTOPEN).trim(),
                "the machine's own net.ipv4.tcp_fastopen must never change");
    }

    @Test
    void startJavaInAHostRunsInItsNamespace() {
        try (Lab lab = Lab.create()) {
            Host h = lab.host("solo");
            HostProcess p = h.startJava(EchoStdin.class, "in", h.name());
            assertEquals("ready in," + h.name(), p.awaitLine(l -> l.startsWith("ready"), T));
            p.send("ping");
            p.awaitLine("echo ping"::equals, T);
            String pids = h.exec("ip", "netns", "identify", String.valueOf(p.pid()));
            assertEquals(h.name(), pids.trim());
            p.send("exit 0");
            assertEquals(0, p.awaitExit(T));
        }
    }

    @Test
    void captureSeesTheDataSent() {
        try (Lab lab = Lab.create()) {
            Host client = lab.host("client");
            Host server = lab.host("server");
            Link link = lab.link(client, server);
            server(server, 7001, "srv");
            try (Capture cap = server.capture(link.iface(server), "tcp port 7001")) {
                assertEquals("srv: captured-payload", request(client, link.address(server).getHostAddress(), 7001,
                        "captured-payload"));
                Packet data = cap.await(p -> p.dstPort() == 7001 && p.payloadLength() > 0, T);
                assertArrayEquals("captured-payload\n".getBytes(StandardCharsets.US_ASCII), data.payload());
                assertEquals(link.address(client), data.srcAddress());
                List<Packet> all = cap.stop();
                assertTrue(all.get(0).isSyn(), Capture.render(all));
                assertTrue(all.stream().anyMatch(Packet::isSynAck), Capture.render(all));
                assertTrue(Files.exists(cap.file()));
            }
        }
    }

    /** TFO without Netty: curl --tcp-fastopen (TCP_FASTOPEN_CONNECT) with the no-cookie sysctl bits. */
    @Test
    void captureSeesASynCarryingData() {
        assumeCurl();
        try (Lab lab = Lab.create()) {
            Host client = lab.host("client").sysctl("net.ipv4.tcp_fastopen", "5"); // client + no cookie
            Host server = lab.host("server").sysctl("net.ipv4.tcp_fastopen", "1539"); // + any listener, no cookie
            Link link = lab.link(client, server);
            server(server, 7002, "tfo");
            try (Capture cap = server.capture(link.iface(server), "tcp port 7002")) {
                String body = client.exec("curl", "-sS", "--max-time", "10", "--tcp-fastopen",
                        "http://" + link.address(server).getHostAddress() + ":7002/first-flight");
                assertEquals("tfo", body.trim());
                Packet syn = cap.await(Packet::isSyn, T);
                assertTrue(syn.isSynWithData(), Capture.render(cap.packets()));
                String payload = new String(syn.payload(), StandardCharsets.US_ASCII);
                assertTrue(payload.startsWith("GET /first-flight"), payload);
            }
            assertEquals(1, server.tcpExt("TCPFastOpenPassive"), server.netstat());
        }
    }

    @Test
    void dropSynWithDataDropsOnlyTheFirstFlightSyn() {
        assumeCurl();
        try (Lab lab = Lab.create()) {
            Host client = lab.host("client").sysctl("net.ipv4.tcp_fastopen", "5");
            Host server = lab.host("server").sysctl("net.ipv4.tcp_fastopen", "1539");
            Link link = lab.link(client, server);
            server(server, 7003, "blackholed");
            try (Rule drop = server.dropSynWithData();
                    Capture cap = server.capture(link.iface(server), "tcp port 7003")) {
                String body = client.exec("curl", "-sS", "--max-time", "20", "--tcp-fastopen",
                        "http://" + link.address(server).getHostAddress() + ":7003/x");
                assertEquals("blackholed", body.trim()); // delivered after the plain SYN retry
                assertTrue(drop.packets() >= 1, drop + " matched nothing\n" + Capture.render(cap.packets()));
                List<Packet> syns = cap.packets().stream().filter(Packet::isSyn).toList();
                assertTrue(syns.get(0).isSynWithData(), Capture.render(syns));
                assertTrue(syns.stream().anyMatch(p -> p.payloadLength() == 0), Capture.render(syns));
            }
            assertEquals(0, server.tcpExt("TCPFastOpenPassive"));
            // The rule is gone after close: the next first flight gets through.
            String again = client.exec("curl", "-sS", "--max-time", "10", "--tcp-fastopen",
                    "http://" + link.address(server).getHostAddress() + ":7003/y");
            assertEquals("blackholed", again.trim());
            assertEquals(1, server.tcpExt("TCPFastOpenPassive"));
        }
    }

    @Test
    void dropFirstSynAckDropsExactlyOne() {
        try (Lab lab = Lab.create()) {
            Host client = lab.host("client");
            Host server = lab.host("server");
            Link link = lab.link(client, server);
            server(server, 7004, "s");
            String addr = link.address(server).getHostAddress();
            try (Rule rule = client.dropFirstSynAck();
                    Capture cap = client.capture(link.iface(client), "tcp port 7004")) {
                HostProcess first = client.startJava(TinyClient.class, addr, "7004", "one");
                assertEquals(0, first.awaitExit(T), first.transcript());
                assertEquals(1, rule.packets());
                long slow = connectMillis(first);
                assertTrue(slow >= 500, "first connect took " + slow + " ms; a SYN-ACK retransmission takes ~1 s");
                HostProcess second = client.startJava(TinyClient.class, addr, "7004", "two");
                assertEquals(0, second.awaitExit(T), second.transcript());
                assertEquals(1, rule.packets(), "only the first SYN-ACK may be dropped");
                long fast = connectMillis(second);
                assertTrue(fast < 500, "second connect took " + fast + " ms");
                // tcpdump sees packets before iptables: the first connection shows two SYN-ACKs.
                long synAcks = cap.stop().stream().filter(Packet::isSynAck).count();
                assertTrue(synAcks >= 3, Capture.render(cap.stop()));
            }
        }
    }

    @Test
    void genericIptablesRuleAndItsCounter() {
        try (Lab lab = Lab.create()) {
            Host client = lab.host("client");
            Host server = lab.host("server");
            Link link = lab.link(client, server);
            server(server, 7005, "s");
            try (Rule reject = server.iptables("INPUT", "-p", "tcp", "--dport", "7005", "-j", "REJECT",
                    "--reject-with", "tcp-reset")) {
                assertTrue(reject.spec().contains("--dport 7005"), reject.spec());
                HostProcess c = client.startJava(TinyClient.class, link.address(server).getHostAddress(), "7005", "x");
                assertEquals(1, c.awaitExit(T), c.transcript());
                assertTrue(c.awaitLine(l -> l.startsWith("failed"), T).contains("refused"), c.transcript());
                assertEquals(1, reject.packets());
            }
            assertEquals("s: ok", request(client, link.address(server).getHostAddress(), 7005, "ok"));
        }
    }

    @Test
    void vipMovesBetweenTwoServers() {
        try (Lab lab = Lab.create()) {
            Host client = lab.host("client");
            Host s1 = lab.host("s1");
            Host s2 = lab.host("s2");
            Vip vip = lab.vip(client, s1, s2);
            String addr = vip.address().getHostAddress();
            assertTrue(addr.startsWith("198.19.255."), addr);
            server(s1, 7006, "one");
            server(s2, 7006, "two");
            assertEquals("one: a", request(client, addr, 7006, "a"));
            vip.moveTo(s2);
            assertEquals(s2, vip.current());
            assertEquals("two: b", request(client, addr, 7006, "b"));
            vip.moveTo(s1);
            assertEquals("one: c", request(client, addr, 7006, "c"));
        }
    }

    @Test
    void linkDownUpAndExtraAddress() {
        try (Lab lab = Lab.create()) {
            Host client = lab.host("client");
            Host server = lab.host("server");
            Link link = lab.link(client, server);
            java.net.InetAddress extra = server.addAddress(link.iface(server), "198.18.1.77/24");
            assertEquals("198.18.1.77", extra.getHostAddress());
            server(server, 7007, "s");
            assertEquals("s: extra", request(client, "198.18.1.77", 7007, "extra"));
            link.down();
            HostProcess cut = client.startJava(TinyClient.class, "198.18.1.77", "7007", "cut");
            assertEquals(1, cut.awaitExit(T), cut.transcript());
            assertTrue(cut.awaitLine(l -> l.startsWith("failed"), T).contains("unreachable"), cut.transcript());
            link.up();
            server.removeAddress(link.iface(server), "198.18.1.77/24");
            assertEquals("s: back", request(client, link.address(server).getHostAddress(), 7007, "back"));
        }
    }

    @Test
    void closeKillsProcessesAndDeletesNamespaces() {
        Lab lab = Lab.create();
        Host a = lab.host("a");
        Host b = lab.host("b");
        lab.link(a, b);
        HostProcess p = a.startJava(EchoStdin.class);
        p.awaitLine(l -> l.startsWith("ready"), T);
        // a process started behind the lab's back is killed too
        String names = Exec.run(List.of("ip", "netns", "list"), T).stdout();
        assertTrue(names.contains(a.name()) && names.contains(b.name()), names);
        lab.close();
        assertFalse(p.isAlive());
        assertFalse(a.isAlive());
        String after = Exec.run(List.of("ip", "netns", "list"), T).stdout();
        assertFalse(after.contains(a.name()) || after.contains(b.name()), after);
        lab.close(); // idempotent
    }

    @Test
    void hostNamesAreUniquePerJvm() {
        try (Lab one = Lab.create(); Lab two = Lab.create()) {
            Host x = one.host("x");
            Host y = two.host("x");
            assertNotEquals(x.name(), y.name());
            assertTrue(x.name().startsWith("tfo-" + ProcessHandle.current().pid() + "-"), x.name());
            assertEquals("x", x.label());
        }
    }

    private static void assumeCurl() {
        boolean curl = Exec.run(List.of("curl", "--version"), T).ok();
        if (!TestEnvironment.isCi()) {
            assumeTrue(curl, "curl is needed to send TFO data without Netty");
        }
    }
}
