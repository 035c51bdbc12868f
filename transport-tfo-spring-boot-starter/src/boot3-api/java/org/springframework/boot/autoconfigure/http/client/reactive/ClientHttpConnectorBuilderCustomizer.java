/*
 * Compile-time shape of a Spring Boot 3.5 interface that moved in Boot 4.0, for the Boot 3.5 configuration of
 * transport-tfo-spring-boot-starter. On javac's source path only (-implicit:none): never compiled into the jar.
 * Its signature is that of the Spring Boot 3.5.7 jar (javap), and tfo-spring-boot3-it runs the starter on a real
 * Boot 3.5.7 application. Spring Boot is Apache-2.0 licensed, as is this project.
 */
package org.springframework.boot.autoconfigure.http.client.reactive;

import org.springframework.boot.http.client.reactive.ClientHttpConnectorBuilder;

/** Boot 3.5: spring-boot-autoconfigure. Boot 4.0: org.springframework.boot.http.client.autoconfigure.reactive. */
@FunctionalInterface
public interface ClientHttpConnectorBuilderCustomizer<B extends ClientHttpConnectorBuilder<?>> {
    B customize(B builder);
}
