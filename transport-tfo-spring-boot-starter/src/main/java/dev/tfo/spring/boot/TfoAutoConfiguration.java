package dev.tfo.spring.boot;

import dev.tfo.TfoBackoff;
import dev.tfo.TfoClientOptions;
import dev.tfo.TfoResultListener;
import dev.tfo.TfoSynDataPolicy;
import dev.tfo.micrometer.TfoMetrics;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

import java.util.List;

/**
 * TCP Fast Open for a Spring Boot application, with no code: the parts that are the same on Boot 3.5 and 4.0 (what
 * is configured, the meters, the info). The hooks that moved between the two lines are registered by
 * {@link TfoBoot4Configuration} and {@link TfoBoot3Configuration}, each active only where its line's classes are.
 * Every condition names classes by string, so that one jar loads on both lines and without any of the frameworks.
 *
 * <p>{@code tfo.enabled=false} turns everything off; see {@link TfoProperties} for the switch of each part.
 */
@AutoConfiguration
@ConditionalOnProperty(prefix = "tfo", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(TfoProperties.class)
@Import({TfoBoot4Configuration.class, TfoBoot3Configuration.class, TfoGrpcConfiguration.class})
public class TfoAutoConfiguration {
    static final String HTTP_CLIENT = "reactor.netty.http.client.HttpClient";
    static final String HTTP_SERVER = "reactor.netty.http.server.HttpServer";
    static final String CLIENT_RESOURCES = "io.lettuce.core.resource.ClientResources";
    static final String REDIS_CONNECTION_FACTORY = "org.springframework.data.redis.connection.RedisConnectionFactory";

    /** The one startup line: what has TFO, and what keeps it from working here. */
    @Bean
    static TfoStartupReport tfoStartupReport(ObjectProvider<TfoPart> parts,
                                             ObjectProvider<TfoResultListener> listeners) {
        return new TfoStartupReport(parts, listeners);
    }

    /**
     * Client options from the properties, with the application's {@link TfoBackoff} bean if it has one (else the
     * shared one), telling every {@link TfoResultListener} bean (the meters) each result.
     */
    static TfoClientOptions clientOptions(TfoProperties properties, TfoSynDataPolicy policy,
                                          ObjectProvider<TfoBackoff> backoff,
                                          ObjectProvider<TfoResultListener> listeners) {
        TfoClientOptions.Builder builder = TfoClientOptions.builder()
                .backoff(backoff.getIfUnique(TfoBackoff::shared))
                .synDataPolicy(policy)
                .firstWriteWait(properties.getClient().getFirstWriteWait());
        TfoResultListener listener = listener(listeners);
        return (listener == null ? builder : builder.resultListener(listener)).build();
    }

    /** The policy {@code tfo.client.syn-data-policy} names. */
    static TfoSynDataPolicy policy(TfoProperties properties) {
        return properties.getClient().getSynDataPolicy() == TfoProperties.SynDataPolicy.ANY
                ? TfoSynDataPolicy.any() : TfoSynDataPolicy.replaySafe();
    }

    /** Every {@link TfoResultListener} bean as one, or {@code null} when there is none. */
    static TfoResultListener listener(ObjectProvider<TfoResultListener> listeners) {
        List<TfoResultListener> all = listeners.orderedStream().toList();
        if (all.isEmpty()) {
            return null;
        }
        if (all.size() == 1) {
            return all.get(0);
        }
        return (channel, result) -> {
            for (TfoResultListener l : all) {
                l.onResult(channel, result);
            }
        };
    }

    /** WebClient and RestClient on Reactor Netty: the customizer both lines hand to Boot's builders. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = HTTP_CLIENT)
    @ConditionalOnProperty(prefix = "tfo.client", name = "enabled", havingValue = "true", matchIfMissing = true)
    static class ReactorNettyClientConfiguration {
        @Bean
        TfoHttpClientCustomizer tfoHttpClientCustomizer(TfoProperties properties, ObjectProvider<TfoBackoff> backoff,
                                                        ObjectProvider<TfoResultListener> listeners) {
            TfoSynDataPolicy policy = policy(properties);
            return new TfoHttpClientCustomizer(clientOptions(properties, policy, backoff, listeners), policy);
        }
    }

    /** The embedded Reactor Netty server of a WebFlux application. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = HTTP_SERVER)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
    @ConditionalOnProperty(prefix = "tfo.server", name = "enabled", havingValue = "true", matchIfMissing = true)
    static class ReactorNettyServerConfiguration {
        @Bean
        TfoHttpServerCustomizer tfoHttpServerCustomizer(TfoProperties properties,
                                                        ObjectProvider<TfoResultListener> listeners) {
            return new TfoHttpServerCustomizer(properties.getServer().getQueueLength(), listener(listeners));
        }
    }

    /** Spring Data Redis on Lettuce. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {CLIENT_RESOURCES, REDIS_CONNECTION_FACTORY})
    @ConditionalOnProperty(prefix = "tfo.redis", name = "enabled", havingValue = "true", matchIfMissing = true)
    static class LettuceConfiguration {
        @Bean
        TfoLettuceCustomizer tfoLettuceCustomizer(TfoProperties properties, ObjectProvider<TfoBackoff> backoff,
                                                  ObjectProvider<TfoResultListener> listeners) {
            return new TfoLettuceCustomizer(clientOptions(properties, TfoLettuceCustomizer.HELLO_ONLY, backoff,
                    listeners));
        }
    }

    /**
     * The meters: a {@link TfoMetrics} binder, which Spring Boot binds to every {@code MeterRegistry} like any
     * {@code MeterBinder} bean, and which the client and server options above tell every result. Its gauge watches the
     * backoff the clients use.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {"io.micrometer.core.instrument.binder.MeterBinder", "dev.tfo.micrometer.TfoMetrics"})
    @ConditionalOnProperty(prefix = "tfo.metrics", name = "enabled", havingValue = "true", matchIfMissing = true)
    static class MetricsConfiguration {
        @Bean
        @ConditionalOnMissingBean
        TfoMetrics tfoMetrics(ObjectProvider<TfoBackoff> backoff) {
            return new TfoMetrics(backoff.getIfUnique(TfoBackoff::shared));
        }
    }

    /** {@code tfo} in {@code /actuator/info}. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.info.InfoContributor")
    @ConditionalOnProperty(prefix = "tfo.info", name = "enabled", havingValue = "true", matchIfMissing = true)
    static class InfoConfiguration {
        @Bean
        TfoInfoContributor tfoInfoContributor() {
            return new TfoInfoContributor();
        }
    }
}
