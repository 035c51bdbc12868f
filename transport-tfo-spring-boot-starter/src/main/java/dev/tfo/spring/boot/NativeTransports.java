package dev.tfo.spring.boot;

import io.netty.channel.epoll.Epoll;

/** Which of Netty's native transports load here: the starter picks the one its framework would pick. */
final class NativeTransports {
    private NativeTransports() {
    }

    /** Whether Netty's epoll transport loads. */
    static boolean epoll() {
        return Epoll.isAvailable();
    }

    /** Whether Netty 4.2's io_uring transport loads: its classes are optional (absent from Netty 4.1). */
    static boolean ioUring() {
        try {
            Class<?> type = Class.forName("io.netty.channel.uring.IoUring", true,
                    NativeTransports.class.getClassLoader());
            return Boolean.TRUE.equals(type.getMethod("isAvailable").invoke(null));
        } catch (ReflectiveOperationException | LinkageError e) {
            return false;
        }
    }
}
