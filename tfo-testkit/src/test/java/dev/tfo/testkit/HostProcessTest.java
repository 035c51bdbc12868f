package dev.tfo.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** startJava / awaitLine / send / awaitExit, in this JVM's own namespace (no root needed). */
class HostProcessTest {

    @Test
    void startJavaAwaitLineSendAndExit() {
        try (HostProcess p = Host.current().startJava(EchoStdin.class, "a", "b")) {
            assertEquals("ready a,b", p.awaitLine(l -> l.startsWith("ready"), Duration.ofSeconds(30)));
            p.send("hello");
            assertEquals("echo hello", p.awaitLine(l -> l.startsWith("echo"), Duration.ofSeconds(10)));
            p.send("exit 3");
            assertEquals(3, p.awaitExit(Duration.ofSeconds(10)));
            assertEquals(java.util.List.of("ready a,b", "echo hello"), p.lines());
            assertTrue(p.stderr().contains("to-stderr"), p.stderr());
            assertTrue(p.leakReports().isEmpty(), p.stderr());
        }
    }

    @Test
    void awaitLineFailsWithEverythingPrintedSoFar() {
        try (HostProcess p = Host.current().startJava(EchoStdin.class, "x")) {
            p.awaitLine(l -> l.startsWith("ready"), Duration.ofSeconds(30));
            LabException e = assertThrows(LabException.class,
                    () -> p.awaitLine(l -> l.equals("never"), Duration.ofMillis(200)));
            assertTrue(e.getMessage().contains("ready x"), e.getMessage());
            p.send("exit 0");
            assertEquals(0, p.awaitExit(Duration.ofSeconds(10)));
            e = assertThrows(LabException.class, () -> p.awaitLine(l -> l.equals("never"), Duration.ofSeconds(5)));
            assertTrue(e.getMessage().contains("ended"), e.getMessage());
        }
    }

    @Test
    void closeDestroysTheProcess() {
        HostProcess p = Host.current().startJava(EchoStdin.class);
        p.awaitLine(l -> l.startsWith("ready"), Duration.ofSeconds(30));
        p.close();
        assertFalse(p.isAlive());
    }
}
