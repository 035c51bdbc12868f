#!/bin/sh
# The example client before and after a change, side by side: system calls and time per connection.
#   sudo benchmarks/example-before-after.sh [COMMIT [RUNS [CONNECTIONS]]]
#       from the repository root; COMMIT defaults to f2ee2c7 (main before TfoBootstraps.connect stopped probing
#       per connection); RUNS per build (default 3) of CONNECTIONS each (default 60; x10 on loopback)
# Builds example-echo at COMMIT (git archive into a temporary directory, no worktree) and in this tree, then runs
# dev.tfo.bench.ExampleBeforeAfter, which prints and writes benchmarks/results/example-before-after.md.
# Needs: root (network namespaces, TUN), JDK 17, gcc, ip, strace (apt-get install strace). About 3 minutes.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
    echo "benchmarks/example-before-after.sh: needs root (ip netns, /dev/net/tun)" >&2
    exit 1
fi
command -v strace >/dev/null || { echo "benchmarks/example-before-after.sh: strace not found" >&2; exit 1; }
COMMIT=${1:-f2ee2c7}
[ $# -gt 0 ] && shift
WORK=$(mktemp -d /tmp/tfo-example-before.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
git archive "$COMMIT" | tar -x -C "$WORK"
# The commit may predate ./mvnw: build it with this tree's wrapper.
./mvnw -q -B -f "$WORK/pom.xml" -pl example-echo -am package -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true
./mvnw -q -B -pl benchmarks,example-echo -am package -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true
CP="benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
AFTER="this tree, $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!benchmarks/results' || echo ' + uncommitted changes')"
"$JAVA" -cp "$CP" dev.tfo.bench.ExampleBeforeAfter "$COMMIT ($(git rev-parse --short "$COMMIT"^{commit}))" \
    "$WORK/example-echo/target/example-echo.jar" "$AFTER" example-echo/target/example-echo.jar \
    benchmarks/results/example-before-after.md "$@"
