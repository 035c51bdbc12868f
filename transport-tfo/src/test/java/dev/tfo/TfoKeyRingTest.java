package dev.tfo;

import dev.tfo.testkit.Wait;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TfoKeyRingTest {
    private static final TfoKey K1 = TfoKey.parse("00112233-44556677-8899aabb-ccddeeff");
    private static final TfoKey K2 = TfoKey.parse("0f1e2d3c-4b5a6978-8796a5b4-c3d2e1f0");
    private static final TfoKey K3 = TfoKey.generate();

    @Test
    void rotateMakesTheOldPrimaryTheBackupAndStageOnlyAddsABackup() {
        TfoKeyRing ring = TfoKeyRing.of(K1);
        assertEquals(Optional.empty(), ring.backup());
        ring.stage(K2).join();
        assertEquals(K1, ring.primary());
        assertEquals(Optional.of(K2), ring.backup());
        ring.rotate(K2).join();
        assertEquals(K2, ring.primary());
        assertEquals(Optional.of(K1), ring.backup());
        ring.rotate(K2).join(); // no-op
        assertEquals(Optional.of(K1), ring.backup());
        ring.rotate(K3).join();
        assertEquals(K3, ring.primary());
        assertEquals(Optional.of(K2), ring.backup());
        assertEquals("TfoKeyRing(primary, backup, 0 listener(s))", ring.toString());
        assertThrows(NullPointerException.class, () -> ring.rotate(null));
        assertThrows(NullPointerException.class, () -> TfoKeyRing.of(K1, null));
    }

    @Test
    void watchedFileRotatesOnAtomicRenameAndKeepsKeysOnGarbage(@TempDir Path dir) throws IOException {
        Path key = dir.resolve("key");
        write(dir, key, K1.format());
        try (TfoKeyRing ring = TfoKeyRing.watch(key)) {
            assertEquals(K1, ring.primary());
            assertTrue(ring.toString().contains("watching " + key) && !ring.toString().contains(K1.format()));
            write(dir, key, K2.format() + "\n");
            Wait.until("rotated to K2", Duration.ofSeconds(10), () -> ring.primary().equals(K2));
            assertEquals(Optional.of(K1), ring.backup());
            write(dir, key, "not a key");
            write(dir, key, K3.format() + "," + K1.format()); // explicit primary,backup
            Wait.until("set to K3,K1", Duration.ofSeconds(10), () -> ring.primary().equals(K3));
            assertEquals(Optional.of(K1), ring.backup());
        }
    }

    @Test
    void watchRefusesAnOpenFile(@TempDir Path dir) throws IOException {
        Path key = dir.resolve("key");
        Files.writeString(key, K1.format());
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-rw----"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TfoKeyRing.watch(key));
        assertFalse(e.getMessage().contains(K1.format()));
    }

    /** Writes via a temporary file and an atomic rename, as secret agents do. */
    private static void write(Path dir, Path key, String text) throws IOException {
        Path tmp = Files.createTempFile(dir, ".key", ".tmp");
        Files.writeString(tmp, text);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        Files.move(tmp, key, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
