package dev.tfo.bench;

import java.nio.charset.StandardCharsets;

/** Request and response bodies: printable, fixed size. */
final class Payloads {
    private static final String GET_START = "GET /";
    private static final String GET_END = " HTTP/1.1\r\n\r\n";

    private Payloads() {
    }

    static byte[] pattern(int size, char first) {
        byte[] b = new byte[size];
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (i == 0 ? first : alphabet.charAt(i % alphabet.length()));
        }
        return b;
    }

    /**
     * The request of the plain-Netty benchmarks: an HTTP/1.1 {@code GET} of exactly {@code size} bytes
     * ({@code GET /qabc... HTTP/1.1\r\n\r\n}), so that the library's default {@code TfoSynDataPolicy} (replay-safe
     * requests only) lets a connect-then-write client put it in the SYN, as it would an application's GET; below
     * 20 bytes, a plain pattern (which that policy keeps out of the SYN).
     */
    static byte[] request(int size) {
        int path = size - GET_START.length() - GET_END.length();
        if (path < 1) {
            return pattern(size, 'Q');
        }
        String get = GET_START + new String(pattern(path, 'q'), StandardCharsets.US_ASCII) + GET_END;
        return get.getBytes(StandardCharsets.US_ASCII);
    }
}
