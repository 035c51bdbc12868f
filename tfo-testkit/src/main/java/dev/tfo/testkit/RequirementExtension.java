package dev.tfo.testkit;

import java.util.Optional;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Common logic of {@link FreshNetnsExtension} and {@link NeedsLabExtension}: when the requirement is
 * not met, the tests are skipped with the reason, except under {@code CI=true}, where they fail with it.
 * Never a silent pass.
 */
abstract class RequirementExtension implements ExecutionCondition, BeforeAllCallback, BeforeEachCallback {

    /** The requirement's name, for messages. */
    abstract String requirement();

    /** The reason the requirement is not met, or empty. */
    abstract Optional<String> problem();

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        Optional<String> problem = problem();
        if (problem.isEmpty()) {
            return ConditionEvaluationResult.enabled(requirement() + " satisfied");
        }
        if (TestEnvironment.isCi()) {
            // Let it run so that beforeAll/beforeEach fail it loudly.
            return ConditionEvaluationResult.enabled(requirement() + " NOT satisfied: will fail (CI=true)");
        }
        return ConditionEvaluationResult.disabled(message(problem.get()) + " (skipped: not CI)");
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        check();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        check();
    }

    private void check() {
        check(problem(), TestEnvironment.isCi());
    }

    /** Fails (CI) or aborts (elsewhere) when there is a problem; does nothing otherwise. */
    void check(Optional<String> problem, boolean ci) {
        if (problem.isEmpty()) {
            return;
        }
        if (ci) {
            throw new AssertionError(message(problem.get()) + " (CI=true: failing instead of skipping)");
        }
        org.junit.jupiter.api.Assumptions.abort(message(problem.get()));
    }

    private String message(String problem) {
        return requirement() + " not available: " + problem;
    }
}
