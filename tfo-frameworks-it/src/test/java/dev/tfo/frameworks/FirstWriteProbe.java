package dev.tfo.frameworks;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;

import java.io.ByteArrayOutputStream;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.TimeUnit;

/**
 * A test probe at the very head of a client pipeline (installed before the connect): it records when Netty's
 * connect promise succeeds and when the framework issues its first write and first flush, on which thread,
 * whether inside the call that completed the connect, and which framework code wrote. It also keeps the bytes
 * of the first flight (everything written before the first flush: what the kernel puts in the SYN), and a log
 * of the first reads and writes. Optionally it holds the first inbound bytes back for a while, to show whether
 * the framework waits for them before writing more.
 *
 * <p>Every field is written on the channel's event loop; tests read them after the exchange is over.
 */
final class FirstWriteProbe extends ChannelDuplexHandler {
    static final String NAME = "tfo-test-probe";
    private static final int MAX_EVENTS = 64;
    private static final int MAX_FIRST_FLIGHT = 64 * 1024;

    /** One read or write seen by the probe. */
    record Event(long nanos, boolean outbound, byte[] bytes) {
    }

    /**
     * When and where an outbound operation happened.
     *
     * @param inConnectCompletion inside the event-loop call that completed the connect (its stack holds
     *                            {@code fulfillConnectPromise}): the same task
     * @param beforeMarker        before a task queued by the probe's connect listener had run (a task queued
     *                            earlier, e.g. by a thread woken by the connect future, runs before it)
     * @param caller              the first stack frame outside Netty's pipeline, executors and the JDK
     */
    record Moment(long nanos, String thread, boolean inConnectCompletion, boolean beforeMarker, String caller) {
        String task() {
            if (inConnectCompletion) {
                return "same task as the connect completion";
            }
            return beforeMarker ? "a later task, run before one queued by the connect's listener"
                    : "a later task, run after one queued by the connect's listener";
        }
    }

    /**
     * Puts the probe right after the TFO handler (so it sees what the framework wrote, before the TFO handler
     * holds it back and sends part of it in the SYN), or first when there is none.
     */
    static void install(io.netty.channel.ChannelPipeline pipeline, FirstWriteProbe probe) {
        if (pipeline.get(dev.tfo.TfoChannels.HANDLER_NAME) != null) {
            pipeline.addAfter(dev.tfo.TfoChannels.HANDLER_NAME, NAME, probe);
        } else {
            pipeline.addFirst(NAME, probe);
        }
    }

    private final long holdFirstReadNanos;
    private final List<Event> events = new ArrayList<>();
    private final ByteArrayOutputStream firstFlight = new ByteArrayOutputStream();
    private final Queue<Object> held = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private boolean holding;
    private boolean released;

    volatile long connectCalledNanos;
    volatile long connectDoneNanos;
    volatile String connectThread;
    volatile long markerNanos;
    /** The first write (of anything), or {@code null}. */
    volatile Moment firstWrite;
    /** The first flush after a write, or {@code null}: with a cached cookie the SYN leaves here. */
    volatile Moment firstFlush;
    volatile long firstReadNanos;
    /** Time spent in this probe's bookkeeping between the connect and the first flush (stack walks, copies). */
    volatile long overheadBeforeFlushNanos;
    volatile long releasedNanos;

    FirstWriteProbe() {
        this(0);
    }

    /** @param holdFirstReadMillis how long to hold the first inbound bytes back before passing them on (0: never) */
    FirstWriteProbe(long holdFirstReadMillis) {
        this.holdFirstReadNanos = TimeUnit.MILLISECONDS.toNanos(holdFirstReadMillis);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void connect(ChannelHandlerContext ctx, SocketAddress remote, SocketAddress local, ChannelPromise promise) {
        connectCalledNanos = System.nanoTime();
        // Added before passing the connect on, so it runs first when the connect completes (with a cached
        // cookie and TCP_FASTOPEN_CONNECT: inside this very call).
        promise.addListener(f -> {
            if (f.isSuccess()) {
                connectDoneNanos = System.nanoTime();
                connectThread = Thread.currentThread().getName();
                // A task queued now runs after the task that completed the connect, and after any task
                // queued before it.
                ctx.executor().execute(() -> markerNanos = System.nanoTime());
            }
        });
        ctx.connect(remote, local, promise);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        long now = System.nanoTime();
        if (firstWrite == null) {
            firstWrite = moment(now);
        }
        byte[] bytes = bytesOf(msg);
        if (firstFlush == null && firstFlight.size() < MAX_FIRST_FLIGHT) {
            firstFlight.writeBytes(bytes);
        }
        log(new Event(now, true, bytes));
        if (firstFlush == null) {
            overheadBeforeFlushNanos += System.nanoTime() - now; // the probe's own time, not the framework's
        }
        ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (firstFlush == null && firstWrite != null) {
            firstFlush = moment(System.nanoTime());
        }
        ctx.flush();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        long now = System.nanoTime();
        if (firstReadNanos == 0) {
            firstReadNanos = now;
        }
        log(new Event(now, false, bytesOf(msg)));
        if (holdFirstReadNanos > 0 && !released) {
            held.add(msg);
            if (!holding) {
                holding = true;
                ctx.executor().schedule(this::release, holdFirstReadNanos, TimeUnit.NANOSECONDS);
            }
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!holding || released) {
            ctx.fireChannelReadComplete();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        dropHeld();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        dropHeld();
    }

    private void release() {
        if (released) {
            return;
        }
        released = true;
        releasedNanos = System.nanoTime();
        Object msg;
        boolean any = false;
        while ((msg = held.poll()) != null) {
            any = true;
            ctx.fireChannelRead(msg);
        }
        if (any) {
            ctx.fireChannelReadComplete();
        }
    }

    private void dropHeld() {
        released = true;
        Object msg;
        while ((msg = held.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
    }

    private void log(Event e) {
        synchronized (events) {
            if (events.size() < MAX_EVENTS) {
                events.add(e);
            }
        }
    }

    private Moment moment(long now) {
        boolean beforeMarker = markerNanos == 0;
        List<StackWalker.StackFrame> stack = StackWalker.getInstance().walk(s -> s.toList());
        boolean inConnect = stack.stream().anyMatch(f -> f.getMethodName().equals("fulfillConnectPromise"));
        String caller = stack.stream().filter(FirstWriteProbe::isWriter).findFirst()
                .map(f -> f.getClassName() + "." + f.getMethodName())
                .orElse("a Netty task (submitted from outside the event loop)");
        return new Moment(now, Thread.currentThread().getName(), inConnect, beforeMarker, caller);
    }

    /** A stack frame of the code that wrote: neither Netty's pipeline and executors, nor the JDK, nor this probe. */
    private static boolean isWriter(StackWalker.StackFrame f) {
        String c = f.getClassName();
        return !c.startsWith("io.netty.channel.") && !c.startsWith("io.netty.util.") && !c.startsWith("java.")
                && !c.startsWith("jdk.") && !c.startsWith(FirstWriteProbe.class.getName());
    }

    private static byte[] bytesOf(Object msg) {
        ByteBuf buf = msg instanceof ByteBuf ? (ByteBuf) msg
                : msg instanceof ByteBufHolder ? ((ByteBufHolder) msg).content() : null;
        if (buf == null) {
            return new byte[0];
        }
        byte[] b = new byte[Math.min(buf.readableBytes(), MAX_FIRST_FLIGHT)];
        buf.getBytes(buf.readerIndex(), b);
        return b;
    }

    /** The bytes written before the first flush: what rides in the SYN when a cookie is cached. */
    byte[] firstFlight() {
        synchronized (events) {
            return firstFlight.toByteArray();
        }
    }

    /** The first reads and writes, in order. */
    List<Event> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    /** Microseconds from the connect promise's success to the first write (negative: the write came first). */
    double connectToFirstWriteMicros() {
        return (firstWrite.nanos() - connectDoneNanos) / 1000.0;
    }

    /** Microseconds from the connect promise's success to the first flush, less this probe's own overhead. */
    double connectToFirstFlushMicros() {
        return (firstFlush.nanos() - connectDoneNanos - overheadBeforeFlushNanos) / 1000.0;
    }

    /** One line for the report. */
    String summary() {
        Moment w = firstWrite;
        Moment f = firstFlush;
        return String.format("connect->first write %.1f us (%s, by %s), connect->first flush %.1f us (%s, by %s;"
                        + " probe overhead %.1f us excluded); threads: connect %s, write %s, flush %s;"
                        + " first flight %d bytes: %s",
                connectToFirstWriteMicros(), w.task(), w.caller(), connectToFirstFlushMicros(), f.task(), f.caller(),
                overheadBeforeFlushNanos / 1000.0,
                connectThread, w.thread(), f.thread(), firstFlight().length, printable(firstFlight(), 48));
    }

    /** The bytes as text, non-printable bytes as {@code .}, at most {@code max} of them. */
    static String printable(byte[] bytes, int max) {
        StringBuilder s = new StringBuilder();
        for (byte b : Arrays.copyOf(bytes, Math.min(max, bytes.length))) {
            s.append(b >= 0x20 && b < 0x7f ? (char) b : b == '\r' ? "\\r" : b == '\n' ? "\\n" : ".");
        }
        return (bytes.length > max ? s.append("...") : s).toString();
    }
}
