package dev.tfo.testkit;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * A self-signed EC P-256 certificate for TLS tests, made by the JDK's own {@code keytool}: no BouncyCastle
 * and no {@code netty-pkitesting} (a 4.2-only artifact), so the same test runs on Netty 4.1 and 4.2.
 *
 * <pre>{@code
 * TestCertificate cert = TestCertificate.selfSigned("localhost");
 * SslContext server = SslContextBuilder.forServer(cert.keyManagerFactory()).build();
 * SslContext client = SslContextBuilder.forClient().trustManager(cert.trustManagerFactory()).build();
 * }</pre>
 */
public final class TestCertificate {
    private static final char[] PASSWORD = "tfo-test".toCharArray();

    private final KeyStore keyStore;

    private TestCertificate(KeyStore keyStore) {
        this.keyStore = keyStore;
    }

    /**
     * Makes a key pair and a self-signed CA certificate for {@code host} (subject {@code CN=host}, subject
     * alternative name {@code DNS:host}, or {@code IP:host} for an IP literal, valid for a day).
     *
     * @param host the DNS name or IP address the certificate is for, e.g. {@code localhost} or {@code 127.0.0.12}
     * @return the certificate and its key
     * @throws LabException when keytool fails, with its output
     */
    public static TestCertificate selfSigned(String host) {
        requireNonNull(host, "host");
        Path dir = null;
        try {
            dir = Files.createTempDirectory("tfo-cert");
            Path store = dir.resolve("cert.p12");
            String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
            Exec.run(List.of(keytool, "-genkeypair", "-alias", "tls", "-keyalg", "EC",
                    "-groupname", "secp256r1", "-dname", "CN=" + host,
                    "-ext", "SAN=" + (host.matches("[0-9.]+|.*:.*") ? "ip:" : "dns:") + host,
                    "-ext", "BC:c=ca:true", "-validity", "1", "-storetype", "PKCS12", "-keystore", store.toString(),
                    "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD)), Duration.ofSeconds(60)).orThrow();
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(store)) {
                ks.load(in, PASSWORD);
            }
            return new TestCertificate(ks);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot read the certificate keytool made", e);
        } finally {
            deleteQuietly(dir);
        }
    }

    /**
     * The server side: the key and its certificate.
     *
     * @return a key manager factory initialised with the key
     */
    public KeyManagerFactory keyManagerFactory() {
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keyStore, PASSWORD);
            return kmf;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The client side: trusts this certificate only.
     *
     * @return a trust manager factory whose only anchor is the certificate
     */
    public TrustManagerFactory trustManagerFactory() {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("tls", keyStore.getCertificate("tls"));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            return tmf;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // a temp file left behind is harmless
        }
    }
}
