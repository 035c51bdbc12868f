/**
 * gRPC-java ({@code grpc-netty}) over TCP Fast Open (RFC 7413) in one round trip: {@link dev.tfo.grpc.TfoGrpc}
 * configures a {@code NettyChannelBuilder} so that a call safe to replay rides in the SYN with the HTTP/2 preface
 * (RFC 9113 section 3.4), and is answered one round trip after it.
 *
 * <pre>{@code
 * TfoGrpc.configure(nettyChannelBuilder, EpollSocketChannel::new);
 * }</pre>
 */
package dev.tfo.grpc;
