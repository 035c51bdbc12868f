package dev.tfo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * A TCP Fast Open server key: the 16-byte secret from which a server derives the cookies it hands to
 * clients. Servers that share a key (a fleet behind one address) accept each other's cookies.
 *
 * <pre>{@code
 * TfoKey key = TfoKey.generate();                         // 16 bytes from SecureRandom
 * String text = key.format();                             // "3f1c09aa-0b6e27d4-9c0e4f11-52a8be07"
 * TfoKey same = TfoKey.parse(text);                       // same.equals(key)
 * }</pre>
 *
 * <p>The text form is the kernel's ({@code net.ipv4.tcp_fastopen_key}): four groups of 8 hex digits, each a
 * 32-bit word stored little-endian, so {@code TfoKey.parse(s)} on a listener and {@code sysctl
 * net.ipv4.tcp_fastopen_key=s} on a host issue the same cookies.
 *
 * <p>A key never appears in {@link #toString()}, logs or exception messages of this library; only
 * {@link #format()} reveals it. {@link #equals} compares in constant time.
 */
public final class TfoKey {
    /** Length of a key in bytes ({@code TCP_FASTOPEN_KEY_LENGTH}). */
    static final int LENGTH = 16;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String FORM = "xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx (4 groups of 8 hex digits)";

    private final byte[] bytes;

    private TfoKey(byte[] bytes) {
        this.bytes = bytes;
    }

    /**
     * Parses the kernel's text form.
     *
     * <p>{@code TfoKey k = TfoKey.parse("00112233-44556677-8899aabb-ccddeeff");}
     *
     * @param text four groups of 8 hex digits separated by {@code -}; surrounding whitespace is ignored
     * @return the key
     * @throws IllegalArgumentException when {@code text} is not in that form (the message never contains it)
     */
    public static TfoKey parse(String text) {
        requireNonNull(text, "text");
        String s = text.strip();
        if (s.length() != 35 || s.charAt(8) != '-' || s.charAt(17) != '-' || s.charAt(26) != '-') {
            throw new IllegalArgumentException("text: not a TFO key: expected " + FORM + ", got "
                    + s.length() + " characters" + (s.indexOf(',') >= 0 ? " containing ',' (one key only)" : ""));
        }
        ByteBuffer out = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        for (int group = 0; group < 4; group++) {
            int word = 0;
            for (int i = 0; i < 8; i++) {
                int digit = Character.digit(s.charAt(group * 9 + i), 16);
                if (digit < 0) {
                    throw new IllegalArgumentException("text: not a TFO key: expected " + FORM
                            + ", group " + (group + 1) + " has a character that is not a hex digit");
                }
                word = (word << 4) | digit;
            }
            out.putInt(word);
        }
        return new TfoKey(out.array());
    }

    /**
     * A new random key from {@link SecureRandom}.
     *
     * <p>{@code TfoKey key = TfoKey.generate();}
     *
     * @return a fresh key
     */
    public static TfoKey generate() {
        byte[] b = new byte[LENGTH];
        RANDOM.nextBytes(b);
        return new TfoKey(b);
    }

    /**
     * Reads a key from a file holding its text form (one key; surrounding whitespace and a final newline
     * are fine). The file must not be readable, writable or executable by group or others (e.g. mode 0600
     * or 0400; for a Kubernetes Secret volume use {@code defaultMode: 0400}); symbolic links are followed.
     *
     * <p>{@code TfoKey key = TfoKey.fromFile(Path.of("/run/secrets/tfo/key"));}
     *
     * @param file the key file
     * @return the key
     * @throws IOException              when the file cannot be read
     * @throws IllegalArgumentException when the file is accessible by group or others, or holds no valid key
     *                                  (the message names the file, never its content)
     */
    static TfoKey fromFile(Path file) throws IOException {
        requireNonNull(file, "file");
        String text = readPrivateFile(file);
        try {
            return parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("file: " + file + " does not hold a TFO key: "
                    + e.getMessage().substring("text: ".length()));
        }
    }

    /** Reads a file that must not be accessible by group or others; see {@link #fromFile}. */
    static String readPrivateFile(Path file) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        Set<PosixFilePermission> open = EnumSet.noneOf(PosixFilePermission.class);
        for (PosixFilePermission p : perms) {
            if (!p.name().startsWith("OWNER_")) {
                open.add(p);
            }
        }
        if (!open.isEmpty()) {
            throw new IllegalArgumentException("file: " + file + " is accessible by group or others (mode "
                    + PosixFilePermissions.toString(perms) + "); a TFO key file must be private: chmod 600 it");
        }
        byte[] raw = Files.readAllBytes(file);
        try {
            return new String(raw, StandardCharsets.US_ASCII);
        } finally {
            Arrays.fill(raw, (byte) 0);
        }
    }

    /**
     * The kernel's text form, e.g. {@code 00112233-44556677-8899aabb-ccddeeff}. This reveals the secret:
     * write it only where the key belongs (a key file, a secret store).
     *
     * <p>{@code Files.writeString(keyFile, TfoKey.generate().format());  // keyFile created with mode 0600}
     *
     * @return the key as text
     */
    public String format() {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        StringBuilder sb = new StringBuilder(35);
        for (int group = 0; group < 4; group++) {
            if (group > 0) {
                sb.append('-');
            }
            String hex = Integer.toHexString(in.getInt());
            sb.append("0".repeat(8 - hex.length())).append(hex);
        }
        return sb.toString();
    }

    /** Writes the 16 key bytes, as {@code setsockopt(TCP_FASTOPEN_KEY)} expects them, into {@code out}. */
    void writeTo(ByteBuffer out) {
        out.put(bytes);
    }

    /** Constant-time comparison of the key bytes. */
    @Override
    public boolean equals(Object o) {
        return o instanceof TfoKey && MessageDigest.isEqual(bytes, ((TfoKey) o).bytes);
    }

    @Override
    public int hashCode() {
        // Not derived from the secret: keys are few, and a hash of the key would leak bits of it.
        return TfoKey.class.hashCode();
    }

    /** Always {@code TfoKey(****)}: a key never shows in logs. */
    @Override
    public String toString() {
        return "TfoKey(****)";
    }
}
