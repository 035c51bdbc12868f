package dev.tfo.grpc;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.netty.handler.codec.http2.Http2Headers;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The calls of one configured {@code NettyChannelBuilder}, seen by its interceptor: which are in flight, and whether
 * every one of them may ride ahead of the server's SETTINGS. A call may when its method is safe to replay
 * ({@link MethodDescriptor#isSafe()}, {@link MethodDescriptor#isIdempotent()}, or named by the application), the
 * client sends it whole at once (unary or server streaming), and its headers fit {@link #MAX_HEADER_LIST}.
 */
final class EarlyCalls implements ClientInterceptor {
    /**
     * The largest header list (RFC 9113 section 6.5.2: names, values, 32 per field) that rides before the server's
     * SETTINGS could lower it: an eighth of grpc-java's default {@code maxInboundMetadataSize} (8 KiB), and well
     * inside a SYN. Larger calls wait for the SETTINGS, as without this module.
     */
    static final int MAX_HEADER_LIST = 1024;
    /**
     * What the interceptor adds for the headers grpc-netty writes itself besides {@code :path} and
     * {@code :authority} ({@code :method}, {@code :scheme}, {@code content-type}, {@code te}, {@code user-agent},
     * {@code grpc-accept-encoding}, {@code grpc-timeout}, {@code grpc-encoding}: about 370 bytes as the RFC counts
     * them, rounded up). The handler checks the encoded block exactly; this only keeps calls that cannot fit from
     * riding at all.
     */
    static final int GRPC_HEADERS = 448;
    private static final long ONE = 1L << 32;

    private final Set<String> replaySafeMethods;
    /** {@code :path} of every method seen to ride: what the SYN data policy admits. */
    private final Set<String> ridingPaths = ConcurrentHashMap.newKeySet();
    /** Calls in flight (high 32 bits) and how many of them may not ride (low 32 bits), read as one. */
    private final AtomicLong inFlight = new AtomicLong();

    EarlyCalls(Set<String> replaySafeMethods) {
        this.replaySafeMethods = Set.copyOf(replaySafeMethods);
    }

    /** Whether a new connection may carry its first call ahead of the server's SETTINGS: each call in flight may. */
    boolean mayRideEarly() {
        long n = inFlight.get();
        return n >>> 32 > 0 && (int) n == 0;
    }

    /** Whether the first header block of a connection belongs to a call that may ride. */
    boolean rides(Http2Headers headers) {
        CharSequence path = headers.path();
        return path != null && ridingPaths.contains(path.toString()) && Frames.listSize(headers) <= MAX_HEADER_LIST;
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        boolean replaySafe = (method.getType() == MethodDescriptor.MethodType.UNARY
                || method.getType() == MethodDescriptor.MethodType.SERVER_STREAMING)
                && (method.isSafe() || method.isIdempotent() || replaySafeMethods.contains(method.getFullMethodName()));
        String path = "/" + method.getFullMethodName();
        String authority = next.authority();
        int budget = MAX_HEADER_LIST - GRPC_HEADERS - (5 + path.length() + 32)
                - (10 + (authority == null ? 0 : authority.length()) + 32);
        // Counted before grpc sees the call: a new call starts the connection, whose preface may come before start().
        AtomicLong call = new AtomicLong(started(path, replaySafe));
        ClientCall<Q, R> theirs;
        try {
            theirs = next.newCall(method, options);
        } catch (RuntimeException | Error e) {
            closed(call.getAndSet(0));
            throw e;
        }
        return new ForwardingClientCall.SimpleForwardingClientCall<>(theirs) {
            /** Whether start() was called: from then on onClose ends the call. */
            private volatile boolean started;

            @Override
            public void start(Listener<R> listener, Metadata headers) {
                started = true;
                if (replaySafe && size(headers) > budget && call.compareAndSet(ONE, 0)) {
                    call.set(started(path, false)); // its headers are too large to ride: it waits
                    closed(ONE);
                }
                try {
                    super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                        @Override
                        public void onClose(Status status, Metadata trailers) {
                            closed(call.getAndSet(0));
                            super.onClose(status, trailers);
                        }
                    }, headers);
                } catch (RuntimeException | Error e) {
                    closed(call.getAndSet(0));
                    throw e;
                }
            }

            @Override
            public void cancel(String message, Throwable cause) {
                try {
                    super.cancel(message, cause);
                } finally {
                    if (!started) {
                        closed(call.getAndSet(0)); // never started: no onClose will come
                    }
                }
            }
        };
    }

    /** Counts a call in flight, of {@code path}, that may ride or not; returns what {@link #closed} takes. */
    long started(String path, boolean rides) {
        if (rides) {
            ridingPaths.add(path);
        }
        long call = rides ? ONE : ONE + 1;
        inFlight.addAndGet(call);
        return call;
    }

    /** A call counted by {@link #started} is over. */
    void closed(long call) {
        inFlight.addAndGet(-call);
    }

    /** The application's metadata as a header list (binary values travel in base64). */
    private static long size(Metadata headers) {
        long size = 0;
        for (String key : headers.keys()) {
            if (key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
                for (byte[] v : headers.getAll(Metadata.Key.of(key, Metadata.BINARY_BYTE_MARSHALLER))) {
                    size += key.length() + (v.length + 2) / 3 * 4 + 32;
                }
            } else {
                for (String v : headers.getAll(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER))) {
                    size += key.length() + v.length() + 32;
                }
            }
        }
        return size;
    }

    @Override
    public String toString() {
        return "EarlyCalls{replaySafeMethods=" + replaySafeMethods + ", riding=" + ridingPaths + '}';
    }
}
