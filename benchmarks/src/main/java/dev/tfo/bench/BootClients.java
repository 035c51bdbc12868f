package dev.tfo.bench;

import dev.tfo.TfoResultListener;
import io.netty.channel.Channel;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.web.reactive.function.client.WebClient;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The {@link FrameworkCase#BOOT_WEBCLIENT} rows: two Spring Boot 4.0 applications (no web server,
 * {@code spring.main.web-application-type=none}) with transport-tfo-spring-boot-starter on their class path and no
 * TFO code, one with {@code tfo.enabled=false} (plain) and one with {@code tfo.enabled=true} (the starter's
 * default); each calls through the {@code WebClient} it builds from Boot's {@code WebClient.Builder} (Reactor Netty,
 * Boot's pooled connection provider, Reactor Netty's default event loops). Each GET carries
 * {@code Connection: close}, so that every request opens a new connection.
 *
 * <p>The TFO application has one bean of the benchmark's: a {@link TfoResultListener}, which the starter tells each
 * connection's result (as it tells the meters), so that the benchmark knows the channel of each request.
 */
final class BootClients implements AutoCloseable {
    /** The benchmark's Boot application: nothing but auto-configuration. */
    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class BootClientApp {
    }

    private final ConfigurableApplicationContext plain;
    private final ConfigurableApplicationContext tfo;
    private final WebClient plainClient;
    private final WebClient tfoClient;

    /**
     * @param channels told each channel whose TFO result the starter decided (the TFO application's only)
     */
    BootClients(Consumer<Channel> channels) {
        this.plain = start(false, null);
        this.tfo = start(true, (channel, result) -> channels.accept(channel));
        this.plainClient = plain.getBean(WebClient.Builder.class).build();
        this.tfoClient = tfo.getBean(WebClient.Builder.class).build();
    }

    private static ConfigurableApplicationContext start(boolean tfoEnabled, TfoResultListener listener) {
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("tfo.enabled", Boolean.toString(tfoEnabled));
        props.put("spring.main.banner-mode", "off");
        props.put("logging.level.root", "WARN");
        SpringApplicationBuilder app = new SpringApplicationBuilder(BootClientApp.class)
                .web(WebApplicationType.NONE).properties(props);
        if (listener != null) {
            app.initializers(context -> context.getBeanFactory().registerSingleton("benchTfoResults", listener));
        }
        return app.run();
    }

    /**
     * One GET on a new connection.
     *
     * @return the length of the response body, or minus the status code when it is not 200
     */
    int get(boolean withTfo, String url, Duration timeout) {
        Integer length = (withTfo ? tfoClient : plainClient).get().uri(url).header("Connection", "close")
                .exchangeToMono(res -> res.bodyToMono(byte[].class)
                        .map(b -> res.statusCode().value() == 200 ? b.length : -res.statusCode().value()))
                .block(timeout);
        return length == null ? 0 : length;
    }

    @Override
    public void close() {
        // Both at the end: closing a Boot application disposes Reactor Netty's global resources, which both use.
        plain.close();
        tfo.close();
    }
}
