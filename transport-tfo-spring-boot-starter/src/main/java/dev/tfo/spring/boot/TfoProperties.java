package dev.tfo.spring.boot;

import dev.tfo.TfoClientOptions;
import dev.tfo.TfoServerOptions;
import org.springframework.boot.context.properties.ConfigurationProperties;

import java.time.Duration;

/**
 * The starter's settings, under the prefix {@code tfo}. Every part is on by default; {@code tfo.enabled=false}
 * turns all of them off (no customizer, no meter, no info), and each part has its own switch.
 *
 * <pre>
 * tfo.enabled=true                       # everything
 * tfo.client.enabled=true                # WebClient and RestClient on Reactor Netty
 * tfo.client.syn-data-policy=replay-safe # or any: every first write may ride in the SYN
 * tfo.client.first-write-wait=250ms      # a connection that writes nothing by then gets a SYN without data
 * tfo.server.enabled=true                # the embedded Reactor Netty server (WebFlux)
 * tfo.server.queue-length=256            # TCP_FASTOPEN queue of the listeners (Reactor Netty, gRPC)
 * tfo.redis.enabled=true                 # Spring Data Redis on Lettuce (HELLO rides in the SYN)
 * tfo.grpc.enabled=true                  # Spring gRPC on grpc-netty: its channels and its server
 * tfo.metrics.enabled=true               # TfoMetrics bound to the application's MeterRegistry
 * tfo.info.enabled=true                  # "tfo" in /actuator/info
 * </pre>
 */
@ConfigurationProperties(prefix = "tfo")
public class TfoProperties {
    /** Whether TCP Fast Open is configured at all: false turns every part of the starter off. */
    private boolean enabled = true;

    private final Client client = new Client();
    private final Server server = new Server();
    private final Redis redis = new Redis();
    private final Grpc grpc = new Grpc();
    private final Metrics metrics = new Metrics();
    private final Info info = new Info();

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public Client getClient() {
        return client;
    }

    public Server getServer() {
        return server;
    }

    public Redis getRedis() {
        return redis;
    }

    public Grpc getGrpc() {
        return grpc;
    }

    public Metrics getMetrics() {
        return metrics;
    }

    public Info getInfo() {
        return info;
    }

    /** What may ride in the SYN of a new HTTP connection. */
    public enum SynDataPolicy {
        /** Only bytes known to be safe to replay: a TLS ClientHello, an HTTP GET or HEAD; never a POST. */
        REPLAY_SAFE,
        /** Every first write, a POST too: only if every request of the application is safe to replay. */
        ANY
    }

    /** WebClient and RestClient on Reactor Netty. */
    public static class Client {
        /** Whether WebClient and RestClient on Reactor Netty send their first write in the SYN. */
        private boolean enabled = true;

        /**
         * What of a new connection's first write may ride in the SYN: replay-safe (a TLS ClientHello, an HTTP GET
         * or HEAD; a POST travels after the handshake) or any.
         */
        private SynDataPolicy synDataPolicy = SynDataPolicy.REPLAY_SAFE;

        /**
         * How long a new connection whose SYN the kernel holds for data waits for its first write before it sends
         * the SYN without data (applies to Redis connections too).
         */
        private Duration firstWriteWait = TfoClientOptions.DEFAULT_FIRST_WRITE_WAIT;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public SynDataPolicy getSynDataPolicy() {
            return synDataPolicy;
        }

        public void setSynDataPolicy(SynDataPolicy synDataPolicy) {
            this.synDataPolicy = synDataPolicy;
        }

        public Duration getFirstWriteWait() {
            return firstWriteWait;
        }

        public void setFirstWriteWait(Duration firstWriteWait) {
            this.firstWriteWait = firstWriteWait;
        }
    }

    /** The embedded Reactor Netty server of a WebFlux application. */
    public static class Server {
        /** Whether the embedded Reactor Netty server accepts data in the SYN (TCP_FASTOPEN on its listener). */
        private boolean enabled = true;

        /**
         * TFO queue length of the listener (the Reactor Netty server's, and the gRPC server's): how many connections
         * with data in the SYN may await the end of their handshake (the kernel caps it at net.core.somaxconn).
         */
        private int queueLength = TfoServerOptions.DEFAULT_QUEUE_LENGTH;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public int getQueueLength() {
            return queueLength;
        }

        public void setQueueLength(int queueLength) {
            this.queueLength = queueLength;
        }
    }

    /** Spring Data Redis on Lettuce. */
    public static class Redis {
        /**
         * Whether Lettuce connections made through Spring Boot's ClientResources send their HELLO in the SYN (only
         * HELLO: never a command of the application).
         */
        private boolean enabled = true;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }

    /** Spring gRPC on (unshaded) grpc-netty. */
    public static class Grpc {
        /**
         * Whether the channels Spring gRPC builds send the HTTP/2 preface in the SYN (on an event loop group of the
         * starter's, epoll or io_uring) and its gRPC server accepts data in the SYN (TCP_FASTOPEN on its listener,
         * queue tfo.server.queue-length).
         */
        private boolean enabled = true;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }

    /** Micrometer. */
    public static class Metrics {
        /**
         * Whether a TfoMetrics binder counts every connection's outcome (tfo.connections) and exposes the kernel's
         * TCPFastOpen counters, when Micrometer is on the class path.
         */
        private boolean enabled = true;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }

    /** Actuator info. */
    public static class Info {
        /** Whether /actuator/info tells whether TFO is on for this host's clients and servers, and the fix. */
        private boolean enabled = true;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }
}
