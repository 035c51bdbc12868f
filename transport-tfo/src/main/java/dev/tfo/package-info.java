/**
 * TCP Fast Open (<a href="https://www.rfc-editor.org/rfc/rfc7413">RFC 7413</a>) for Netty's native
 * transports, made safe to use and provable on every connection. This package is the library's whole API.
 *
 * <ul>
 *   <li>{@link dev.tfo.TfoChannels} is where both sides get TFO: a channel factory for a {@code ServerBootstrap}
 *       whose listeners accept data in the SYN, and for clients a channel factory for a {@code Bootstrap} or a
 *       framework, or a call in a framework's channel-init hook.</li>
 *   <li>{@link dev.tfo.TfoBootstraps} connects a {@code Bootstrap} with a first flight of data that rides in
 *       the SYN whenever the kernel holds a cookie.</li>
 *   <li>{@link dev.tfo.TfoSynDataPolicy} decides which first bytes may ride in a SYN (replay safety).</li>
 *   <li>{@link dev.tfo.TfoResultListener} is told each connection's result (metrics, logs).</li>
 *   <li>{@link dev.tfo.TfoServerOptions} and {@link dev.tfo.TfoClientOptions}: immutable settings of a
 *       listener (queue length, keys, cookie-less mode) and of a client (backoff, policy, first-write wait,
 *       cookie-less mode).</li>
 *   <li>{@link dev.tfo.TfoBackoff} stops trying TFO towards a path that drops SYNs with data.</li>
 *   <li>{@link dev.tfo.TfoResult} tells, per connection and from the kernel's {@code tcp_info}, whether the
 *       data really travelled in the SYN ({@link dev.tfo.TfoOutcome}).</li>
 *   <li>{@link dev.tfo.TfoSupport} diagnoses what the kernel and Netty allow right now, with the fix.</li>
 *   <li>{@link dev.tfo.TfoCounters} snapshots the kernel's {@code TCPFastOpen*} counters.</li>
 *   <li>{@link dev.tfo.TfoKey} is a server key; {@link dev.tfo.TfoKeyRing} holds the keys of a set of
 *       listeners and rotates them live, or keeps them in step with a private key file
 *       ({@link dev.tfo.TfoKeyRing#watch(java.nio.file.Path)}).</li>
 * </ul>
 *
 * <p>The channel handlers that hold a first flight back until the connect completes and watch the handshake
 * are package-private here; {@code dev.tfo.internal} holds the procfs, {@code tcp_info} and transport
 * helpers, and is not API.
 *
 * <p>Data in a SYN may be delivered twice and is processed by the server before the handshake completes
 * (RFC 7413, section 6): a first flight must be idempotent.
 */
package dev.tfo;
