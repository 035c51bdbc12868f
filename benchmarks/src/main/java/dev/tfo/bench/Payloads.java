package dev.tfo.bench;

/** Request and response bodies: printable, fixed size. */
final class Payloads {
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
}
