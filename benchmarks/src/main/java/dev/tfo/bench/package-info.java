/**
 * Benchmarks of transport-tfo, run by {@link dev.tfo.bench.BenchMain} ({@code benchmarks/run.sh}): latency of
 * a request on a new connection under real round trips (plain Netty, hand-written TFO and the library, for a
 * first flight and for connect-then-write), the same for Reactor Netty and gRPC-java with their README recipes,
 * black-hole recovery with and without the backoff, and the library's overhead on loopback.
 */
package dev.tfo.bench;
