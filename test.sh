#!/usr/bin/env bash
# The tests: installs and starts everything they need, runs the whole suite, and fails on any failure or skip.
#
#   sudo ./test.sh
#
# Root: the tests create network namespaces, capture packets, drop packets with iptables, start Docker
# containers. Installs the missing tools with apt-get, starts dockerd (and stops it at the end if it started
# it), builds the offline base image tfo-base:17 through its cold path (no registry is needed), runs every
# Maven run below with ./mvnw, and prints the totals of every surefire and failsafe report as its LAST line.
# CI runs exactly this (.ci/run). CI=true (the default here) makes a test that lacks a capability fail
# instead of skipping.
set -euo pipefail
cd "$(dirname "$0")"
export CI="${CI:-true}"

# What the tests need, one "command package" pair per line: the package is installed when the command is
# missing.
PACKAGES=(
  "javac openjdk-17-jdk-headless"
  "python3 python3"
  "unshare util-linux"
  "ip iproute2"
  "tcpdump tcpdump"
  "iptables iptables"
  "nft nftables"
  "dockerd docker.io"
  "docker-compose docker-compose"
  "debootstrap debootstrap"
  "gcc gcc"
  "ps procps"
  "curl curl"
  "redis-server redis-server"
  "strace strace"
  "gpg gnupg"
)

# The Maven runs, one per line: "BUILD_DIR ARGS...". Each builds into its own folder (-Dtfo.buildDir), so the
# totals read the reports of every run and none overwrites another's. The second run tests the same jars
# (compiled against Netty 4.2) on Netty 4.1 (the root pom's profile netty-4.1): the library, its Micrometer
# binder and the testkit.
MAVEN_RUNS=(
  "target clean verify"
  "target-netty41 -P netty-4.1 -pl transport-tfo,transport-tfo-micrometer,tfo-frameworks-it -am clean verify"
)

started=$(date +%s)
step() { printf '\n==> %s (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }

[ "$(id -u)" -eq 0 ] ||
  { echo "test.sh: run as root (sudo ./test.sh): the tests create network namespaces, capture packets and start Docker containers." >&2; exit 1; }

step "packages"
missing=()
for entry in "${PACKAGES[@]}"; do
  read -r tool package <<<"$entry"
  command -v "$tool" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
# No `| head` here: under pipefail a closed pipe would fail the run.
versions="$(java -version 2>&1; ./mvnw -B -v 2>&1)"
grep -E '^(openjdk|Apache Maven)' <<<"$versions" || true

step "docker daemon"
docker/dockerd-up.sh
trap 'docker/dockerd-down.sh || true' EXIT

step "offline base image (always the cold path: debootstrap, import, cleanup)"
# --force skips the saved-image cache (downloaded .debs are still reused), so every run goes through the
# path a new machine takes; a warm cache once hid a failure there.
docker/build-base-image.sh --force tfo-base:17

build_dirs=()
failed_runs=()
for run in "${MAVEN_RUNS[@]}"; do
  read -r dir goals <<<"$run"
  step "tests: ./mvnw -B -ntp -Dtfo.buildDir=$dir $goals"
  build_dirs+=("$dir")
  # shellcheck disable=SC2086  # goals are words
  ./mvnw -B -ntp -Dtfo.buildDir="$dir" $goals || failed_runs+=("$dir")
done

step "release bundle (release/check-bundle.sh: built as ./mvnw -P release deploy would upload it, not uploaded)"
release/check-bundle.sh || failed_runs+=("release-bundle")

step "stop docker daemon"
trap - EXIT
docker/dockerd-down.sh

step "test totals (surefire and failsafe reports of every module and every Maven run)"
# The last line of the run: the count CI reads. It fails on a failed Maven run, on any failed test, on any
# skipped test except a DECLARED skip, and on no test at all. A declared skip is a test of something that does
# not exist on that Netty line (io_uring on 4.1): its reason starts with "declared: " (TestTransport.DECLARED);
# such skips are counted apart and each reason is printed with its count.
python3 - "${#failed_runs[@]}" "${build_dirs[@]}" <<'PY'
import collections, glob, re, sys
import xml.etree.ElementTree as ET
failed_runs, dirs = int(sys.argv[1]), sys.argv[2:]
run = failed = reports = 0
declared = collections.Counter()
undeclared = []
undeclared_tests = 0

def reason(skipped):
    # Surefire writes the reason as a message attribute, or (JUnit 5 aborts) as the stack trace's first line.
    text = skipped.get("message") or (skipped.text or "").strip().split("\n")[0]
    text = re.sub(r"^[\w.$]+(Exception|Error): ", "", text.strip())
    return re.sub(r"^Assumption failed: ", "", text)

for d in dirs:
    for f in sorted(set(glob.glob(f"**/{d}/*-reports/TEST-*.xml", recursive=True))):
        r = ET.parse(f).getroot()
        reports += 1
        run += int(r.get("tests", 0))
        failed += int(r.get("failures", 0)) + int(r.get("errors", 0))
        counted = int(r.get("skipped", 0))
        for case in r.iter("testcase"):
            for s in case.findall("skipped"):
                why = reason(s)
                if why.startswith("declared: "):
                    declared[f"{d}: {why}"] += 1
                else:
                    undeclared.append(f"{f}: {case.get('classname')}.{case.get('name')}: {why or '(no reason)'}")
                    undeclared_tests += 1
                counted -= 1
        if counted > 0:
            undeclared.append(f"{f}: {counted} skipped test(s) without a <skipped> reason")
            undeclared_tests += counted
for why, n in sorted(declared.items()):
    print(f"declared skip x{n} ({why})")
for u in undeclared:
    print(f"UNDECLARED skip: {u}")
skipped = sum(declared.values()) + undeclared_tests
line = (f"{run - failed - skipped} passed, {failed} failed, {undeclared_tests} skipped, "
        f"{sum(declared.values())} declared skips ({reports} reports, {len(dirs)} Maven run(s), {failed_runs} failed)")
if run == 0 or failed or undeclared or failed_runs:
    raise SystemExit(f"{line}: nothing may fail or be skipped (except a declared skip)")
print(line)
PY
