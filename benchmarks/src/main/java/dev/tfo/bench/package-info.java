/**
 * Benchmarks of transport-tfo, run by {@link dev.tfo.bench.BenchMain} ({@code benchmarks/run.sh}): latency of
 * a request on a new connection under real round trips (plain Netty, hand-written TFO, {@code TfoBootstraps}),
 * black-hole recovery with and without the backoff, and the helper's overhead on loopback.
 */
package dev.tfo.bench;
