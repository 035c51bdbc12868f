package dev.tfo.spring.boot;

import dev.tfo.TfoChannels;
import dev.tfo.TfoClientOptions;
import dev.tfo.TfoSupport;
import dev.tfo.TfoSynDataPolicy;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.NettyCustomizer;
import io.netty.channel.Channel;
import io.netty.channel.socket.SocketChannel;

import java.nio.charset.StandardCharsets;

/**
 * The README's Lettuce recipe: a {@link NettyCustomizer} that puts the TFO handler on every Lettuce TCP channel,
 * with a policy that lets only Lettuce's {@code HELLO} (RESP3 negotiation, safe to replay) ride in the SYN, never a
 * command of the application. Spring Boot hands it its {@code ClientResources.Builder}.
 */
final class TfoLettuceCustomizer implements NettyCustomizer, TfoPart {
    /** Exactly the README recipe's policy. */
    static final TfoSynDataPolicy HELLO_ONLY = first -> first.toString(StandardCharsets.US_ASCII)
            .startsWith("*2\r\n$5\r\nHELLO\r\n") ? first.readableBytes() : 0;

    private final TfoClientOptions options;
    private volatile boolean applied;

    TfoLettuceCustomizer(TfoClientOptions options) {
        this.options = options;
    }

    /** Sets this customizer on the builder Spring Boot makes its {@code ClientResources} from. */
    void customize(ClientResources.Builder builder) {
        if (TfoHost.librarySupported()) {
            builder.nettyCustomizer(this);
            applied = true;
        }
    }

    /** Whether Spring Boot built a {@code ClientResources} with it (false: none yet, or one of the application's). */
    boolean applied() {
        return applied;
    }

    @Override
    public String description() {
        return "Redis on Lettuce (HELLO only)";
    }

    @Override
    public String problem(TfoSupport support) {
        if (!applied) {
            return "Redis: Spring Boot built no Lettuce ClientResources (a ClientResources bean of the application's "
                    + "own gets no TFO: see the starter's README)";
        }
        return TfoPart.clientProblem(support);
    }

    @Override
    public void afterChannelInitialized(Channel channel) {
        if (channel instanceof SocketChannel) {
            TfoChannels.client(channel, options);
        }
    }

    @Override
    public String toString() {
        return "TfoLettuceCustomizer(" + options + ')';
    }
}
