package dev.tfo;

import dev.tfo.testkit.PublicApi;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The public API of {@code dev.tfo} is recorded in {@code api/transport-tfo.api}: any change to it fails the
 * build until the file changes too, in the same reviewed commit ({@code -Dtfo.updateApi=true} rewrites it).
 */
class PublicApiTest {
    @Test
    void thePublicApiIsTheRecordedOne() {
        System.out.println("[measured] public API of dev.tfo (types, methods, constants): "
                + Arrays.toString(PublicApi.counts(TfoBootstraps.class)));
        assertNull(PublicApi.check(TfoBootstraps.class, Path.of("api", "transport-tfo.api")));
    }
}
