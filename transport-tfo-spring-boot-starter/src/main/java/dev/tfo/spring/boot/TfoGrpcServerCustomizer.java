package dev.tfo.spring.boot;

import dev.tfo.TfoSupport;
import io.grpc.netty.NettyServerBuilder;
import org.springframework.grpc.server.ServerBuilderCustomizer;

/**
 * TFO on the listener of the gRPC server Spring gRPC builds on unshaded {@code grpc-netty}: the kernel's
 * {@code TCP_FASTOPEN} as a listener option ({@code NettyServerBuilder.withOption}), set as the raw socket option as
 * the WebFlux part does ({@link TfoListenerOption#TCP_FASTOPEN}), so that it follows the live
 * {@code net.ipv4.tcp_fastopen}. A TFO server accepts when the SYN arrives and sends its HTTP/2 SETTINGS right
 * behind its SYN-ACK, which is what lets a client's unary call on a new channel finish in 2 round trips instead of 3.
 *
 * <p>Only where grpc-java binds on epoll: it picks epoll where {@code netty-transport-native-epoll} loads, NIO
 * elsewhere (where Netty would warn at every bind that it does not know the option, and TFO could not work anyway:
 * the startup report says so once). Not on a Unix domain socket address ({@code spring.grpc.server.address=unix:...}),
 * where the TCP option would fail the bind. The server's channels stay grpc-java's: no accepted channel is reachable
 * without taking over its channel type and both event loop groups, so the server's results are not told to the
 * {@code TfoResultListener}s (the kernel's {@code TCPFastOpenPassive}, {@code tfo.kernel.passive}, counts them).
 */
final class TfoGrpcServerCustomizer implements ServerBuilderCustomizer<NettyServerBuilder>, TfoPart {
    private final int queueLength;
    private final boolean domainSocket;

    /**
     * @param queueLength  the TFO queue length, &gt; 0
     * @param domainSocket whether the server listens on a Unix domain socket
     */
    TfoGrpcServerCustomizer(int queueLength, boolean domainSocket) {
        if (queueLength <= 0) {
            throw new IllegalArgumentException("tfo.server.queue-length must be > 0, was " + queueLength);
        }
        this.queueLength = queueLength;
        this.domainSocket = domainSocket;
    }

    int queueLength() {
        return queueLength;
    }

    @Override
    public String description() {
        return "gRPC server on grpc-netty (TFO queue " + queueLength + ")";
    }

    @Override
    public String problem(TfoSupport support) {
        String shaded = TfoGrpcConfiguration.shadedProblem();
        if (shaded != null) {
            return shaded;
        }
        if (domainSocket) {
            return "the gRPC server listens on a Unix domain socket (no TCP, no TFO)";
        }
        if (!NativeTransports.epoll()) {
            return "the gRPC server runs on NIO (grpc-netty binds on epoll only where netty-transport-native-epoll "
                    + "loads), which cannot accept data in a SYN";
        }
        return support.sysctl() >= 0 && (support.sysctl() & 0x2) != 0 ? null
                : "servers: net.ipv4.tcp_fastopen=" + support.sysctl() + " lacks the server bit 0x2";
    }

    @Override
    public void customize(NettyServerBuilder builder) {
        if (TfoHost.librarySupported() && !domainSocket && NativeTransports.epoll()) {
            builder.withOption(TfoListenerOption.TCP_FASTOPEN, queueLength);
        }
    }

    @Override
    public String toString() {
        return "TfoGrpcServerCustomizer(queueLength=" + queueLength + ')';
    }
}
