#!/usr/bin/env bash
# Provisions the machine for the whole suite (root): installs the missing tools, starts dockerd, and builds the offline
# base image tfo-base:17 through its cold path. The first part of ./test.sh; it leaves dockerd running (test.sh stops
# it with docker/dockerd-down.sh, which stops only a daemon docker/dockerd-up.sh started).
#
#   sudo .ci/provision.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# What the tests need, one "command package" pair per line: the package is installed when the command is missing.
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

started=${TFO_STARTED:-$(date +%s)}
step() { printf '\n==> %s (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }

[ "$(id -u)" -eq 0 ] ||
  { echo "provision.sh: run as root: it installs packages and starts dockerd." >&2; exit 1; }

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

step "offline base image (always the cold path: debootstrap, import, cleanup)"
# --force skips the saved-image cache (downloaded .debs are still reused), so every run goes through the path a new
# machine takes; a warm cache once hid a failure there.
docker/build-base-image.sh --force tfo-base:17
