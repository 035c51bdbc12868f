package dev.tfo.micrometer;

import dev.tfo.testkit.PublicApi;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertNull;

/** The public API of {@code dev.tfo.micrometer}, recorded in {@code api/transport-tfo-micrometer.api}. */
class PublicApiTest {
    @Test
    void thePublicApiIsTheRecordedOne() {
        assertNull(PublicApi.check(TfoMetrics.class, Path.of("api", "transport-tfo-micrometer.api")));
    }
}
