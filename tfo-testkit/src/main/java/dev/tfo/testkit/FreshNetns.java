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
 * Marks a test class whose tests must run inside a fresh network namespace with
 * {@code net.ipv4.tcp_fastopen=3}, i.e. in the JVM started by {@code tfo-testkit/bin/netns-java} (the
 * surefire execution {@code netns-test}, which selects the tag {@code netns}).
 *
 * <p>Outside such a JVM the tests are skipped with the reason, or FAIL with it when the environment
 * variable {@code CI} is {@code true}. They never pass silently.
 *
 * <pre>{@code
 * @FreshNetns
 * class TfoLoopbackTest {
 *     @Test void synCarriesData() { ... } // loopback, TFO on, counters are this test JVM's own
 * }
 * }</pre>
 */
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@Tag("netns")
@ExtendWith(FreshNetnsExtension.class)
public @interface FreshNetns {
}
