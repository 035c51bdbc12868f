package dev.tfo.scenario;

import dev.tfo.TfoKey;
import dev.tfo.testkit.Host;
import dev.tfo.testkit.Lab;
import dev.tfo.testkit.NeedsLab;
import dev.tfo.testkit.Vip;
import dev.tfo.testkit.Wait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Server keys across listeners, hosts and time: live rotation, two servers behind one VIP, a watched key
 * file rewritten the way Kubernetes updates a Secret volume, and the kernel's own key format.
 */
@NeedsLab
class KeysScenarioTest {
    private static final Duration RUN = Duration.ofSeconds(30);
    private static final String K1 = "00112233-44556677-8899aabb-ccddeeff";
    private static final String K2 = "0f1e2d3c-4b5a6978-8796a5b4-c3d2e1f0";

    /** One connection; asserts the bytes came back intact and the outcome. */
    static Driver.Conn once(Driver client, String expectedOutcome) {
        Driver.Run run = client.run(1, 1, 1500, RUN);
        Driver.Conn c = run.single();
        assertTrue(c.intact, () -> "not intact: " + run);
        assertEquals(expectedOutcome, c.outcome, () -> run.toString());
        return c;
    }

    @Test
    void rotationOfABoundListenerKeepsOldCookiesAndIssuesNewOnes() {
        try (Net net = new Net()) {
            Driver server = net.startServer(net.server, "key=" + K1);
            Driver client = net.startClient(net.client, "host=" + net.serverIp());
            once(client, "COOKIE_REQUESTED");
            once(client, "SYN_DATA_ACKED");
            server.command("ROTATE " + K2, l -> l.startsWith("ROTATED"), RUN);
            long alt0 = net.server.tcpExt("TCPFastOpenPassiveAltKey");
            once(client, "SYN_DATA_ACKED"); // old cookie, accepted by the backup key; new cookie in the SYN-ACK
            assertEquals(alt0 + 1, net.server.tcpExt("TCPFastOpenPassiveAltKey"));
            once(client, "SYN_DATA_ACKED"); // the new cookie: validated by the primary key
            assertEquals(alt0 + 1, net.server.tcpExt("TCPFastOpenPassiveAltKey"));
            assertEquals(0, net.server.tcpExt("TCPFastOpenPassiveFail"));
            net.finish();
        }
    }

    @Test
    void sameKeyOnTwoServersBehindOneVip() {
        try (Lab lab = Lab.create()) {
            VipScene scene = new VipScene(lab, K1, K1);
            Host s2 = scene.s2;
            Vip vip = scene.vip;
            Driver b = scene.b;
            Driver c = scene.c;
            once(c, "COOKIE_REQUESTED");
            once(c, "SYN_DATA_ACKED");
            long passive2 = s2.tcpExt("TCPFastOpenPassive");
            vip.moveTo(s2);
            once(c, "SYN_DATA_ACKED"); // s1's cookie accepted by s2
            assertEquals(passive2 + 1, s2.tcpExt("TCPFastOpenPassive"));
            assertEquals(0, s2.tcpExt("TCPFastOpenPassiveFail"));
            b.command("STATS", l -> l.startsWith("STATS"), RUN);
            assertTrue(b.process().lines().contains("ACCEPT SYN_DATA_ACCEPTED"), b.process().transcript());
            scene.quit();
        }
    }

    @Test
    void differentKeysBehindOneVipCostOneRoundTripThenANewCookie() {
        try (Lab lab = Lab.create()) {
            VipScene scene = new VipScene(lab, K1, K2);
            Host s1 = scene.s1;
            Host s2 = scene.s2;
            Vip vip = scene.vip;
            Driver b = scene.b;
            Driver c = scene.c;
            once(c, "COOKIE_REQUESTED");
            once(c, "SYN_DATA_ACKED");
            vip.moveTo(s2);
            once(c, "DATA_NOT_ACKED");  // s1's cookie rejected by s2: data resent after the handshake
            assertEquals(1, s2.tcpExt("TCPFastOpenPassiveFail"));
            once(c, "SYN_DATA_ACKED");  // s2 issued a new cookie in that SYN-ACK
            // and the backup key lets s2 take s1's cookies during a rotation:
            vip.moveTo(s1);
            once(c, "DATA_NOT_ACKED");  // s2's cookie at s1
            once(c, "SYN_DATA_ACKED");
            b.command("STAGE " + K1, l -> l.startsWith("STAGED"), RUN); // s2: primary K2, backup K1
            vip.moveTo(s2);
            long alt = s2.tcpExt("TCPFastOpenPassiveAltKey");
            once(c, "SYN_DATA_ACKED");  // s1's cookie accepted by s2's backup key, and a new cookie issued
            assertEquals(alt + 1, s2.tcpExt("TCPFastOpenPassiveAltKey"));
            once(c, "SYN_DATA_ACKED");
            assertEquals(alt + 1, s2.tcpExt("TCPFastOpenPassiveAltKey"));
            scene.quit();
        }
    }

    @Test
    void keyFileRewrittenLikeAKubernetesSecretRotatesWithoutRefusingACookie(@TempDir Path dir) throws IOException {
        // The kubelet's atomic writer: key -> ..data/key, ..data -> ..<timestamp>/, swapped by rename.
        Path v1 = writeVersion(dir, "..2026_01_01_00_00_00.1", K1);
        Files.createSymbolicLink(dir.resolve("..data"), v1.getFileName());
        Files.createSymbolicLink(dir.resolve("key"), Path.of("..data", "key"));
        try (Net net = new Net()) {
            Driver server = net.startServer(net.server, "keyfile=" + dir.resolve("key"));
            Driver client = net.startClient(net.client, "host=" + net.serverIp());
            once(client, "COOKIE_REQUESTED");
            once(client, "SYN_DATA_ACKED");

            Path v2 = writeVersion(dir, "..2026_01_01_00_10_00.2", K2);
            Files.createSymbolicLink(dir.resolve("..data_tmp"), v2.getFileName());
            Files.move(dir.resolve("..data_tmp"), dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
            deleteTree(v1);
            Wait.until("the server applied the rewritten key file", Duration.ofSeconds(15),
                    () -> server.process().stderr().contains("new keys applied to 1 listener"));

            long alt0 = net.server.tcpExt("TCPFastOpenPassiveAltKey");
            once(client, "SYN_DATA_ACKED"); // cookie of K1, accepted as backup
            assertEquals(alt0 + 1, net.server.tcpExt("TCPFastOpenPassiveAltKey"));
            once(client, "SYN_DATA_ACKED"); // new cookie of K2
            assertEquals(alt0 + 1, net.server.tcpExt("TCPFastOpenPassiveAltKey"));
            assertEquals(0, net.server.tcpExt("TCPFastOpenPassiveFail"));
            assertTrue(!server.process().stderr().contains(K1) && !server.process().stderr().contains(K2),
                    "a key was logged:\n" + server.process().stderr());
            net.finish();
        }
    }

    @Test
    void keyTextMeansWhatTheKernelSysctlMeans() {
        // Listener A (port 7000) has no key of its own: the host's net.ipv4.tcp_fastopen_key = K1 applies.
        // Listener B (port 7001) has TfoKey.parse(K1) set by setsockopt. Cookies are per IP, not port:
        // a cookie from A accepted by B proves parse() lays the bytes out as the kernel does.
        try (Net net = new Net()) {
            net.server.sysctl("net.ipv4.tcp_fastopen_key", K1);
            net.startServer(net.server, "port=7000");
            net.startServer(net.server, "port=7001", "key=" + K1);
            net.startServer(net.server, "port=7002", "key=" + K2);
            Driver toA = net.startClient(net.client, "host=" + net.serverIp(), "port=7000");
            Driver toB = net.startClient(net.client, "host=" + net.serverIp(), "port=7001");
            Driver toC = net.startClient(net.client, "host=" + net.serverIp(), "port=7002", "backoff=off");
            once(toA, "COOKIE_REQUESTED");
            once(toB, "SYN_DATA_ACKED");
            once(toC, "DATA_NOT_ACKED"); // control: another key rejects it
            net.finish();
        }
    }

    /** A client and two servers (keys {@code key1}, {@code key2}) behind one VIP, served by s1 first. */
    private static final class VipScene {
        final Host s1;
        final Host s2;
        final Vip vip;
        final Driver a;
        final Driver b;
        final Driver c;

        VipScene(Lab lab, String key1, String key2) {
            Host client = lab.host("client").sysctl("net.ipv4.tcp_fastopen", "3");
            s1 = lab.host("s1").sysctl("net.ipv4.tcp_fastopen", "3");
            s2 = lab.host("s2").sysctl("net.ipv4.tcp_fastopen", "3");
            vip = lab.vip(client, s1, s2);
            a = Driver.server(s1, "key=" + key1);
            b = Driver.server(s2, "key=" + key2);
            c = Driver.client(client, "host=" + vip.address().getHostAddress());
        }

        /** QUITs the three agents and checks their exits. */
        void quit() {
            KeysScenarioTest.quit(a, b, c);
        }
    }

    private static Path writeVersion(Path dir, String name, String key) throws IOException {
        Path v = Files.createDirectory(dir.resolve(name));
        Path f = v.resolve("key");
        Files.createFile(f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(f, key + "\n", StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("r--------"));
        return v;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    private static void quit(Driver... drivers) {
        for (Driver d : drivers) {
            d.process().send("QUIT");
            d.process().closeStdin();
            assertEquals(0, d.process().awaitExit(Duration.ofSeconds(30)), d.process().transcript());
            assertTrue(d.process().leakReports().isEmpty(), d.process().transcript());
        }
    }
}
