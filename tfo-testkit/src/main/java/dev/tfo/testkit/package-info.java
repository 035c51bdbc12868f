/**
 * The harness every module's tests share to prove TCP Fast Open (RFC 7413) on real kernels: network
 * namespaces as hosts ({@link dev.tfo.testkit.Lab}, {@link dev.tfo.testkit.Host}), veth links and VIPs in
 * 198.18.0.0/15, per-namespace sysctls, faults ({@link dev.tfo.testkit.Rule}), a delay wire
 * ({@link dev.tfo.testkit.DelayWire}), packet capture with its own pcap reader ({@link dev.tfo.testkit.Capture},
 * {@link dev.tfo.testkit.Packet}), forked JVMs inside namespaces ({@link dev.tfo.testkit.HostProcess}), and the
 * JUnit rules that make CI fail where a laptop would skip ({@link dev.tfo.testkit.FreshNetns},
 * {@link dev.tfo.testkit.NeedsLab}, {@link dev.tfo.testkit.LeakGuard}); and what lets one test source tree run
 * on Netty 4.1 and 4.2: the transports under test ({@link dev.tfo.testkit.TestTransport}, with the declared skip
 * of io_uring on 4.1) and a TLS certificate made by the JDK ({@link dev.tfo.testkit.TestCertificate}).
 */
package dev.tfo.testkit;
