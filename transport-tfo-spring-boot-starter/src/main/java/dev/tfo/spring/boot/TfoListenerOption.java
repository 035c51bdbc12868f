package dev.tfo.spring.boot;

import io.netty.channel.ChannelOption;
import io.netty.channel.unix.IntegerUnixChannelOption;

/**
 * The listener option of every server part (the Reactor Netty server, the gRPC server), in a class of its own: it
 * names only Netty, so a part's class needs no other framework to read it.
 */
final class TfoListenerOption {
    /**
     * {@code TCP_FASTOPEN} (level {@code IPPROTO_TCP} 6, option 23): a listener's TFO queue length, set as the raw
     * socket option as {@code TfoChannels.serverFactory} does, so that it follows the live
     * {@code net.ipv4.tcp_fastopen} rather than the value Netty read at class initialisation (epoll and io_uring
     * only).
     */
    static final ChannelOption<Integer> TCP_FASTOPEN = new IntegerUnixChannelOption("TCP_FASTOPEN", 6, 23);

    private TfoListenerOption() {
    }
}
