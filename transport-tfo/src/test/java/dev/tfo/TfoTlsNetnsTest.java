package dev.tfo;

import dev.tfo.testkit.Capture;
import dev.tfo.testkit.EchoHandlers;
import dev.tfo.testkit.FreshNetns;
import dev.tfo.testkit.Packet;
import dev.tfo.testkit.TestCertificate;
import dev.tfo.testkit.TestTransport;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TLS over TFO: with an SslHandler in the pipeline, the ClientHello is the first flight and rides in the SYN. */
@FreshNetns
class TfoTlsNetnsTest {
    @Test
    void theClientHelloRidesInTheSyn() throws Exception {
        TestCertificate cert = TestCertificate.selfSigned("localhost");
        SslContext serverSsl = SslContextBuilder.forServer(cert.keyManagerFactory()).build();
        SslContext clientSsl = SslContextBuilder.forClient().trustManager(cert.trustManagerFactory()).build();

        try (EchoFixture echo = new EchoFixture(TestTransport.EPOLL)) {
            ServerBootstrap sb = new ServerBootstrap().group(echo.group)
                    .channelFactory(TfoChannels.serverFactory(EpollServerSocketChannel::new,
                            TfoServerOptions.builder().queueLength(64).build()))
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            TfoResult.of(ch).addListener(f -> echo.serverResults.add((TfoResult) f.getNow()));
                            ch.pipeline().addLast(serverSsl.newHandler(ch.alloc()), EchoHandlers.echo());
                        }
                    });
            InetSocketAddress server = (InetSocketAddress) sb.bind("127.0.0.200", 0).sync().channel().localAddress();
            byte[] request = "GET /over-tls".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

            try (Capture capture = Capture.here("lo", "tcp port " + server.getPort())) {
                for (int i = 0; i < 2; i++) {
                    CompletableFuture<byte[]> echoed = new CompletableFuture<>();
                    Bootstrap b = new Bootstrap().group(echo.group).channel(TestTransport.EPOLL.channel())
                            .handler(new ChannelInitializer<Channel>() {
                                @Override
                                protected void initChannel(Channel ch) {
                                    ch.pipeline().addLast(clientSsl.newHandler(ch.alloc(), "localhost", server.getPort()),
                                            EchoHandlers.collector(request.length, echoed));
                                }
                            });
                    Channel ch = TfoBootstraps.connect(TfoTestClients.tfo(b), server, Unpooled.wrappedBuffer(request))
                            .get(10, TimeUnit.SECONDS);
                    TfoResult result = TfoResult.of(ch).get(10, TimeUnit.SECONDS);
                    assertArrayEquals(request, echoed.get(10, TimeUnit.SECONDS), "echo over TLS");
                    assertEquals(i == 0 ? TfoOutcome.COOKIE_REQUESTED : TfoOutcome.SYN_DATA_ACKED, result.outcome(),
                            "connection " + i + ": " + result);
                    assertEquals(i == 0 ? TfoOutcome.NO_SYN_DATA : TfoOutcome.SYN_DATA_ACCEPTED,
                            echo.serverResults.poll(10, TimeUnit.SECONDS).outcome());
                }
                Packet syn = capture.await(p -> p.isSynWithData() && p.dstPort() == server.getPort(),
                        Duration.ofSeconds(10));
                byte[] p = syn.payload();
                assertEquals(0x16, p[0] & 0xff, "a TLS handshake record in the SYN: " + syn);
                assertEquals(0x03, p[1] & 0xff, "TLS major version: " + syn);
                assertEquals(0x01, p[5] & 0xff, "a ClientHello: " + syn);
                assertTrue(p.length > 100, "the whole ClientHello fits: " + p.length + " bytes");
            }
        }
    }
}
