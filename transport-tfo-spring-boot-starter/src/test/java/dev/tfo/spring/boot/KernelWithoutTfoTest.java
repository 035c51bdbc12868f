package dev.tfo.spring.boot;

import dev.tfo.TfoOutcome;
import dev.tfo.testkit.Capture;
import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.Host;
import dev.tfo.testkit.Packet;
import dev.tfo.testkit.TestEnvironment;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.web.reactive.function.client.WebClient;

import java.nio.file.Files;
import java.util.List;

import static dev.tfo.spring.boot.Witness.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A kernel with TFO off ({@code net.ipv4.tcp_fastopen=0} in the test's own namespace): the same WebFlux application
 * starts, serves and calls as without the starter; one WARN line says why there is no TFO and the fix; the results
 * say why per connection; {@code /actuator/info} shows it, the fix in its summary.
 */
@FreshNetns
class KernelWithoutTfoTest {
    @Test
    void applicationStartsAndRunsWithoutTfo() throws Exception {
        Host here = Host.current();
        assertEquals("3", here.sysctl("net.ipv4.tcp_fastopen"), "the fresh namespace's own value");
        here.sysctl("net.ipv4.tcp_fastopen", "0");
        try (ConfigurableApplicationContext app = WebFluxApp.start("127.0.0.23");
             Capture capture = Capture.here("lo", "tcp")) {
            String line = app.getBean(TfoStartupReport.class).line();
            assertTrue(line.contains("lacks the client bit 0x1") && line.contains("lacks the server bit 0x2")
                    && line.contains("Fix: sysctl -w net.ipv4.tcp_fastopen=3"), line);
            TfoProbe probe = app.getBean(TfoProbe.class);
            String url = "http://127.0.0.23:" + WebFluxApp.port(app);
            WebClient client = app.getBean(WebClient.Builder.class).build();
            assertEquals("hello", client.get().uri(url + "/hello").retrieve().bodyToMono(String.class).block(WAIT));
            TfoProbe.Seen c = TfoProbe.next(probe.clients, "the WebClient's connection");
            TfoProbe.Seen s = TfoProbe.next(probe.servers, "the server's connection");
            assertEquals(TfoOutcome.NOT_ATTEMPTED, c.result().outcome(), c.result().toString());
            assertTrue(c.result().reason().contains("client bit"), c.result().reason());
            assertEquals(TfoOutcome.NO_SYN_DATA, s.result().outcome(), s.result().toString());
            List<Packet> syns = capture.packets().stream().filter(p -> p.isSyn()
                    && p.srcPort() == Witness.localPort(c.channel())).toList();
            assertEquals(1, syns.size(), "one SYN: " + syns);
            assertTrue(syns.get(0).fastOpenCookie().isEmpty() && syns.get(0).payloadLength() == 0,
                    "a plain SYN: " + syns.get(0));
            String info = client.get().uri(url + "/actuator/info").retrieve().bodyToMono(String.class).block(WAIT);
            assertTrue(info.contains("\"tfo\":{\"sysctl\":0,\"client\":false,\"server\":false"), info);
            assertTrue(info.contains("Fix: sysctl -w net.ipv4.tcp_fastopen=3"), info);
        } finally {
            // Not through Host: it refuses to change a namespace whose tcp_fastopen is not 3.
            Files.writeString(TestEnvironment.TCP_FASTOPEN, "3\n");
        }
        assertEquals("3", here.sysctl("net.ipv4.tcp_fastopen"), "restored");
    }
}
