package dev.tfo.bench;

import dev.tfo.testkit.DelayWire;
import dev.tfo.testkit.Host;
import dev.tfo.testkit.HostProcess;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Runs the framework benchmark: {@link FrameworkServers} in the server namespace, {@link FrameworkClient} in the
 * client namespace, joined by a {@link DelayWire}; a fresh self-signed certificate (ECDSA P-256, SAN = the
 * server's wire address and 127.0.0.1) for HTTPS.
 */
final class Frameworks {
    static final int BASE_PORT = 7100;

    private Frameworks() {
    }

    /** A self-signed certificate (ECDSA P-256) for {@code ip} and 127.0.0.1. */
    static X509Bundle certificate(String ip) {
        try {
            return new CertificateBuilder().subject("CN=tfo-bench").addSanIpAddress(ip).addSanIpAddress("127.0.0.1")
                    .setIsCertificateAuthority(true).ecp256().buildSelfSigned();
        } catch (Exception e) {
            throw new IllegalStateException("cannot make the benchmark's certificate", e);
        }
    }

    static FrameworkResult run(BenchMain.Config c, Host client, Host server) throws IOException {
        DelayWire wire = DelayWire.between(client, server, Duration.ofNanos(c.frameworkRtt * 1_000_000L / 2));
        String ip = wire.address(server).getHostAddress();
        Path dir = Files.createTempDirectory("tfo-bench-tls");
        try {
            X509Bundle cert = certificate(ip);
            Path certPem = Files.writeString(dir.resolve("cert.pem"), cert.getCertificatePEM());
            Path keyPem = Files.writeString(dir.resolve("key.pem"), cert.getPrivateKeyPEM());
            String req = Integer.toString(c.requestBytes);
            String resp = Integer.toString(c.responseBytes);
            String warm = Integer.toString(c.frameworkLoopbackWarmup);
            BenchMain.log("frameworks: servers starting (loopback warm-up " + c.frameworkLoopbackWarmup + " rounds)");
            HostProcess srv = server.startJava(BenchMain.JVM, FrameworkServers.class, Integer.toString(BASE_PORT),
                    certPem.toString(), keyPem.toString(), req, resp, warm);
            srv.awaitLine(l -> l.startsWith("listening"), Duration.ofSeconds(300));
            BenchMain.log("frameworks: " + c.frameworkIterations + " requests (+" + c.warmup + " warm-up rounds) x "
                    + 2 * FrameworkCase.values().length + " rows at RTT " + c.frameworkRtt + " ms");
            HostProcess cli = client.startJava(BenchMain.JVM, FrameworkClient.class,
                    Integer.toString(c.frameworkIterations), Integer.toString(c.warmup), warm, req, resp, ip,
                    Integer.toString(BASE_PORT), certPem.toString(), keyPem.toString());
            long expected = (long) c.frameworkIterations * 2 * FrameworkCase.values().length;
            long deadline = System.currentTimeMillis() + 300_000
                    + (c.frameworkIterations + c.warmup) * 20L * c.frameworkRtt;
            while (cli.isAlive() && System.currentTimeMillis() < deadline) {
                BenchMain.sleep(5000);
                long n = cli.lines().stream().filter(l -> l.startsWith("FSAMPLE")).count();
                BenchMain.log("frameworks: " + n + "/" + expected + " requests measured");
            }
            int code = cli.awaitExit(Duration.ofMillis(Math.max(1000, deadline - System.currentTimeMillis())));
            if (code != 0 || !cli.lines().contains("DONE")) {
                throw new IllegalStateException("framework client failed (exit " + code + ")\n" + cli.transcript());
            }
            BenchMain.check(cli);
            srv.close();
            BenchMain.check(srv);
            FrameworkResult r = new FrameworkResult(c.frameworkRtt);
            r.wireStats = wire.stats().toString();
            for (String line : cli.lines()) {
                String[] f = line.split(" ");
                if (f[0].equals("FSAMPLE")) {
                    r.add(f);
                } else if (f[0].equals("FPRIME")) {
                    r.primeOutcomes.put(FrameworkCase.ofKey(f[1]), f[2]);
                } else if (f[0].equals("FTRANSPORT")) {
                    r.transports.put(FrameworkCase.ofKey(f[1]), f[2]);
                }
            }
            return r;
        } finally {
            wire.close();
            for (String name : List.of("cert.pem", "key.pem")) {
                Files.deleteIfExists(dir.resolve(name));
            }
            Files.deleteIfExists(dir);
        }
    }
}
