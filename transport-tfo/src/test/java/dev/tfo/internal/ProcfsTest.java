package dev.tfo.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProcfsTest {
    @Test
    void readsTheLiveSysctl() throws Exception {
        int expected = Integer.parseInt(Files.readString(Procfs.TCP_FASTOPEN).trim());
        assertEquals(expected, Procfs.readInt(Procfs.TCP_FASTOPEN).getAsInt());
    }

    @Test
    void missingOrGarbledFilesAreEmptyNotErrors(@TempDir Path dir) throws Exception {
        assertFalse(Procfs.readInt(dir.resolve("absent")).isPresent());
        Path garbled = Files.writeString(dir.resolve("garbled"), "three\n");
        assertFalse(Procfs.readInt(garbled).isPresent());
        Path ok = Files.writeString(dir.resolve("ok"), "1027\n");
        assertEquals(1027, Procfs.readInt(ok).getAsInt());
    }

    @Test
    void parsesTheTcpExtSectionOnly() {
        Map<String, Long> m = Procfs.parseTcpExt("IpExt: A\nIpExt: 1\nTcpExt: X Y\nTcpExt: 2 3\n");
        assertEquals(Map.of("X", 2L, "Y", 3L), m);
    }

    @Test
    void parsesThisNamespacesRealFile() throws Exception {
        assertTrue(Procfs.parseTcpExt(Procfs.read(Procfs.NETSTAT)).containsKey("TCPFastOpenActive"));
    }

    @Test
    void rejectsMalformedText() {
        assertThrows(IllegalArgumentException.class, () -> Procfs.parseTcpExt("TcpExt: X\nTcpExt: y\n"));
        assertThrows(IllegalArgumentException.class, () -> Procfs.parseTcpExt(""));
    }
}
