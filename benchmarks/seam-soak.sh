#!/bin/sh
# The seam soak (transport-tfo's SeamSoakScenarioTest) run long: thousands of connections, both client patterns,
# four application patterns, faults switched on and off in phases of 10 s (SYN data dropped, server resets,
# REJECT tcp-reset, listener restart), the same invariants and the same summary as the bounded run in `mvn verify`.
#   sudo benchmarks/seam-soak.sh                       # from the repository root: 12000 connections over 600 s
#   sudo benchmarks/seam-soak.sh 30000 1800            # CONNECTIONS SECONDS
#   sudo benchmarks/seam-soak.sh 6000 300 -Dtfo.seamSoak.backoff=default -Dtfo.seamSoak.transport=io_uring
# Further arguments go to Maven (the test's properties: tfo.seamSoak.phaseSeconds, .concurrency, .boundMs,
# .backoff, .transport). Builds into transport-tfo/target-seam-soak (-Dtfo.buildDir), so a build of the same tree
# may run beside it. Writes benchmarks/results/seam-soak.txt (the summary) and
# transport-tfo/target-seam-soak/seam-soak-records.tsv (every record of both agents); prints the summary; exits
# non-zero when an invariant fails.
# Needs: root (network namespaces, iptables), JDK 17 (./mvnw fetches Maven), ip, iptables, tcpdump.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
    echo "benchmarks/seam-soak.sh: needs root (ip netns, iptables)" >&2
    exit 1
fi
CONNECTIONS=${1:-12000}
[ $# -gt 0 ] && shift
DURATION=${1:-600}
[ $# -gt 0 ] && shift
mkdir -p benchmarks/results
REPORT="$PWD/benchmarks/results/seam-soak.txt"
RECORDS="$PWD/transport-tfo/target-seam-soak/seam-soak-records.tsv"
rm -f "$REPORT" "$RECORDS"
LOG=$(mktemp /tmp/tfo-seam-soak.XXXXXX)
trap 'rm -f "$LOG"' EXIT
echo "seam soak: $CONNECTIONS connections over $DURATION s (Maven log: $LOG while it runs)"
status=0
./mvnw -B -ntp -Dtfo.buildDir=target-seam-soak -pl transport-tfo -am test \
    -Dtest=SeamSoakScenarioTest -Dsurefire.failIfNoSpecifiedTests=false \
    -Dtfo.seamSoak.connections="$CONNECTIONS" -Dtfo.seamSoak.seconds="$DURATION" \
    -Dtfo.seamSoak.report="$REPORT" -Dtfo.seamSoak.records="$RECORDS" "$@" >"$LOG" 2>&1 || status=$?
if [ -s "$REPORT" ]; then
    cat "$REPORT"
else
    tail -n 80 "$LOG"
fi
if [ "$status" != 0 ]; then
    # the failed invariants, each with its counts (the summary above has the rest)
    grep -E '^\s*(Suppressed: )?org.opentest4j.AssertionFailedError' "$LOG" | sed -E 's/^\s*(Suppressed: )?//' | sort -u || true
    echo "seam soak: FAILED (exit $status)"
fi
exit "$status"
