package dev.tfo.spring.boot;

import dev.tfo.TfoBackoff;
import dev.tfo.TfoChannels;
import dev.tfo.TfoClientOptions;
import dev.tfo.TfoSynDataPolicy;
import dev.tfo.micrometer.TfoMetrics;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.redis.autoconfigure.ClientResourcesBuilderCustomizer;
import org.springframework.boot.http.client.autoconfigure.ClientHttpRequestFactoryBuilderCustomizer;
import org.springframework.boot.http.client.autoconfigure.reactive.ClientHttpConnectorBuilderCustomizer;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.grpc.client.VirtualTargets;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import dev.tfo.TfoSupport;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The auto-configuration's conditions on Boot 4.0, in the build's own network namespace (whatever its
 * {@code tcp_fastopen}: nothing may fail to start for lack of TFO): which beans each switch and each missing library
 * gives. The beans at work on the wire: {@link WebFluxAppTfoTest}.
 */
class TfoAutoConfigurationTest {
    private final ReactiveWebApplicationContextRunner web = new ReactiveWebApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(TfoAutoConfiguration.class));

    private static final List<Class<?>> STARTER_BEANS = List.of(TfoHttpClientCustomizer.class,
            TfoHttpServerCustomizer.class, TfoLettuceCustomizer.class, TfoMetrics.class, TfoInfoContributor.class,
            ClientHttpConnectorBuilderCustomizer.class, ClientHttpRequestFactoryBuilderCustomizer.class,
            NettyServerCustomizer.class, ClientResourcesBuilderCustomizer.class, TfoStartupReport.class,
            TfoGrpcChannelCustomizer.class, TfoGrpcServerCustomizer.class);

    @Test
    void everyPartOnBoot4ByDefault() {
        web.run(context -> {
            assertFalse((context.getStartupFailure() != null), () -> String.valueOf(context.getStartupFailure()));
            for (Class<?> type : STARTER_BEANS) {
                assertEquals(1, context.getBeansOfType(type).size(), type.getSimpleName());
            }
            assertTrue(Arrays.stream(context.getBeanDefinitionNames()).noneMatch(n -> n.startsWith("tfoBoot3")),
                    "no Boot 3.5 bean on Boot 4: " + Arrays.toString(context.getBeanDefinitionNames()));
            TfoClientOptions options = context.getBean(TfoHttpClientCustomizer.class).options();
            assertHas(options, "synDataPolicy=" + TfoSynDataPolicy.replaySafe());
            assertHas(options, "firstWriteWait=" + TfoClientOptions.DEFAULT_FIRST_WRITE_WAIT);
            assertHas(options, "resultListener=" + context.getBean(TfoMetrics.class)); // results to the meters
            assertHas(options, "backoff=" + TfoBackoff.shared());
            assertEquals(256, context.getBean(TfoHttpServerCustomizer.class).queueLength());
            TfoClientOptions grpc = context.getBean(TfoGrpcChannelCustomizer.class).options();
            assertHas(grpc, "synDataPolicy=" + TfoSynDataPolicy.replaySafe());
            assertHas(grpc, "resultListener=" + context.getBean(TfoMetrics.class)); // gRPC results too
            assertEquals(256, context.getBean(TfoGrpcServerCustomizer.class).queueLength());
            assertNull(context.getBean(TfoGrpcChannelCustomizer.class).group(), "no event loop before a channel");
            assertNotNull(context.getBean(TfoStartupReport.class).line(), "the startup line was logged");
        });
    }

    @Test
    void tfoEnabledFalseGivesNoBeanAtAll() {
        web.withPropertyValues("tfo.enabled=false").run(context -> {
            assertFalse((context.getStartupFailure() != null));
            assertTrue(Arrays.stream(context.getBeanDefinitionNames()).noneMatch(n -> n.startsWith("tfo")),
                    Arrays.toString(context.getBeanDefinitionNames()));
        });
    }

    @ParameterizedTest
    @CsvSource({
            "tfo.client.enabled, dev.tfo.spring.boot.TfoHttpClientCustomizer, org.springframework.boot.http.client.autoconfigure.reactive.ClientHttpConnectorBuilderCustomizer, 3",
            "tfo.server.enabled, dev.tfo.spring.boot.TfoHttpServerCustomizer, org.springframework.boot.reactor.netty.NettyServerCustomizer, 2",
            "tfo.redis.enabled, dev.tfo.spring.boot.TfoLettuceCustomizer, org.springframework.boot.data.redis.autoconfigure.ClientResourcesBuilderCustomizer, 2",
            "tfo.metrics.enabled, dev.tfo.micrometer.TfoMetrics, dev.tfo.micrometer.TfoMetrics, 1",
            "tfo.info.enabled, dev.tfo.spring.boot.TfoInfoContributor, dev.tfo.spring.boot.TfoInfoContributor, 1",
            "tfo.grpc.enabled, dev.tfo.spring.boot.TfoGrpcChannelCustomizer, dev.tfo.spring.boot.TfoGrpcServerCustomizer, 2",
    })
    void eachPartHasItsSwitch(String property, Class<?> part, Class<?> bootHook, int beansOfThePart) {
        web.withPropertyValues(property + "=false").run(context -> {
            assertFalse((context.getStartupFailure() != null));
            assertTrue(context.getBeansOfType(part).isEmpty(), part.getSimpleName());
            assertTrue(context.getBeansOfType(bootHook).isEmpty(), bootHook.getSimpleName());
            assertEquals(STARTER_BEANS.size() - beansOfThePart,
                    STARTER_BEANS.stream().filter(t -> !context.getBeansOfType(t).isEmpty()).count(), "the others stay");
        });
    }

    @Test
    void clientPolicyAndFirstWriteWaitFromProperties() {
        web.withPropertyValues("tfo.client.syn-data-policy=any", "tfo.client.first-write-wait=0",
                "tfo.server.queue-length=64").run(context -> {
            TfoClientOptions options = context.getBean(TfoHttpClientCustomizer.class).options();
            assertHas(options, "synDataPolicy=" + TfoSynDataPolicy.any());
            assertHas(options, "firstWriteWait=" + Duration.ZERO);
            assertEquals(64, context.getBean(TfoHttpServerCustomizer.class).queueLength());
            assertHas(context.getBean(TfoGrpcChannelCustomizer.class).options(), "synDataPolicy=" + TfoSynDataPolicy.any());
            assertEquals(64, context.getBean(TfoGrpcServerCustomizer.class).queueLength());
        });
        web.withPropertyValues("tfo.server.queue-length=0").run(context -> {
            assertTrue((context.getStartupFailure() != null), "a queue length of 0 is a configuration error");
            assertTrue(String.valueOf(context.getStartupFailure()).contains("tfo.server.queue-length must be > 0"),
                    String.valueOf(context.getStartupFailure()));
        });
    }

    /** Without Micrometer, Reactor Netty or Lettuce (each on its own), the application starts with the rest. */
    @Test
    void missingLibrariesLeaveTheirPartOut() {
        web.withClassLoader(new FilteredClassLoader("io.grpc.netty")).run(context -> {
            assertFalse((context.getStartupFailure() != null), () -> String.valueOf(context.getStartupFailure()));
            assertTrue(context.getBeansOfType(TfoGrpcChannelCustomizer.class).isEmpty(), "no grpc-netty, no gRPC part");
            assertTrue(context.getBeansOfType(TfoGrpcServerCustomizer.class).isEmpty());
            assertEquals(1, context.getBeansOfType(TfoHttpClientCustomizer.class).size());
        });
        web.withClassLoader(new FilteredClassLoader("org.springframework.grpc")).run(context -> {
            assertFalse((context.getStartupFailure() != null), () -> String.valueOf(context.getStartupFailure()));
            assertTrue(context.getBeansOfType(TfoGrpcChannelCustomizer.class).isEmpty(), "no Spring gRPC, no gRPC part");
            assertTrue(context.getBeansOfType(TfoGrpcServerCustomizer.class).isEmpty());
        });
        web.withClassLoader(new FilteredClassLoader("io.micrometer")).run(context -> {
            assertFalse((context.getStartupFailure() != null), () -> String.valueOf(context.getStartupFailure()));
            assertTrue(context.getBeansOfType(TfoHttpClientCustomizer.class).size() == 1);
            assertFalse(context.getBean(TfoHttpClientCustomizer.class).options().toString().contains("resultListener"));
            assertFalse(context.containsBean("tfoMetrics"));
        });
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(TfoAutoConfiguration.class))
                .withClassLoader(new FilteredClassLoader("reactor.netty", "io.lettuce")).run(context -> {
                    assertFalse((context.getStartupFailure() != null), () -> String.valueOf(context.getStartupFailure()));
                    assertTrue(context.getBeansOfType(TfoHttpClientCustomizer.class).isEmpty());
                    assertTrue(context.getBeansOfType(TfoLettuceCustomizer.class).isEmpty());
                    assertTrue(context.getBeansOfType(TfoHttpServerCustomizer.class).isEmpty());
                    assertEquals(1, context.getBeansOfType(TfoMetrics.class).size());
                });
    }

    /** A non-web application (a RestClient in a batch job, say) gets the client part, not the server's. */
    @Test
    void nonReactiveApplicationHasNoServerPart() {
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(TfoAutoConfiguration.class))
                .run(context -> {
                    assertEquals(1, context.getBeansOfType(ClientHttpRequestFactoryBuilderCustomizer.class).size());
                    assertTrue(context.getBeansOfType(TfoHttpServerCustomizer.class).isEmpty());
                    assertTrue(context.getBeansOfType(NettyServerCustomizer.class).isEmpty());
                });
    }

    /**
     * The customizer is the README's Reactor Netty recipe: the TFO handler on a TCP channel at init (NIO here: a
     * plain connection whose result says why), and nothing on a channel that is not TCP.
     */
    @Test
    void httpClientCustomizerPutsTheHandlerOnTcpChannelsOnly() {
        TfoHttpClientCustomizer customizer = new TfoHttpClientCustomizer(TfoClientOptions.defaults(), TfoSynDataPolicy.replaySafe());
        HttpClient client = customizer.apply(HttpClient.create());
        NioSocketChannel tcp = new NioSocketChannel();
        EmbeddedChannel other = new EmbeddedChannel();
        try {
            client.configuration().doOnChannelInit().onChannelInit(null, tcp, null);
            assertNotNull(tcp.pipeline().get(TfoChannels.HANDLER_NAME), "the TFO handler: " + tcp.pipeline().names());
            client.configuration().doOnChannelInit().onChannelInit(null, other, null);
            assertNull(other.pipeline().get(TfoChannels.HANDLER_NAME), other.pipeline().names().toString());
        } finally {
            tcp.unsafe().closeForcibly();
            other.finishAndReleaseAll();
        }
    }

    /**
     * The listener option is set only where Reactor Netty binds on epoll or io_uring: on NIO (here:
     * {@code -Dreactor.netty.native=false}) Netty would warn at every bind that it does not know it.
     */
    @Test
    void serverOptionOnlyWhereTheServerRunsNative() {
        TfoHttpServerCustomizer customizer = new TfoHttpServerCustomizer(128, null);
        boolean nativeHere = NativeTransports.epoll() || NativeTransports.ioUring();
        assertTrue(nativeHere, "epoll loads in this build");
        assertEquals(128, customizer.apply(HttpServer.create()).configuration().options()
                .get(TfoHttpServerCustomizer.TCP_FASTOPEN));
        String before = System.getProperty("reactor.netty.native");
        System.setProperty("reactor.netty.native", "false");
        try {
            assertNull(customizer.apply(HttpServer.create()).configuration().options()
                    .get(TfoHttpServerCustomizer.TCP_FASTOPEN), "no option on NIO");
            assertTrue(customizer.problem(TfoSupport.current()).startsWith("the server runs on NIO"));
        } finally {
            if (before == null) {
                System.clearProperty("reactor.netty.native");
            } else {
                System.setProperty("reactor.netty.native", before);
            }
        }
    }

    /**
     * The gRPC channel customizer makes its event loop group at the first TCP channel and shuts it down with the
     * context; a Unix domain socket target (by its name, or by the address Spring gRPC's properties give it) is left
     * alone, as is every channel once the context is closing.
     */
    @Test
    void grpcChannelCustomizerOwnsItsGroupAndLeavesUnixTargetsAlone() {
        VirtualTargets targets = name -> name.equals("local") ? "unix:/run/echo.sock" : "static://" + name;
        TfoGrpcChannelCustomizer customizer = new TfoGrpcChannelCustomizer(TfoClientOptions.defaults(), TfoSynDataPolicy.replaySafe(), targets);
        assertEquals(TfoGrpcChannelCustomizer.Transport.EPOLL, customizer.transport(), "epoll loads in this build");
        customizer.customize("unix:/run/echo.sock", NettyChannelBuilder.forTarget("unix:/run/echo.sock"));
        customizer.customize("local", NettyChannelBuilder.forTarget("unix:/run/echo.sock"));
        assertNull(customizer.group(), "unix targets: no group, builder untouched");
        customizer.customize("echo", NettyChannelBuilder.forTarget("127.0.0.1:9090"));
        EventLoopGroup group = customizer.group();
        assertNotNull(group, "a TCP target: the starter's group");
        customizer.customize("echo", NettyChannelBuilder.forTarget("127.0.0.1:9090"));
        assertSame(group, customizer.group(), "one group for every channel");
        customizer.destroy();
        assertTrue(group.isShutdown(), "shut down with the context");
        customizer.customize("echo", NettyChannelBuilder.forTarget("127.0.0.1:9090"));
        assertNull(customizer.group(), "a channel made while the context closes gets grpc-java's own transport");
        assertEquals("gRPC channels: neither epoll nor io_uring loads here (NIO cannot send data in a SYN)",
                new TfoGrpcChannelCustomizer(TfoClientOptions.defaults(), TfoSynDataPolicy.replaySafe(), targets,
                        TfoGrpcChannelCustomizer.Transport.NIO).problem(TfoSupport.current()));
    }

    /** The gRPC server's listener: no TFO on a Unix domain socket (the TCP option would fail its bind). */
    @Test
    void grpcServerCustomizerSaysWhyOnADomainSocket() {
        assertEquals("the gRPC server listens on a Unix domain socket (no TCP, no TFO)",
                new TfoGrpcServerCustomizer(256, true).problem(TfoSupport.current()));
        web.withPropertyValues("spring.grpc.server.address=unix:/run/echo.sock").run(context ->
                assertTrue(context.getBean(TfoGrpcServerCustomizer.class).problem(TfoSupport.current())
                        .contains("Unix domain socket")));
        web.withPropertyValues("tfo.server.queue-length=-1").run(context ->
                assertTrue(String.valueOf(context.getStartupFailure()).contains("tfo.server.queue-length must be > 0")));
    }

    /** A {@link TfoBackoff} bean of the application's is every client part's backoff. */
    @Test
    void aBackoffBeanOfTheApplicationIsUsed() {
        TfoBackoff mine = TfoBackoff.builder().initial(Duration.ofSeconds(30)).build();
        web.withBean(TfoBackoff.class, () -> mine).run(context -> {
            assertHas(context.getBean(TfoHttpClientCustomizer.class).options(), "backoff=" + mine);
            assertHas(context.getBean(TfoGrpcChannelCustomizer.class).options(), "backoff=" + mine);
            assertSame(mine, context.getBean(TfoMetrics.class).backoff(), "the gauge watches it");
        });
    }

    /** An option, as the options' own description shows it (options have no getters). */
    private static void assertHas(Object options, String option) {
        assertTrue(options.toString().contains(option), () -> option + " in " + options);
    }
}
