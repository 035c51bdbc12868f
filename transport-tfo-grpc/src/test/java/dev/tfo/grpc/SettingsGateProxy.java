package dev.tfo.grpc;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on loopback before a gRPC server that keeps the server's bytes (its SETTINGS first) from the client
 * until the client has sent a frame that ends a stream: a call goes through only if the client sends it before it
 * has read the server's SETTINGS. It records what each client sent.
 */
final class SettingsGateProxy implements AutoCloseable {
    /** What one client connection sent, and whether its call came before the server's SETTINGS were let through. */
    static final class Connection {
        private final ByteArrayOutputStream sent = new ByteArrayOutputStream();
        volatile boolean open;

        synchronized Wire wire() {
            return Wire.of(sent.toByteArray());
        }
    }

    final List<Connection> connections = new CopyOnWriteArrayList<>();
    private final Channel listener;
    private final boolean gated;

    SettingsGateProxy(EventLoopGroup group, InetSocketAddress backend, boolean gated) {
        this.gated = gated;
        this.listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        relay(ch, backend);
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    private void relay(Channel client, InetSocketAddress backend) {
        Connection c = new Connection();
        c.open = !gated;
        connections.add(c);
        List<ByteBuf> kept = new ArrayList<>();
        Channel server = new Bootstrap().group(client.eventLoop()).channel(NioSocketChannel.class)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (c.open) {
                            client.writeAndFlush(msg);
                        } else {
                            kept.add((ByteBuf) msg);
                        }
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        kept.forEach(ByteBuf::release);
                        kept.clear();
                        client.close();
                    }
                })
                .connect(backend).addListener(f -> client.config().setAutoRead(true)) // relay once connected
                .channel();
        server.closeFuture().addListener(f -> client.close());
        client.closeFuture().addListener(f -> server.close());
        client.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                byte[] bytes = new byte[b.readableBytes()];
                b.getBytes(b.readerIndex(), bytes);
                synchronized (c) {
                    c.sent.writeBytes(bytes);
                }
                server.writeAndFlush(msg);
                if (!c.open && c.wire().frames.stream().anyMatch(f -> (f.flags() & Frames.FLAG_END_STREAM) != 0
                        && (f.type() == Frames.DATA || f.type() == Frames.HEADERS))) {
                    c.open = true; // the call is whole: now the server's SETTINGS (and answer) may pass
                    kept.forEach(client::write);
                    kept.clear();
                    client.flush();
                }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
            }
        });
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
    }
}
