package dev.tfo.bench;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * JIT warm-up of a benchmark JVM on its own namespace's loopback: an in-process {@link BenchServer} and the
 * {@link Variant}s' client code, so that the measured connections over the delay wire run compiled
 * code on both sides. Takes a second or two.
 */
final class LoopbackWarmup {
    private LoopbackWarmup() {
    }

    static void run(int connectionsPerVariant, int requestBytes, int responseBytes) throws InterruptedException {
        if (connectionsPerVariant <= 0) {
            return;
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (BenchServer server = BenchServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                requestBytes, responseBytes, 1)) {
            Clients clients = new Clients(group, requestBytes, responseBytes, null, true);
            InetSocketAddress target = server.address();
            for (int i = 0; i < connectionsPerVariant; i++) {
                for (Variant v : Variant.values()) {
                    LatencyClient.once(clients, v, target);
                }
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
