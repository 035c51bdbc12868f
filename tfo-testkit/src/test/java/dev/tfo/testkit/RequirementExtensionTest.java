package dev.tfo.testkit;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/** The fail-under-CI / skip-elsewhere rule of {@link FreshNetns} and {@link NeedsLab}. */
class RequirementExtensionTest {

    @Test
    void failsUnderCiWithTheReason() {
        AssertionError e = assertThrows(AssertionError.class,
                () -> new FreshNetnsExtension().check(Optional.of("no namespace: EPERM"), true));
        assertTrue(e.getMessage().contains("no namespace: EPERM"), e.getMessage());
        assertTrue(e.getMessage().contains("CI=true"), e.getMessage());
    }

    @Test
    void skipsElsewhereWithTheReason() {
        TestAbortedException e = assertThrows(TestAbortedException.class,
                () -> new NeedsLabExtension().check(Optional.of("'tcpdump --version' does not run"), false));
        assertTrue(e.getMessage().contains("tcpdump"), e.getMessage());
    }

    @Test
    void passesWhenSatisfied() {
        assertDoesNotThrow(() -> new FreshNetnsExtension().check(Optional.empty(), true));
    }

    @Test
    void netnsProblemIsPreciseOutsideNetnsJava() {
        if (System.getenv("TFO_NETNS") == null) {
            String why = TestEnvironment.netnsProblem().orElseThrow();
            assertTrue(why.contains("TFO_NETNS") || why.contains("netns-java"), why);
        }
    }

    @Test
    void currentHostRefusesChangesOutsideAFreshNamespace() {
        if (!TestEnvironment.inFreshNetns()) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Host.current().sysctl("net.ipv4.tcp_fastopen", "3"));
            assertTrue(e.getMessage().contains("refusing"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> Host.current().dropSynWithData());
        }
    }
}
