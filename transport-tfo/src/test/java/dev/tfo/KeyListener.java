package dev.tfo;

import dev.tfo.internal.TcpOptions;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.unix.RawUnixChannelOption;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A listener stand-in for tests that run anywhere: an {@link EmbeddedChannel} whose config takes
 * {@code TCP_FASTOPEN_KEY} as a native listener would (Netty's length check, then the buffer consumed) and
 * records each value set. {@link #refuse()} makes it fail the next sets the way a kernel refusal does.
 */
final class KeyListener extends EmbeddedChannel {
    /** Each value set, copied when it was set (the ring wipes its buffer right after). */
    final List<byte[]> values = new CopyOnWriteArrayList<>();
    private final ChannelConfig keyConfig = new DefaultChannelConfig(this) {
        @Override
        public <T> boolean setOption(ChannelOption<T> option, T value) {
            if (option != TcpOptions.FASTOPEN_KEY && option != TcpOptions.FASTOPEN_KEYS) {
                return super.setOption(option, value);
            }
            ByteBuffer b = (ByteBuffer) (Object) value;
            ((RawUnixChannelOption) option).validate(b);
            if (refusing) {
                throw new ChannelException(new IOException("setsockopt() failed: Invalid argument"));
            }
            byte[] copy = new byte[b.remaining()];
            b.get(copy);
            values.add(copy);
            return true;
        }
    };
    private volatile boolean refusing;

    KeyListener() throws Exception {
        super(false, false);
        register();
    }

    @Override
    public ChannelConfig config() {
        return keyConfig;
    }

    /** From now on, setting keys fails like a kernel refusal. */
    void refuse() {
        refusing = true;
    }

    /** The last value set: 16 bytes (primary) or 32 (primary then backup). */
    byte[] last() {
        return values.get(values.size() - 1);
    }

    /** What the kernel expects for {@code primary} and optionally {@code backup}. */
    static byte[] expected(TfoKey primary, TfoKey backup) {
        ByteBuffer b = ByteBuffer.allocate(backup == null ? 16 : 32);
        primary.writeTo(b);
        if (backup != null) {
            backup.writeTo(b);
        }
        return b.array();
    }
}
