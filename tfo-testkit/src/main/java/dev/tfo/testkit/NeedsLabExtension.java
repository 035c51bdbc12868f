package dev.tfo.testkit;

import java.util.Optional;

/**
 * The extension behind {@link NeedsLab}: runs the tests only where a {@link Lab} can be built (root, ip,
 * tcpdump, iptables); otherwise fails them under {@code CI=true} and skips them elsewhere, naming what
 * is missing.
 */
public final class NeedsLabExtension extends RequirementExtension {

    /** Creates the extension (JUnit does). */
    public NeedsLabExtension() {
    }

    @Override
    String requirement() {
        return "@NeedsLab (root + ip + tcpdump + iptables)";
    }

    @Override
    Optional<String> problem() {
        return TestEnvironment.labProblem();
    }
}
