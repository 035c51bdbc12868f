package dev.tfo.internal;

import io.netty.channel.Channel;
import io.netty.channel.epoll.Epoll;

import java.lang.reflect.Method;

/**
 * The Netty transport behind a channel class: Linux epoll, Linux io_uring (Netty 4.2's built-in
 * {@code io.netty.channel.uring}), or anything else.
 *
 * <p>Detected by package name, so that io_uring classes are never loaded: the library runs on Netty 4.1
 * (no built-in io_uring) and on 4.2 with io_uring left out of the class path.
 */
public enum Transport {
    /** {@code io.netty.channel.epoll}. */
    EPOLL("epoll", "io.netty.channel.epoll.", "io.netty.channel.epoll.Epoll"),
    /** {@code io.netty.channel.uring} (Netty 4.2). */
    IO_URING("io_uring", "io.netty.channel.uring.", "io.netty.channel.uring.IoUring"),
    /** Any other transport (NIO, kqueue, local, embedded, the 4.1 io_uring incubator): no TFO. */
    OTHER("other", null, null);

    private final String displayName;
    private final String packagePrefix;
    private final String entryClass;

    Transport(String displayName, String packagePrefix, String entryClass) {
        this.displayName = displayName;
        this.packagePrefix = packagePrefix;
        this.entryClass = entryClass;
    }

    /**
     * Detects the transport of a channel from its class.
     *
     * @param channel a channel
     * @return its transport
     */
    public static Transport of(Channel channel) {
        return ofClass(channel.getClass());
    }

    /**
     * Detects the transport from a channel class or any of its superclasses (so subclasses of
     * {@code EpollSocketChannel} count as epoll).
     *
     * @param type a channel class
     * @return its transport
     */
    public static Transport ofClass(Class<?> type) {
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            String name = c.getName();
            if (name.startsWith(EPOLL.packagePrefix)) {
                return EPOLL;
            }
            if (name.startsWith(IO_URING.packagePrefix)) {
                return IO_URING;
            }
        }
        return OTHER;
    }

    /**
     * Whether this transport can carry data in a SYN and report {@code tcp_info}.
     *
     * @return {@code true} for epoll and io_uring
     */
    public boolean isNative() {
        return this != OTHER;
    }

    /**
     * Whether the transport's classes are on the class path and its native library loads.
     *
     * @return {@code Epoll.isAvailable()} or {@code IoUring.isAvailable()}; {@code false} for OTHER or when
     *         the classes are absent
     */
    public boolean isAvailable() {
        if (this == EPOLL) {
            return Epoll.isAvailable();
        }
        return Boolean.TRUE.equals(callStatic("isAvailable"));
    }

    /**
     * Why the transport cannot be used.
     *
     * @return the transport's own unavailability cause, a {@link ClassNotFoundException} when its classes are
     *         absent, or {@code null} when it is available
     */
    public Throwable unavailabilityCause() {
        if (this == EPOLL) {
            return Epoll.unavailabilityCause();
        }
        if (this == OTHER) {
            return new UnsupportedOperationException("not a native transport");
        }
        try {
            Class<?> entry = Class.forName(entryClass, true, Transport.class.getClassLoader());
            return (Throwable) entry.getMethod("unavailabilityCause").invoke(null);
        } catch (ReflectiveOperationException | LinkageError e) {
            return e;
        }
    }

    /**
     * What Netty decided about client TFO when the transport initialised (it reads
     * {@code net.ipv4.tcp_fastopen} once). Matters only to Netty's own TFO options; this library asks the
     * kernel on every connection instead.
     *
     * @return Netty's cached view, {@code false} when unknown
     */
    public boolean nettyClientTfo() {
        if (this == EPOLL) {
            return Epoll.isTcpFastOpenClientSideAvailable();
        }
        return Boolean.TRUE.equals(callStatic("isTcpFastOpenClientSideAvailable"));
    }

    /**
     * What Netty decided about server TFO when the transport initialised.
     *
     * @return Netty's cached view, {@code false} when unknown
     */
    public boolean nettyServerTfo() {
        if (this == EPOLL) {
            return Epoll.isTcpFastOpenServerSideAvailable();
        }
        return Boolean.TRUE.equals(callStatic("isTcpFastOpenServerSideAvailable"));
    }

    /**
     * The transport's name as users write it.
     *
     * @return {@code epoll}, {@code io_uring} or {@code other}
     */
    public String displayName() {
        return displayName;
    }

    private Object callStatic(String method) {
        if (entryClass == null) {
            return null;
        }
        try {
            Class<?> entry = Class.forName(entryClass, true, Transport.class.getClassLoader());
            Method m = entry.getMethod(method);
            return m.invoke(null);
        } catch (ReflectiveOperationException | LinkageError e) {
            return null;
        }
    }
}
