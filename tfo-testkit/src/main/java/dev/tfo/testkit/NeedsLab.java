package dev.tfo.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that builds a {@link Lab}: it needs real root (not a user namespace) and the tools
 * {@code ip}, {@code tcpdump} and {@code iptables}, each checked by running it.
 *
 * <p>When something is missing, the tests are skipped naming it, or FAIL naming it when the environment
 * variable {@code CI} is {@code true}. They never pass silently. Tagged {@code lab}, so that a build can leave them
 * out ({@code ./mvnw -P quick test}).
 *
 * <pre>{@code
 * @NeedsLab
 * class BlackholeTest {
 *     @Test void synDataDropped() { try (Lab lab = Lab.create()) { ... } }
 * }
 * }</pre>
 */
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@Tag("lab")
@ExtendWith(NeedsLabExtension.class)
public @interface NeedsLab {
}
