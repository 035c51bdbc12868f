package dev.tfo.internal;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TcpInfoTest {
    @Test
    void decodesTheFieldsAtTheirKernelOffsets() {
        ByteBuffer b = ByteBuffer.allocate(TcpInfo.LENGTH).order(ByteOrder.nativeOrder());
        b.put(0, (byte) TcpInfo.STATE_ESTABLISHED);
        b.put(5, (byte) 0xA7);            // SYN_DATA | TFO_CHILD | SACK|TS|WSCALE
        b.put(7, (byte) 0b0000_0111);     // app_limited=1, fastopen_client_fail=3
        b.putInt(68, 41_000);
        b.putInt(100, 2);
        TcpInfo info = TcpInfo.decode(b);
        assertEquals(1, info.state());
        assertEquals(0xA7, info.options());
        assertTrue(info.synData());
        assertEquals(3, info.clientFail());
        assertEquals(41_000, info.rttMicros());
        assertEquals(2, info.totalRetrans());
        assertFalse(info.synSent());
        assertTrue(info.toString().contains("fastopen_client_fail=3"), info.toString());
    }

    @Test
    void shortStructsFromOldKernelsDecodeWhatTheyHave() {
        ByteBuffer b = ByteBuffer.allocate(8);
        b.put(0, (byte) TcpInfo.STATE_SYN_SENT);
        TcpInfo info = TcpInfo.decode(b);
        assertTrue(info.synSent());
        assertEquals(-1, info.rttMicros());
        assertEquals(-1, info.totalRetrans());
    }

    @Test
    void decodingDoesNotMoveTheCallersBuffer() {
        ByteBuffer b = ByteBuffer.allocate(TcpInfo.LENGTH);
        TcpInfo.decode(b);
        assertEquals(0, b.position());
    }

    @Test
    void tooFewBytesIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TcpInfo.decode(ByteBuffer.allocate(4)));
        assertEquals("tcp_info: 4 bytes, need at least 8", e.getMessage());
    }
}
