package dev.tfo.scenario;

import dev.tfo.testkit.NeedsLab;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static dev.tfo.scenario.KeysScenarioTest.once;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TCP_FASTOPEN_NO_COOKIE: data in the very first SYN, when both ends opted in. */
@NeedsLab
class CookieLessScenarioTest {
    @Test
    void bothEndsOptedInCarryDataInTheFirstSyn() {
        try (Net net = new Net()) {
            Driver server = net.startServer(net.server, "nocookie=true");
            Driver client = net.startClient(net.client, "host=" + net.serverIp(), "nocookie=true");
            long reqd = net.client.tcpExt("TCPFastOpenCookieReqd");
            once(client, "SYN_DATA_ACKED");
            once(client, "SYN_DATA_ACKED");
            assertEquals(reqd, net.client.tcpExt("TCPFastOpenCookieReqd"), "no cookie was requested");
            server.process().awaitLine(l -> l.equals("ACCEPT SYN_DATA_ACCEPTED"), Duration.ofSeconds(5));
            net.finish();
        }
    }

    @Test
    void aServerRequiringCookiesIgnoresCookieLessSynData() {
        try (Net net = new Net()) {
            net.startServer(net.server);
            Driver client = net.startClient(net.client, "host=" + net.serverIp(), "nocookie=true", "backoff=off");
            Driver.Conn c = once(client, "DATA_NOT_ACKED");
            assertTrue(c.intact);
            net.finish();
        }
    }
}
