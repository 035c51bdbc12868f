#!/usr/bin/env bash
# The Maven runs of the whole suite, then the Maven Central bundle check. The second part of ./test.sh.
#
#   .ci/maven-runs.sh          runs them all, even after a failure; prints "FAILED: <run>" for each that failed
#                              and exits with the number of failed runs (0: all passed)
#   .ci/maven-runs.sh --dirs   prints the build folder of each Maven run, one per line (what .ci/totals.py reads)
#
# Root, a running dockerd and the base image tfo-base:17 are expected (.ci/provision.sh); CI=true (test.sh sets
# it) makes a test that lacks a capability fail instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Maven runs, one per line: "BUILD_DIR ARGS...". Each builds into its own folder (-Dtfo.buildDir), so the totals
# read the reports of every run and none overwrites another's. The second run tests the same jars (compiled against
# Netty 4.2) on Netty 4.1 (the root pom's profile netty-4.1): the library, its Micrometer binder and the frameworks.
MAVEN_RUNS=(
  "target clean verify"
  "target-netty41 -P netty-4.1 -pl transport-tfo,transport-tfo-micrometer,tfo-frameworks-it -am clean verify"
)

if [ "${1:-}" = --dirs ]; then
  for run in "${MAVEN_RUNS[@]}"; do printf '%s\n' "${run%% *}"; done
  exit 0
fi

started=${TFO_STARTED:-$(date +%s)}
step() { printf '\n==> %s (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }

failed_runs=()
for run in "${MAVEN_RUNS[@]}"; do
  read -r dir goals <<<"$run"
  step "tests: ./mvnw -B -ntp -Dtfo.buildDir=$dir $goals"
  # shellcheck disable=SC2086  # goals are words
  ./mvnw -B -ntp -Dtfo.buildDir="$dir" $goals || failed_runs+=("$dir")
done

step "release bundle (release/check-bundle.sh: built as ./mvnw -P release deploy would upload it, not uploaded)"
release/check-bundle.sh || failed_runs+=("release-bundle")

for run in "${failed_runs[@]}"; do echo "FAILED: $run"; done
exit "${#failed_runs[@]}"
