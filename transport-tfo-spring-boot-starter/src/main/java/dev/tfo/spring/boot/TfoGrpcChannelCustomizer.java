package dev.tfo.spring.boot;

import dev.tfo.TfoChannels;
import dev.tfo.TfoClientOptions;
import dev.tfo.TfoSupport;
import dev.tfo.TfoSynDataPolicy;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.core.Ordered;
import org.springframework.grpc.client.GrpcChannelBuilderCustomizer;
import org.springframework.grpc.client.VirtualTargets;

import java.util.concurrent.TimeUnit;

/**
 * The README's gRPC recipe on every channel Spring gRPC builds on unshaded {@code grpc-netty}:
 * {@code builder.channelFactory(TfoChannels.clientFactory(channels))}, with the event loop group grpc-java wants set
 * together with it ("Both EventLoopGroup and ChannelType should be provided or neither should be"). The group is the
 * starter's own, on epoll (grpc-java's own choice where epoll loads) or else io_uring, made at the first channel and
 * shut down with the application context; a JVM with neither (NIO) leaves the builder alone (the startup report says
 * why, once).
 *
 * <p>The HTTP/2 preface and the client's SETTINGS ride in the SYN from the second connection to a server on
 * (connection-level frames, admitted by the replay-safe policy); a unary call on a new channel then takes 2 round
 * trips instead of 3. Runs first ({@link Ordered#HIGHEST_PRECEDENCE}): a customizer of the application's that sets
 * its own event loop group and channel type runs after it and wins (and has no TFO unless it applies the recipe).
 * Unix domain socket targets ({@code unix:}) are left alone: Spring gRPC gives them an epoll domain socket channel.
 */
final class TfoGrpcChannelCustomizer implements GrpcChannelBuilderCustomizer<NettyChannelBuilder>, TfoPart, Ordered,
        DisposableBean {
    private final TfoClientOptions options;
    private final TfoSynDataPolicy policy;
    private final VirtualTargets targets;
    private final Transport transport;
    private final Object lock = new Object();
    private EventLoopGroup group;
    private ChannelFactory<? extends Channel> channels;
    private boolean closed;

    /**
     * @param options the client options (policy, backoff, result listener)
     * @param policy  their {@link TfoSynDataPolicy}, for the start-up report
     * @param targets how Spring gRPC resolves a channel name to its address, to leave {@code unix:} targets alone
     */
    TfoGrpcChannelCustomizer(TfoClientOptions options, TfoSynDataPolicy policy, VirtualTargets targets) {
        this(options, policy, targets, Transport.current());
    }

    TfoGrpcChannelCustomizer(TfoClientOptions options, TfoSynDataPolicy policy, VirtualTargets targets,
                             Transport transport) {
        this.options = options;
        this.policy = policy;
        this.targets = targets;
        this.transport = transport;
    }

    TfoClientOptions options() {
        return options;
    }

    Transport transport() {
        return transport;
    }

    /** The starter's event loop group, or {@code null} before the first channel. */
    EventLoopGroup group() {
        synchronized (lock) {
            return group;
        }
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }

    @Override
    public String description() {
        return "gRPC channels on grpc-netty (" + transport.label + ", " + policy + ")";
    }

    @Override
    public String problem(TfoSupport support) {
        String shaded = TfoGrpcConfiguration.shadedProblem();
        if (shaded != null) {
            return shaded;
        }
        if (transport == Transport.NIO) {
            return "gRPC channels: neither epoll nor io_uring loads here (NIO cannot send data in a SYN)";
        }
        return TfoPart.clientProblem(support);
    }

    @Override
    public void customize(String target, NettyChannelBuilder builder) {
        if (transport == Transport.NIO || !TfoHost.librarySupported() || isDomainSocket(target)) {
            return;
        }
        synchronized (lock) {
            if (closed) {
                return; // the context is closing: a late channel gets grpc-java's own transport
            }
            if (group == null) {
                group = transport.newGroup();
                channels = TfoChannels.clientFactory(transport.channels(), options);
            }
            builder.eventLoopGroup(group).channelFactory(channels);
        }
    }

    private boolean isDomainSocket(String target) {
        if (target.startsWith("unix:")) {
            return true;
        }
        String address = targets.getTarget(target);
        return address != null && address.startsWith("unix:");
    }

    /** Shuts the starter's group down with the context (after Spring gRPC's channel factory closed its channels). */
    @Override
    public void destroy() {
        EventLoopGroup g;
        synchronized (lock) {
            closed = true;
            g = group;
            group = null;
        }
        if (g != null) {
            g.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    @Override
    public String toString() {
        return "TfoGrpcChannelCustomizer(" + transport.label + ", " + options + ')';
    }

    /** The transport of the starter's channels: what grpc-java would pick (epoll), else io_uring, else none. */
    enum Transport {
        EPOLL("epoll"),
        IO_URING("io_uring"),
        NIO("NIO: no TFO");

        private final String label;

        Transport(String label) {
            this.label = label;
        }

        static Transport current() {
            return NativeTransports.epoll() ? EPOLL : NativeTransports.ioUring() ? IO_URING : NIO;
        }

        EventLoopGroup newGroup() {
            // 0: Netty's default thread count, as grpc-java's own shared worker group; daemon threads, as its.
            DefaultThreadFactory threads = new DefaultThreadFactory("tfo-grpc-" + label, true);
            return this == EPOLL ? new MultiThreadIoEventLoopGroup(0, threads, EpollIoHandler.newFactory())
                    : IoUring.newGroup(threads);
        }

        ChannelFactory<? extends Channel> channels() {
            return this == EPOLL ? EpollSocketChannel::new : IoUring.channels();
        }
    }

    /** io_uring's classes are optional: named only here, loaded only where io_uring is available. */
    private static final class IoUring {
        static EventLoopGroup newGroup(DefaultThreadFactory threads) {
            return new MultiThreadIoEventLoopGroup(0, threads, io.netty.channel.uring.IoUringIoHandler.newFactory());
        }

        static ChannelFactory<? extends Channel> channels() {
            return io.netty.channel.uring.IoUringSocketChannel::new;
        }
    }
}
