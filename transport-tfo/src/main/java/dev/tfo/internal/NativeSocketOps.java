package dev.tfo.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.unix.Errors;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import io.netty.util.concurrent.FastThreadLocal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.OptionalInt;

/** {@link SocketOps} on Netty's epoll and io_uring channels: setsockopt, getsockopt and sendto on the fd. */
final class NativeSocketOps implements SocketOps {
    static final NativeSocketOps INSTANCE = new NativeSocketOps();

    /** {@code setsockopt(IPPROTO_TCP, TCP_FASTOPEN_CONNECT=30)}, Linux 4.11+. */
    static final IntegerUnixChannelOption FASTOPEN_CONNECT = new IntegerUnixChannelOption("TCP_FASTOPEN_CONNECT", 6, 30);
    /** {@code setsockopt(IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE=34)}, Linux 4.15+. */
    static final IntegerUnixChannelOption NO_COOKIE = new IntegerUnixChannelOption("TCP_FASTOPEN_NO_COOKIE", 6, 34);
    private static final int IPPROTO_TCP = 6;
    private static final int TCP_INFO = 11;
    /** The most bytes offered to one SYN: far above any MSS, so the kernel decides what fits. */
    private static final int MAX_SYN_BYTES = 64 * 1024;
    private static final int CLIENT_BIT = 0x1;

    /** Per event-loop thread: the tcp_info buffer and the bounce buffer for data without a memory address. */
    private static final FastThreadLocal<ByteBuffer> TCP_INFO_BUFFER = new FastThreadLocal<ByteBuffer>() {
        @Override
        protected ByteBuffer initialValue() {
            return ByteBuffer.allocateDirect((TcpInfo.LENGTH + 7) & ~7).order(ByteOrder.nativeOrder());
        }
    };
    private static final FastThreadLocal<TcpInfo> DECODED = new FastThreadLocal<TcpInfo>() {
        @Override
        protected TcpInfo initialValue() {
            return TcpInfo.of(0, 0, 0, -1);
        }
    };
    private static final FastThreadLocal<ByteBuffer> BOUNCE = new FastThreadLocal<ByteBuffer>() {
        @Override
        protected ByteBuffer initialValue() {
            return ByteBuffer.allocateDirect(MAX_SYN_BYTES);
        }
    };

    private NativeSocketOps() {
    }

    @Override
    public String unsupportedReason(Channel channel) {
        if (!(channel instanceof SocketChannel) || !Transport.of(channel).isNative() || socket(channel) == null) {
            return "transport " + channel.getClass().getSimpleName()
                    + " cannot send data in a SYN (use epoll or io_uring)";
        }
        return null;
    }

    @Override
    public String enableFastOpenConnect(Channel channel, boolean noCookie) {
        try {
            channel.config().setOption(FASTOPEN_CONNECT, 1);
        } catch (ChannelException e) {
            // Netty's native setsockopt reports strerror text, not the errno: the live sysctl tells the usual case.
            OptionalInt live = Procfs.readInt(Procfs.TCP_FASTOPEN);
            if (live.isPresent() && (live.getAsInt() & CLIENT_BIT) == 0) {
                return lacksClientBit(live.getAsInt());
            }
            return "the kernel refused TCP_FASTOPEN_CONNECT (it needs Linux 4.11+): " + rootMessage(e);
        }
        if (noCookie) {
            try {
                channel.config().setOption(NO_COOKIE, 1);
            } catch (ChannelException e) {
                return "the kernel refused TCP_FASTOPEN_NO_COOKIE (it needs Linux 4.15+): " + rootMessage(e);
            }
        }
        return null;
    }

    @Override
    public boolean nettySendsFirstWrite(Channel channel) {
        switch (Transport.of(channel)) {
            case EPOLL:
                return Epoll.isTcpFastOpenClientSideAvailable();
            case IO_URING:
                return IoUringClientTfo.AVAILABLE;
            default:
                return false;
        }
    }

    @Override
    public void sendFirstWriteAtConnect(Channel channel) {
        channel.config().setOption(ChannelOption.TCP_FASTOPEN_CONNECT, Boolean.TRUE);
    }

    @Override
    public String synDataRefusal(Channel channel) {
        OptionalInt live = Procfs.readInt(Procfs.TCP_FASTOPEN);
        if (!live.isPresent() || (live.getAsInt() & CLIENT_BIT) != 0) {
            return null;
        }
        channel.config().setOption(ChannelOption.TCP_FASTOPEN_CONNECT, Boolean.FALSE);
        return lacksClientBit(live.getAsInt());
    }

    private static String lacksClientBit(int live) {
        return "net.ipv4.tcp_fastopen lacks the client bit 0x1 (live value: " + live + ")";
    }

    /** Netty's view of client TFO on io_uring, read once (by reflection: io_uring may be absent). */
    private static final class IoUringClientTfo {
        static final boolean AVAILABLE = Transport.IO_URING.nettyClientTfo();
    }

    @Override
    public boolean immediateConnectIsDeferred(Channel channel) {
        return Transport.of(channel) == Transport.EPOLL;
    }

    @Override
    public TcpInfo tcpInfo(Channel channel) {
        if (!channel.isOpen()) {
            return null;
        }
        Socket socket = socket(channel);
        if (socket == null || !Transport.of(channel).isNative()) {
            return null;
        }
        ByteBuffer buf = TCP_INFO_BUFFER.get();
        buf.clear();
        for (int i = 0; i < buf.capacity(); i += 8) {
            buf.putLong(i, 0); // a kernel that returns fewer bytes leaves zeros, never a previous socket's bytes
        }
        buf.limit(TcpInfo.LENGTH);
        try {
            socket.getRawOpt(IPPROTO_TCP, TCP_INFO, buf);
        } catch (IOException | RuntimeException e) {
            return null; // closed between the check and getsockopt
        }
        buf.flip();
        return TcpInfo.decodeInto(buf, DECODED.get());
    }

    @Override
    public String socketError(Channel channel) {
        Socket socket = socket(channel);
        if (socket == null || !channel.isOpen()) {
            return null;
        }
        try {
            int errno = socket.getSoError();
            return errno == 0 ? null : new Errors.NativeIoException("handshake", -errno, false).getMessage()
                    .replaceFirst("^handshake\\(\\.\\.\\) failed with error\\(-?\\d+\\): ", "");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    @Override
    public int sendSyn(Channel channel, ByteBuf data, int index, int length, InetSocketAddress remote)
            throws IOException {
        Socket socket = socket(channel);
        if (socket == null) {
            throw new IOException("not a native socket: " + channel);
        }
        int n = Math.min(length, MAX_SYN_BYTES);
        if (n == 0) {
            // A write of nothing never reaches the socket (write(2) returns 0 first): sendto(MSG_FASTOPEN) sends
            // the SYN. EINPROGRESS is 0 here.
            ByteBuffer none = BOUNCE.get();
            none.clear().limit(0);
            return socket.sendTo(none, 0, 0, remote.getAddress(), remote.getPort(), true);
        }
        try {
            // The deferred socket's first write(2) sends the SYN with what fits (TCP_FASTOPEN_CONNECT), as for
            // any client of that option; no address to convert.
            if (data.hasMemoryAddress()) {
                return socket.writeAddress(data.memoryAddress(), index, index + n);
            }
            ByteBuffer bounce = BOUNCE.get();
            bounce.clear();
            data.getBytes(index, bounce.limit(n));
            bounce.flip();
            return socket.write(bounce, 0, n);
        } catch (Errors.NativeIoException e) {
            if (e.expectedErr() == Errors.ERRNO_EINPROGRESS_NEGATIVE) {
                return 0; // the SYN left without data: no cookie after all
            }
            throw e;
        }
    }

    private static Socket socket(Channel channel) {
        if (channel instanceof UnixChannel) {
            FileDescriptor fd = ((UnixChannel) channel).fd();
            if (fd instanceof Socket) {
                return (Socket) fd;
            }
        }
        return null;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage();
    }
}
