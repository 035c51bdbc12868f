package dev.tfo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TfoKeyTest {
    private static final String TEXT = "00112233-44556677-8899aabb-ccddeeff";

    static byte[] bytes(TfoKey k) {
        ByteBuffer b = ByteBuffer.allocate(16);
        k.writeTo(b);
        return b.array();
    }

    @Test
    void parseLaysOutEachWordLittleEndianAsTheKernelSysctlDoes() {
        assertArrayEquals(new byte[] {0x33, 0x22, 0x11, 0x00, 0x77, 0x66, 0x55, 0x44,
                (byte) 0xbb, (byte) 0xaa, (byte) 0x99, (byte) 0x88, (byte) 0xff, (byte) 0xee, (byte) 0xdd, (byte) 0xcc},
                bytes(TfoKey.parse(TEXT)));
    }

    @Test
    void formatRoundTrips() {
        assertEquals(TEXT, TfoKey.parse(TEXT).format());
        assertEquals(TEXT, TfoKey.parse("  " + TEXT.toUpperCase() + "\n").format());
        TfoKey g = TfoKey.generate();
        assertEquals(g, TfoKey.parse(g.format()));
        assertEquals("00000000-00000001-00000000-00000000", TfoKey.parse("00000000-00000001-00000000-00000000").format());
    }

    @Test
    void badTextIsRejectedWithoutEchoingIt() {
        for (String bad : new String[] {"", "0011223344556677", TEXT + "0", TEXT.replace('c', 'g'),
                TEXT + "," + TEXT, "00112233_44556677-8899aabb-ccddeeff"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TfoKey.parse(bad));
            assertTrue(e.getMessage().startsWith("text: "), e.getMessage());
            assertFalse(!bad.isEmpty() && e.getMessage().contains(bad), e.getMessage());
            assertFalse(e.getMessage().contains("8899"), e.getMessage());
        }
        assertThrows(NullPointerException.class, () -> TfoKey.parse(null));
    }

    @Test
    void neverShowsItselfAndComparesByValue() {
        TfoKey a = TfoKey.parse(TEXT);
        assertEquals("TfoKey(****)", a.toString());
        assertEquals(a, TfoKey.parse(TEXT));
        assertEquals(a.hashCode(), TfoKey.parse(TEXT).hashCode());
        assertNotEquals(a, TfoKey.generate());
        assertNotEquals(TfoKey.generate(), TfoKey.generate());
    }

    @Test
    void fromFileRequiresAPrivateFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("key");
        Files.writeString(f, TEXT + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        IllegalArgumentException open = assertThrows(IllegalArgumentException.class, () -> TfoKey.fromFile(f));
        assertTrue(open.getMessage().contains("accessible by group or others") && open.getMessage().contains("chmod 600"),
                open.getMessage());
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        assertEquals(TfoKey.parse(TEXT), TfoKey.fromFile(f));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("r--------"));
        assertEquals(TfoKey.parse(TEXT), TfoKey.fromFile(f));
        Path link = dir.resolve("link");
        Files.createSymbolicLink(link, f.getFileName()); // links are followed: the target's mode counts
        assertEquals(TfoKey.parse(TEXT), TfoKey.fromFile(link));
    }

    @Test
    void fromFileWithGarbageNamesTheFileNotTheContent(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("key");
        Files.writeString(f, "secret-ish-garbage-0123456789abcdef");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TfoKey.fromFile(f));
        assertTrue(e.getMessage().startsWith("file: " + f), e.getMessage());
        assertFalse(e.getMessage().contains("garbage"), e.getMessage());
        assertThrows(IOException.class, () -> TfoKey.fromFile(dir.resolve("missing")));
        assertThrows(NullPointerException.class, () -> TfoKey.fromFile(null));
    }
}
