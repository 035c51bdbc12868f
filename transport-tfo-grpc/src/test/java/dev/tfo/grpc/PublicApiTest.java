package dev.tfo.grpc;

import dev.tfo.testkit.PublicApi;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertNull;

/** The public API of {@code dev.tfo.grpc}, recorded in {@code api/transport-tfo-grpc.api}. */
class PublicApiTest {
    @Test
    void thePublicApiIsTheRecordedOne() {
        assertNull(PublicApi.check(TfoGrpc.class, Path.of("api", "transport-tfo-grpc.api")));
    }
}
