/**
 * TCP Fast Open (<a href="https://www.rfc-editor.org/rfc/rfc7413">RFC 7413</a>) for Netty, on Netty 4.1 and
 * 4.2: the API is package {@code dev.tfo}; {@code dev.tfo.internal} (procfs and {@code tcp_info} decoding,
 * socket operations, transport detection) is not exported.
 *
 * <p>The Netty modules required here have the same names on both lines (automatic modules on 4.1, explicit
 * ones on 4.2). The io_uring transport is optional and never linked: its classes are looked up by name, so
 * a modular application that uses io_uring requires {@code io.netty.transport.classes.io_uring} itself.
 */
module dev.tfo {
    requires io.netty.common;
    requires io.netty.buffer;
    requires io.netty.transport;
    requires io.netty.transport.unix.common;
    requires io.netty.transport.classes.epoll;

    exports dev.tfo;
}
