package dev.tfo.spring.boot;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The application under test: WebFlux on the embedded Reactor Netty server, WebClient, actuator, and the starter on
 * its class path. No line of TFO code: all of it comes from the starter's auto-configuration.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
class WebFluxApp {
    @Bean
    RouterFunction<ServerResponse> routes() {
        return RouterFunctions.route()
                .GET("/hello", request -> ServerResponse.ok().bodyValue("hello"))
                .build();
    }

    @Bean
    TfoProbe tfoProbe() {
        return new TfoProbe();
    }

    /** Starts the application on {@code address} (an ephemeral port), with extra properties. */
    static ConfigurableApplicationContext start(String address, String... properties) {
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("server.address", address);
        props.put("server.port", "0");
        props.put("spring.main.banner-mode", "off");
        props.put("management.endpoints.web.exposure.include", "info,metrics");
        for (String p : properties) {
            int eq = p.indexOf('=');
            props.put(p.substring(0, eq), p.substring(eq + 1));
        }
        return new SpringApplicationBuilder(WebFluxApp.class).web(WebApplicationType.REACTIVE).properties(props).run();
    }

    static int port(ConfigurableApplicationContext context) {
        return Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
    }
}
