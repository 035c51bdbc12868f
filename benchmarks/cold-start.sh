#!/usr/bin/env bash
# The first request of a fresh JVM, README style (connect().sync(), then writeAndFlush), with a cookie already
# cached: how often does it ride in the SYN? N cold client JVMs per variant, interleaved, while two busy loops
# load both cores; variants: firstWriteWait 10 ms (the 0.2.0 pre-release default) and the default (250 ms).
#   sudo benchmarks/cold-start.sh [N]          # from the repository root; N defaults to 10
# Prints one line per JVM and a table; writes it to benchmarks/results/cold-start.md. Needs root (ip netns).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10}"
[ "$(id -u)" -eq 0 ] || { echo "cold-start.sh: needs root (ip netns)" >&2; exit 1; }
./mvnw -q -B -pl benchmarks -am package -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true
CP="benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
NS="tfo-cold-$$"
pids=()
cleanup() {
  status=$?
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  exit "$status"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -q -w net.ipv4.tcp_fastopen=3
in_ns() { ip netns exec "$NS" "$@"; }

mkfifo "/tmp/$NS.in"
in_ns "$JAVA" -cp "$CP" dev.tfo.bench.BenchServer 7000 64 64 < "/tmp/$NS.in" > "/tmp/$NS.server" 2>&1 &
pids+=($!)
exec 3> "/tmp/$NS.in"
rm -f "/tmp/$NS.in"
for _ in $(seq 100); do grep -q '^listening' "/tmp/$NS.server" && break; sleep 0.1; done
grep -q '^listening' "/tmp/$NS.server" || { cat "/tmp/$NS.server"; exit 1; }
client() { in_ns "$JAVA" -cp "$CP" dev.tfo.bench.ColdStartClient 127.0.0.1 7000 64 64 "$1"; }
echo "cookie: $(client -1)"

# Load: two busy loops, one per core, as a loaded 2-core host has.
for _ in 1 2; do sh -c 'while :; do :; done' & pids+=($!); done

declare -A hits=() runs=()
lines=()
for i in $(seq "$N"); do
  for wait in 10 -1; do
    label=$([ "$wait" = -1 ] && echo "default (250 ms)" || echo "${wait} ms")
    out=$(client "$wait")
    echo "#$i firstWriteWait=$label: $out"
    lines+=("| $i | $label | ${out%% reason=*} |")
    runs[$label]=$(( ${runs[$label]:-0} + 1 ))
    case $out in outcome=SYN_DATA_ACKED*) hits[$label]=$(( ${hits[$label]:-0} + 1 )) ;; esac
  done
done
{
  echo "# First request of a cold JVM (README pattern), cookie cached, both cores busy"
  echo
  echo "Measured by \`benchmarks/cold-start.sh $N\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r)."
  echo
  echo "| firstWriteWait | first request in the SYN |"
  echo "|---|---|"
  for label in "10 ms" "default (250 ms)"; do
    echo "| $label | ${hits[$label]:-0} of ${runs[$label]:-0} |"
  done
  echo
  echo "| JVM | firstWriteWait | outcome, connect().sync() time, request to answer |"
  echo "|---|---|---|"
  printf '%s\n' "${lines[@]}"
} | tee benchmarks/results/cold-start.md | sed -n '1,10p'
