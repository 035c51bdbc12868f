package dev.tfo.testkit;

import org.junit.jupiter.api.Test;

import javax.net.ssl.X509KeyManager;
import javax.net.ssl.X509TrustManager;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real TLS handshake with these certificates is {@code TfoTlsNetnsTest}'s, in transport-tfo. */
class TestCertificateTest {
    @Test
    void aSelfSignedCertificateForTheHostThatOnlyItsOwnTrustManagerTrusts() throws Exception {
        TestCertificate cert = TestCertificate.selfSigned("localhost");
        X509Certificate[] chain = ((X509KeyManager) cert.keyManagerFactory().getKeyManagers()[0])
                .getCertificateChain("tls");
        assertEquals(1, chain.length);
        assertEquals("CN=localhost", chain[0].getSubjectX500Principal().getName());
        assertEquals(chain[0].getSubjectX500Principal(), chain[0].getIssuerX500Principal(), "self-signed");
        assertEquals("EC", chain[0].getPublicKey().getAlgorithm());
        assertTrue(chain[0].getSubjectAlternativeNames().contains(List.of(2, "localhost")),
                String.valueOf(chain[0].getSubjectAlternativeNames()));

        X509TrustManager trust = (X509TrustManager) cert.trustManagerFactory().getTrustManagers()[0];
        assertDoesNotThrow(() -> trust.checkServerTrusted(chain, "ECDHE_ECDSA"));
        X509Certificate[] other = ((X509KeyManager) TestCertificate.selfSigned("localhost").keyManagerFactory()
                .getKeyManagers()[0]).getCertificateChain("tls");
        assertThrows(CertificateException.class, () -> trust.checkServerTrusted(other, "ECDHE_ECDSA"));
    }
}
