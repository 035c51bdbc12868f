#!/bin/sh
# Runs every benchmark of the benchmarks module once and writes benchmarks/results/{results.md,latency.png,
# frameworks.png,latency-samples.csv}.
#   sudo benchmarks/run.sh                      # from the repository root (root: network namespaces, TUN); ~7 min
#   sudo benchmarks/run.sh --iterations 500 --rtts 20,50,100 --out /tmp/bench
#   sudo benchmarks/run.sh --only latency       # latency | frameworks | overhead | alloc | blackhole, comma-separated
#   sudo benchmarks/run.sh --only overhead,alloc --out /tmp/overhead   # overhead + allocation profile only
# Needs: JDK 17 (./mvnw fetches Maven), gcc (the testkit's delay wire is compiled on first use), ip (iproute2),
# strace (the allocation profile's system-call counts).
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
    echo "benchmarks/run.sh: needs root (ip netns, /dev/net/tun)" >&2
    exit 1
fi
./mvnw -q -B -pl benchmarks -am package -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true
CP="benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
exec "$JAVA" -cp "$CP" dev.tfo.bench.BenchMain --out benchmarks/results "$@"
