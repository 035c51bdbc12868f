package dev.tfo.testkit;

import java.util.Optional;

/**
 * The extension behind {@link FreshNetns}: runs the tests only inside a netns-java JVM; otherwise fails
 * them under {@code CI=true} and skips them elsewhere, always with the precise reason.
 */
public final class FreshNetnsExtension extends RequirementExtension {

    /** Creates the extension (JUnit does). */
    public FreshNetnsExtension() {
    }

    @Override
    String requirement() {
        return "@FreshNetns (fresh network namespace with net.ipv4.tcp_fastopen=3)";
    }

    @Override
    Optional<String> problem() {
        return TestEnvironment.netnsProblem();
    }
}
