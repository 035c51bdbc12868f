package dev.tfo.spring.boot;

import dev.tfo.TfoChannels;
import dev.tfo.TfoClientOptions;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;

/** What the starter needs to know about this JVM once: whether the library runs on its Netty at all. */
final class TfoHost {
    /** Why transport-tfo cannot run on the Netty of the class path (older than 4.1.76), or {@code null}. */
    static final String NETTY_PROBLEM = nettyProblem();

    private TfoHost() {
    }

    /**
     * Whether the library's entry points work here: they throw on a Netty older than 4.1.76, and the starter must
     * never turn that into failed connections; it logs it once instead ({@link TfoStartupReport}).
     */
    static boolean librarySupported() {
        return NETTY_PROBLEM == null;
    }

    /**
     * Whether Reactor Netty will bind its server on a native transport (epoll or io_uring), the only ones on which
     * {@code TCP_FASTOPEN} means anything: Reactor Netty prefers a native transport unless
     * {@code -Dreactor.netty.native=false}.
     */
    static boolean nativeServerTransport() {
        return !"false".equalsIgnoreCase(System.getProperty("reactor.netty.native", "true"))
                && (NativeTransports.epoll() || NativeTransports.ioUring());
    }

    private static String nettyProblem() {
        try {
            // Checks the Netty version and makes nothing: the factory is never called.
            ChannelFactory<Channel> none = () -> {
                throw new UnsupportedOperationException();
            };
            TfoChannels.clientFactory(none, TfoClientOptions.defaults());
            return null;
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }
}
