package dev.tfo;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;

/**
 * The main of {@link OldNettyIT}'s child JVM, whose class path holds the packaged library and a Netty older than
 * it supports: calls every public entry point once and prints one line each, {@code name<TAB>outcome}, where the
 * outcome is {@code ok <value>} or {@code <exception class>: <message>}. Uses the public API only.
 */
public final class OldNettyProbe {
    private OldNettyProbe() {
    }

    public static void main(String[] args) throws Exception {
        Path keyFile = Files.createTempFile("tfo-key", ".txt",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(keyFile, TfoKey.generate().format() + "\n");
        InetSocketAddress server = new InetSocketAddress("127.0.0.1", 9);

        // Pure Java: must work on any Netty.
        probe("TfoKey.generate", () -> TfoKey.generate());
        probe("TfoCounters.snapshot", () -> TfoCounters.snapshot().active() >= 0);
        probe("TfoClientOptions.builder", () -> TfoClientOptions.builder().build().firstWriteWait());
        probe("TfoServerOptions.builder", () -> TfoServerOptions.builder().queueLength(16).build().queueLength());
        probe("TfoBackoff.builder", () -> TfoBackoff.builder().build().backedOffDestinations());
        probe("TfoSupport.isClientAvailable", () -> TfoSupport.current().isClientAvailable());
        probe("TfoSupport.summary", () -> TfoSupport.current().summary());

        // Need Netty 4.1.76+: must fail at once with the version found and the version needed.
        probe("TfoChannels.serverFactory", () -> TfoChannels.<NioServerSocketChannel>serverFactory(
                () -> new NioServerSocketChannel(), TfoServerOptions.builder().queueLength(16).build()));
        ByteBuf firstFlight = Unpooled.copiedBuffer("GET / HTTP/1.1\r\n\r\n", StandardCharsets.US_ASCII);
        probe("TfoBootstraps.connect", () -> TfoBootstraps.connect(new Bootstrap(), server, firstFlight));
        probe("TfoBootstraps.connect released its first flight", () -> firstFlight.refCnt() == 0);
        probe("TfoChannels.client", () -> TfoChannels.client(new EmbeddedChannel(), TfoClientOptions.defaults()));
        probe("TfoChannels.clientFactory", () -> TfoChannels.<EmbeddedChannel>clientFactory(() -> new EmbeddedChannel(),
                TfoClientOptions.defaults()));
        probe("TfoResult.of", () -> TfoResult.of(new EmbeddedChannel()));
        probe("TfoKeyRing.of", () -> TfoKeyRing.of(TfoKey.generate()));
        probe("TfoKeyRing.of(backup)", () -> TfoKeyRing.of(TfoKey.generate(), TfoKey.generate()));
        probe("TfoKeyRing.watch", () -> TfoKeyRing.watch(keyFile));
        Files.delete(keyFile);
    }

    private static void probe(String name, Callable<?> call) {
        String outcome;
        try {
            outcome = "ok " + call.call();
        } catch (Throwable t) {
            outcome = t.getClass().getName() + ": " + t.getMessage();
        }
        System.out.println(name + "\t" + outcome.replace('\n', ' '));
    }
}
