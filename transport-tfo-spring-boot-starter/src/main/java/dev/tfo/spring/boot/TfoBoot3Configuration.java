package dev.tfo.spring.boot;

import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.data.redis.ClientResourcesBuilderCustomizer;
import org.springframework.boot.http.client.ReactorClientHttpRequestFactoryBuilder;
import org.springframework.boot.autoconfigure.http.client.ClientHttpRequestFactoryBuilderCustomizer;
import org.springframework.boot.autoconfigure.http.client.reactive.ClientHttpConnectorBuilderCustomizer;
import org.springframework.boot.http.client.reactive.ReactorClientHttpConnectorBuilder;
import org.springframework.boot.web.embedded.netty.NettyServerCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import reactor.netty.http.server.HttpServer;

/**
 * Spring Boot 3.5: its hooks, in {@code spring-boot-autoconfigure} and {@code spring-boot} (Boot 4.0 moved them:
 * {@link TfoBoot4Configuration}). Each part is active only where its Boot 3.5 class is, and under the same switches
 * as the part in {@link TfoAutoConfiguration} whose customizer it hands over. The deprecated
 * {@code ReactorNettyHttpClientMapper} is not used: the builder customizers reach the same {@code HttpClient}.
 */
@Configuration(proxyBeanMethods = false)
class TfoBoot3Configuration {

    /** WebClient ({@code ClientHttpConnectorBuilder}) and RestClient ({@code ClientHttpRequestFactoryBuilder}). */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {TfoAutoConfiguration.HTTP_CLIENT,
            "org.springframework.boot.autoconfigure.http.client.reactive.ClientHttpConnectorBuilderCustomizer"})
    @ConditionalOnProperty(prefix = "tfo.client", name = "enabled", havingValue = "true", matchIfMissing = true)
    static class HttpClients {
        @Bean
        ConnectorCustomizer tfoBoot3ClientHttpConnectorBuilderCustomizer(TfoHttpClientCustomizer tfo) {
            return new ConnectorCustomizer(tfo);
        }

        @Bean
        RequestFactoryCustomizer tfoBoot3ClientHttpRequestFactoryBuilderCustomizer(TfoHttpClientCustomizer tfo) {
            return new RequestFactoryCustomizer(tfo);
        }
    }

    /** The embedded Reactor Netty server. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {TfoAutoConfiguration.HTTP_SERVER, "org.springframework.boot.web.embedded.netty.NettyServerCustomizer"})
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
    @ConditionalOnProperty(prefix = "tfo.server", name = "enabled", havingValue = "true", matchIfMissing = true)
    static class Server {
        @Bean
        ServerCustomizer tfoBoot3NettyServerCustomizer(TfoHttpServerCustomizer tfo) {
            return new ServerCustomizer(tfo);
        }
    }

    /** Spring Data Redis on Lettuce. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {TfoAutoConfiguration.CLIENT_RESOURCES, TfoAutoConfiguration.REDIS_CONNECTION_FACTORY,
            "org.springframework.boot.autoconfigure.data.redis.ClientResourcesBuilderCustomizer"})
    @ConditionalOnProperty(prefix = "tfo.redis", name = "enabled", havingValue = "true", matchIfMissing = true)
    static class Redis {
        @Bean
        RedisCustomizer tfoBoot3ClientResourcesBuilderCustomizer(TfoLettuceCustomizer tfo) {
            return new RedisCustomizer(tfo);
        }
    }

    /** Named classes, not lambdas: Boot applies a customizer only to the builder type its generic names. */
    static final class ConnectorCustomizer implements ClientHttpConnectorBuilderCustomizer<ReactorClientHttpConnectorBuilder> {
        private final TfoHttpClientCustomizer tfo;

        ConnectorCustomizer(TfoHttpClientCustomizer tfo) {
            this.tfo = tfo;
        }

        @Override
        public ReactorClientHttpConnectorBuilder customize(ReactorClientHttpConnectorBuilder builder) {
            return builder.withHttpClientCustomizer(tfo);
        }
    }

    static final class RequestFactoryCustomizer
            implements ClientHttpRequestFactoryBuilderCustomizer<ReactorClientHttpRequestFactoryBuilder> {
        private final TfoHttpClientCustomizer tfo;

        RequestFactoryCustomizer(TfoHttpClientCustomizer tfo) {
            this.tfo = tfo;
        }

        @Override
        public ReactorClientHttpRequestFactoryBuilder customize(ReactorClientHttpRequestFactoryBuilder builder) {
            return builder.withHttpClientCustomizer(tfo);
        }
    }

    static final class ServerCustomizer implements NettyServerCustomizer {
        private final TfoHttpServerCustomizer tfo;

        ServerCustomizer(TfoHttpServerCustomizer tfo) {
            this.tfo = tfo;
        }

        @Override
        public HttpServer apply(HttpServer server) {
            return tfo.apply(server);
        }
    }

    /**
     * First: Lettuce takes one {@code NettyCustomizer}, so a customizer of the application's that sets its own runs
     * after this one and replaces it (the starter's README says how to keep TFO then).
     */
    @Order(Ordered.HIGHEST_PRECEDENCE)
    static final class RedisCustomizer implements ClientResourcesBuilderCustomizer {
        private final TfoLettuceCustomizer tfo;

        RedisCustomizer(TfoLettuceCustomizer tfo) {
            this.tfo = tfo;
        }

        @Override
        public void customize(io.lettuce.core.resource.ClientResources.Builder builder) {
            tfo.customize(builder);
        }
    }
}
