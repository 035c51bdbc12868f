package dev.tfo.spring.boot;

import dev.tfo.TfoBackoff;
import dev.tfo.TfoResultListener;
import dev.tfo.TfoSynDataPolicy;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.grpc.client.VirtualTargets;
import org.springframework.util.ClassUtils;

/**
 * Spring gRPC (the Boot 4 line: Spring gRPC 1.0 on Boot 4.0, Netty 4.2) on unshaded {@code grpc-netty}: its channels
 * ({@code GrpcChannelBuilderCustomizer<NettyChannelBuilder>}) and its server ({@code
 * ServerBuilderCustomizer<NettyServerBuilder>}), both under {@code tfo.grpc.enabled}. The interfaces are Spring
 * gRPC's own ({@code spring-grpc-core}), not Boot's, so one configuration serves every Boot line that has them; the
 * client part needs Netty 4.2's {@code MultiThreadIoEventLoopGroup}, hence the condition on it.
 *
 * <p>With {@code grpc-netty-shaded} on the class path Spring gRPC builds on it (its Netty is a private copy the
 * starter cannot reach): the startup report says so.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(name = TfoGrpcConfiguration.NETTY_42)
@ConditionalOnProperty(prefix = "tfo.grpc", name = "enabled", havingValue = "true", matchIfMissing = true)
class TfoGrpcConfiguration {
    static final String NETTY_42 = "io.netty.channel.MultiThreadIoEventLoopGroup";
    static final String SHADED = "io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder";

    /**
     * Why no gRPC part gets TFO when {@code grpc-netty-shaded} is on the class path (Spring gRPC then builds its
     * channels and server on it, even with {@code grpc-netty} beside it), or {@code null}.
     */
    static String shadedProblem() {
        return ClassUtils.isPresent(SHADED, TfoGrpcConfiguration.class.getClassLoader())
                ? "gRPC: grpc-netty-shaded is on the class path and Spring gRPC builds on it (a private copy of Netty "
                + "the starter cannot reach): use grpc-netty instead"
                : null;
    }

    /** The channels Spring gRPC's {@code NettyGrpcChannelFactory} builds. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {"org.springframework.grpc.client.GrpcChannelBuilderCustomizer",
            "io.grpc.netty.NettyChannelBuilder"})
    static class Client {
        @Bean
        TfoGrpcChannelCustomizer tfoGrpcChannelBuilderCustomizer(TfoProperties properties,
                                                                 ObjectProvider<TfoBackoff> backoff,
                                                                 ObjectProvider<TfoResultListener> listeners,
                                                                 ObjectProvider<VirtualTargets> targets) {
            // Resolved per channel: Spring gRPC's properties (a VirtualTargets) name each channel's address.
            VirtualTargets resolved = path -> targets.getIfUnique(() -> VirtualTargets.DEFAULT).getTarget(path);
            TfoSynDataPolicy policy = TfoAutoConfiguration.policy(properties);
            return new TfoGrpcChannelCustomizer(TfoAutoConfiguration.clientOptions(properties, policy, backoff,
                    listeners), policy, resolved);
        }
    }

    /** The server Spring gRPC's {@code NettyGrpcServerFactory} builds. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {"org.springframework.grpc.server.ServerBuilderCustomizer",
            "io.grpc.netty.NettyServerBuilder"})
    static class Server {
        @Bean
        TfoGrpcServerCustomizer tfoGrpcServerBuilderCustomizer(TfoProperties properties, Environment environment) {
            boolean domainSocket = environment.getProperty("spring.grpc.server.address", "").startsWith("unix:");
            return new TfoGrpcServerCustomizer(properties.getServer().getQueueLength(), domainSocket);
        }
    }
}
