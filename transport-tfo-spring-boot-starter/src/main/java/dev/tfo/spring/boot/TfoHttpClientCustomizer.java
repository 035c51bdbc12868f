package dev.tfo.spring.boot;

import dev.tfo.TfoChannels;
import dev.tfo.TfoClientOptions;
import dev.tfo.TfoSynDataPolicy;
import dev.tfo.TfoSupport;
import io.netty.channel.socket.SocketChannel;
import reactor.netty.http.client.HttpClient;

import java.util.function.UnaryOperator;

/**
 * The README's Reactor Netty recipe as a customizer of the {@link HttpClient} that Spring Boot builds for
 * {@code WebClient} ({@code ClientHttpConnectorBuilder}) and {@code RestClient} ({@code ClientHttpRequestFactoryBuilder}):
 * the TFO handler on every TCP channel before it connects. Unix domain sockets and HTTP/3 (QUIC) channels are left
 * alone.
 */
final class TfoHttpClientCustomizer implements UnaryOperator<HttpClient>, TfoPart {
    private final TfoClientOptions options;
    private final TfoSynDataPolicy policy;

    /**
     * @param options the client options
     * @param policy  their {@link TfoSynDataPolicy}, for the start-up report
     */
    TfoHttpClientCustomizer(TfoClientOptions options, TfoSynDataPolicy policy) {
        this.options = options;
        this.policy = policy;
    }

    TfoClientOptions options() {
        return options;
    }

    @Override
    public String description() {
        return "WebClient/RestClient on Reactor Netty (" + policy + ")";
    }

    @Override
    public String problem(TfoSupport support) {
        return TfoPart.clientProblem(support);
    }

    @Override
    public HttpClient apply(HttpClient client) {
        if (!TfoHost.librarySupported()) {
            return client;
        }
        return client.doOnChannelInit((observer, channel, address) -> {
            if (channel instanceof SocketChannel) {
                TfoChannels.client(channel, options);
            }
        });
    }

    @Override
    public String toString() {
        return "TfoHttpClientCustomizer(" + options + ')';
    }
}
