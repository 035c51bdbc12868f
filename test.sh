#!/usr/bin/env bash
# The tests: installs and starts everything they need, runs the whole suite, and fails on any failure or skip.
#
#   sudo ./test.sh
#
# Root: the tests create network namespaces, capture packets, drop packets with iptables, start Docker containers.
# CI runs exactly this (.ci/run). CI=true (the default here) makes a test that lacks a capability fail instead of
# skipping. Three parts, each a script of its own under .ci/:
#   .ci/provision.sh   installs the missing tools with apt-get, starts dockerd (stopped again at the end if it
#                      started it), builds the offline base image tfo-base:17 through its cold path (no registry)
#   .ci/maven-runs.sh  every Maven run with ./mvnw (Netty 4.2, then the library on Netty 4.1), and the Maven Central
#                      bundle check (release/check-bundle.sh)
#   .ci/totals.py      the totals of every surefire and failsafe report of those runs: the LAST line printed
# Quicker layers for contributors (no root, no Docker): CONTRIBUTING.md.
set -euo pipefail
cd "$(dirname "$0")"
export CI="${CI:-true}"
TFO_STARTED=$(date +%s)
export TFO_STARTED
step() { printf '\n==> %s (%ss)\n' "$*" "$(( $(date +%s) - TFO_STARTED ))"; }

[ "$(id -u)" -eq 0 ] ||
  { echo "test.sh: run as root (sudo ./test.sh): the tests create network namespaces, capture packets and start Docker containers." >&2; exit 1; }

trap 'docker/dockerd-down.sh || true' EXIT
.ci/provision.sh

failed_runs=0
.ci/maven-runs.sh || failed_runs=$?
mapfile -t build_dirs < <(.ci/maven-runs.sh --dirs)

step "stop docker daemon"
trap - EXIT
docker/dockerd-down.sh

step "test totals (surefire and failsafe reports of every module and every Maven run)"
# The last line of the run: the count CI reads (.ci/totals.py says what fails it).
exec python3 .ci/totals.py --failed-runs "$failed_runs" "${build_dirs[@]}"
