package dev.tfo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelPromise;
import io.netty.channel.VoidChannelPromise;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The writes a {@link SynGate} holds back until the SYN has left: in order, each with its promise. The first
 * write lives in fields (the common case of one write allocates no list).
 */
final class HeldWrites {
    /** The most bytes gathered from several leading buffers to offer to one SYN. */
    static final int MAX_GATHER = 64 * 1024;

    private Object firstMsg;
    private ChannelPromise firstPromise;
    /** The place of a write that left whole in the SYN. */
    private static final Object SENT = new Object();

    /** Further writes: msg, promise, msg, promise, ... */
    private List<Object> more;

    void add(Object msg, ChannelPromise promise) {
        if (firstMsg == null && more == null) {
            firstMsg = msg;
            firstPromise = promise;
            return;
        }
        if (more == null) {
            more = new ArrayList<>(4);
        }
        more.add(msg);
        more.add(promise);
    }

    boolean isEmpty() {
        return firstMsg == null && (more == null || more.isEmpty());
    }

    private int count() {
        return (firstMsg == null ? 0 : 1) + (more == null ? 0 : more.size() / 2);
    }

    private Object msg(int i) {
        return i == 0 ? firstMsg : more.get(2 * (i - 1));
    }

    /**
     * The bytes the held writes start with: the first buffer itself when it is the only leading buffer (not
     * to be released by the caller), else a copy of up to {@link #MAX_GATHER} bytes gathered from the leading
     * buffers (the caller releases it); {@code null} when the first write is not a buffer.
     */
    ByteBuf leadingBytes(ByteBufAllocator alloc) {
        int n = count();
        int buffers = 0;
        long total = 0;
        while (buffers < n && msg(buffers) instanceof ByteBuf) {
            total += ((ByteBuf) msg(buffers)).readableBytes();
            buffers++;
        }
        if (buffers == 0) {
            return null;
        }
        if (buffers == 1) {
            return (ByteBuf) firstMsg;
        }
        int size = (int) Math.min(total, MAX_GATHER);
        ByteBuf gathered = alloc.directBuffer(size);
        for (int i = 0; i < buffers && gathered.isWritable(); i++) {
            ByteBuf b = (ByteBuf) msg(i);
            gathered.writeBytes(b, b.readerIndex(), Math.min(b.readableBytes(), gathered.writableBytes()));
        }
        return gathered;
    }

    /** Whether {@code buf} is one of the held messages (not a gathered copy). */
    boolean holds(ByteBuf buf) {
        return buf == firstMsg;
    }

    /**
     * Takes {@code bytes} that already left in the SYN off the leading buffers. A buffer that left whole is released
     * here and its promise goes to the {@code attempt}'s writes carried by the SYN: no buffer goes to the transport
     * empty.
     */
    void sent(int bytes, Attempt attempt) {
        int left = bytes;
        for (int i = 0, n = count(); i < n && left > 0; i++) {
            ByteBuf b = (ByteBuf) msg(i);
            int k = Math.min(left, b.readableBytes());
            b.skipBytes(k);
            left -= k;
            if (!b.isReadable()) {
                b.release();
                attempt.carry(promise(i));
                clear(i);
            }
        }
    }

    private ChannelPromise promise(int i) {
        return i == 0 ? firstPromise : (ChannelPromise) more.get(2 * (i - 1) + 1);
    }

    /** Marks entry {@code i} gone (its buffer released); the others keep their places. */
    private void clear(int i) {
        if (i == 0) {
            firstMsg = SENT;
        } else {
            more.set(2 * (i - 1), SENT);
        }
    }

    /** Empties the holder into {@code gate}, in order: each write that did not leave whole in the SYN. */
    void drainInto(SynGate gate) {
        Object m = firstMsg;
        List<Object> rest = more;
        firstMsg = null;
        more = null;
        if (m != null && m != SENT) {
            gate.pass(m, firstPromise);
        }
        firstPromise = null;
        for (int i = 0; rest != null && i < rest.size(); i += 2) {
            if (rest.get(i) != SENT) {
                gate.pass(rest.get(i), (ChannelPromise) rest.get(i + 1));
            }
        }
    }

    /** Releases every held message and fails its promise. */
    void failAll(Throwable cause) {
        drain((msg, promise) -> fail(msg, promise, cause));
    }

    /** Empties the holder, then hands each write to {@code each}, in order. */
    private void drain(BiConsumer<Object, ChannelPromise> each) {
        Object m = firstMsg;
        ChannelPromise p = firstPromise;
        List<Object> rest = more;
        firstMsg = null;
        firstPromise = null;
        more = null;
        if (m != null && m != SENT) {
            each.accept(m, p);
        }
        if (rest != null) {
            for (int i = 0; i < rest.size(); i += 2) {
                if (rest.get(i) != SENT) {
                    each.accept(rest.get(i), (ChannelPromise) rest.get(i + 1));
                }
            }
        }
    }

    private static void fail(Object msg, ChannelPromise promise, Throwable cause) {
        ReferenceCountUtil.safeRelease(msg);
        if (!(promise instanceof VoidChannelPromise)) {
            promise.tryFailure(cause);
        }
    }
}
