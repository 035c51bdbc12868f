#!/usr/bin/env bash
# Build a local Java 17 base image WITHOUT any container registry.
#
#   docker/build-base-image.sh [--force] [--clean-cache] [--runtime jlink|debian] [TAG]
#
# TAG defaults to tfo-base:17. The image is a Debian minbase root file system
# made by debootstrap from the Debian mirror this host already uses, plus
#   - a Java 17 runtime in /opt/java/openjdk (same path as eclipse-temurin),
#   - iproute2 (ip, ss), procps (ps, sysctl), tcpdump, coreutils (cat for
#     /proc/net/netstat),
# imported with `docker import` (ENV PATH/JAVA_HOME/LANG set via -c).
#
# Runtime choice (--runtime or TFO_BASE_RUNTIME):
#   jlink  (default when the host has jlink + jmods): a jlink'ed runtime made
#          from the host's JDK 17 -> the container runs the very same JVM build
#          as the host tests; ~35 s, ~165 MB.
#   debian Debian's openjdk-17-jre-headless from the mirror; needs no host JDK;
#          ~45 s, ~300 MB.
#
# Idempotent and cached:
#   - does nothing when TAG already exists (unless --force);
#   - otherwise `docker load`s $CACHE/<key>.tar.gz when present (a few seconds;
#     the key covers suite, mirror, arch, packages, runtime and host JDK build);
#   - otherwise debootstraps (downloaded .debs are kept in $CACHE/debs), imports,
#     and `docker save | gzip -1`s the result into $CACHE for the next run.
#   --force skips both the existing image and the saved-image cache (the .deb
#   cache is still used); --clean-cache empties $CACHE first.
#
# Environment overrides:
#   TFO_DEBIAN_MIRROR  default: first URIs: of /etc/apt/sources.list.d/debian.sources
#   TFO_DEBIAN_SUITE   default: first Suites: entry there (e.g. bookworm)
#   TFO_BASE_CACHE     default /var/cache/tfo-base
#   TFO_BASE_RUNTIME   jlink | debian (default: jlink if possible)
#   TFO_JLINK_MODULES  modules for the jlink runtime (see JLINK_MODULES below)
#   TFO_HOST_JAVA_HOME JDK used for jlink (default: from `command -v jlink`)
set -euo pipefail

SCRIPT_VERSION=1   # bump when the image content recipe changes (invalidates cache)
PACKAGES=(iproute2 procps tcpdump ca-certificates)
JLINK_MODULES=${TFO_JLINK_MODULES:-java.base,java.logging,java.management,java.naming,java.net.http,java.xml,java.sql,java.instrument,jdk.unsupported,jdk.net,jdk.crypto.ec,jdk.zipfs,jdk.jfr,jdk.management,jdk.management.jfr,jdk.jcmd,jdk.localedata}

FORCE=0 CLEAN=0 TAG="" RUNTIME=${TFO_BASE_RUNTIME:-}
while (($#)); do
  case $1 in
    --force) FORCE=1 ;;
    --clean-cache) CLEAN=1 ;;
    --runtime) RUNTIME=${2:?--runtime needs jlink or debian}; shift ;;
    --runtime=*) RUNTIME=${1#*=} ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) TAG=$1 ;;
  esac
  shift
done
TAG=${TAG:-tfo-base:17}
CACHE=${TFO_BASE_CACHE:-/var/cache/tfo-base}
T0=$SECONDS
log() { printf 'build-base-image [%3ds]: %s\n' $((SECONDS - T0)) "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, chroot)."
command -v docker >/dev/null || die "docker missing (run docker/dockerd-up.sh)."
timeout 10 docker version >/dev/null 2>&1 || die "no Docker daemon answers (run docker/dockerd-up.sh)."

if ((FORCE == 0)) && docker image inspect "$TAG" >/dev/null 2>&1; then
  log "$TAG already exists ($(docker image inspect -f '{{.Size}}' "$TAG" | numfmt --to=si)); nothing to do (use --force to rebuild)."
  exit 0
fi

# ---- mirror / suite ---------------------------------------------------------
SOURCES=/etc/apt/sources.list.d/debian.sources
src_field() { # first value of deb822 field $1 in $SOURCES
  [[ -r $SOURCES ]] || return 0
  awk -v f="$1:" 'tolower($1) == tolower(f) { print $2; exit }' "$SOURCES"
}
MIRROR=${TFO_DEBIAN_MIRROR:-$(src_field URIs)}
SUITE=${TFO_DEBIAN_SUITE:-$(src_field Suites)}
if [[ -z $MIRROR || -z $SUITE ]] && [[ -r /etc/apt/sources.list ]]; then  # one-line format fallback
  read -r _ m s _ < <(grep -E '^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?http' /etc/apt/sources.list | sed -E 's/\[[^]]*\][[:space:]]*//' | head -n1) || true
  MIRROR=${MIRROR:-${m:-}} SUITE=${SUITE:-${s:-}}
fi
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SUITE=${SUITE:-bookworm}
ARCH=$(dpkg --print-architecture)

# ---- runtime ----------------------------------------------------------------
HOST_JAVA_HOME=${TFO_HOST_JAVA_HOME:-}
if [[ -z $HOST_JAVA_HOME ]] && command -v jlink >/dev/null; then
  HOST_JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v jlink)")")")
fi
jlink_ok() {
  [[ -x $HOST_JAVA_HOME/bin/jlink && -f $HOST_JAVA_HOME/jmods/java.base.jmod ]] &&
    "$HOST_JAVA_HOME/bin/java" -version 2>&1 | grep -q 'version "17'
}
if [[ -z $RUNTIME ]]; then
  if jlink_ok; then RUNTIME=jlink; else RUNTIME=debian; fi
fi
case $RUNTIME in
  jlink)
    jlink_ok || die "--runtime jlink needs a JDK 17 with jmods (TFO_HOST_JAVA_HOME='$HOST_JAVA_HOME')."
    RUNTIME_ID="jlink:$("$HOST_JAVA_HOME/bin/java" -version 2>&1 | sed -n 1,2p | tr '\n' ' '):$JLINK_MODULES" ;;
  debian)
    PACKAGES+=(openjdk-17-jre-headless)
    RUNTIME_ID=debian ;;
  *) die "unknown runtime '$RUNTIME' (jlink|debian)" ;;
esac

KEY=$(printf '%s\n' "$SCRIPT_VERSION" "$SUITE" "$MIRROR" "$ARCH" "${PACKAGES[*]}" "$RUNTIME_ID" | sha256sum | cut -c1-12)
SAVED=$CACHE/tfo-base-$SUITE-$RUNTIME-$KEY.tar.gz
log "tag=$TAG runtime=$RUNTIME suite=$SUITE mirror=$MIRROR arch=$ARCH cache=$CACHE key=$KEY"

((CLEAN)) && { log "emptying $CACHE"; rm -rf "${CACHE:?}"/*; }
mkdir -p "$CACHE/debs"

# ---- fast path: saved image -------------------------------------------------
if ((FORCE == 0)) && [[ -s $SAVED ]]; then
  log "loading cached image $SAVED"
  loaded=$(gzip -dc "$SAVED" | docker load | sed -n 's/^Loaded image: //p' | tail -n1)
  [[ -n $loaded ]] || die "docker load of $SAVED failed (delete it and retry)."
  [[ $loaded == "$TAG" ]] || docker tag "$loaded" "$TAG"
  log "done: $TAG from cache in $((SECONDS - T0))s, $(docker image inspect -f '{{.Size}}' "$TAG" | numfmt --to=si)"
  exit 0
fi

# ---- build ------------------------------------------------------------------
command -v debootstrap >/dev/null || {
  log "installing debootstrap"; DEBIAN_FRONTEND=noninteractive apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap; }

WORK=$(mktemp -d /var/tmp/tfo-base.XXXXXX)
ROOT=$WORK/rootfs
cleanup() {
  # Runs from the EXIT trap, so it must never fail: under errexit a failing command here would turn a
  # successful build into exit status 1 (a `findmnt | grep` with no match did exactly that on every
  # fresh machine). debootstrap may leave proc/sys mounted inside the target: unmount everything below
  # ROOT (deepest first) before deleting, and never cross file systems.
  local m
  if [[ -d $ROOT ]]; then
    while read -r m; do
      if [[ $m == "$ROOT" || $m == "$ROOT"/* ]]; then umount -l "$m" || true; fi
    done < <(findmnt -rn -o TARGET | sort -r || true)
  fi
  rm -rf --one-file-system "$WORK" || true
}
# Keep the script's own exit status, whatever cleanup does.
trap 'status=$?; set +e; cleanup; exit "$status"' EXIT

INCLUDE=$(IFS=,; echo "${PACKAGES[*]}")
log "debootstrap --variant=minbase $SUITE (+ $INCLUDE)"
debootstrap --variant=minbase --arch="$ARCH" --include="$INCLUDE" \
  --cache-dir="$CACHE/debs" "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || {
  tail -n 40 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
log "debootstrap done"

mkdir -p "$ROOT/opt/java"
if [[ $RUNTIME == jlink ]]; then
  log "jlink runtime from $HOST_JAVA_HOME"
  "$HOST_JAVA_HOME/bin/jlink" --module-path "$HOST_JAVA_HOME/jmods" --add-modules "$JLINK_MODULES" \
    --strip-debug --no-man-pages --no-header-files --compress=2 --output "$ROOT/opt/java/openjdk"
  # Debian's JDK links against system libraries (zlib, ...); make sure the
  # rootfs has every shared library the runtime needs.
  # shellcheck disable=SC2016  # expanded by the chroot's sh, not here
  missing=$(chroot "$ROOT" /bin/sh -c 'for f in /opt/java/openjdk/bin/* $(find /opt/java/openjdk/lib -name "*.so"); do ldd "$f" 2>/dev/null; done' |
    grep 'not found' | grep -v 'libjvm.so' | sort -u || true)
  [[ -z $missing ]] || die "jlink runtime misses libraries in the rootfs: $missing"
else
  jh=$(dirname "$(dirname "$(chroot "$ROOT" readlink -f /usr/bin/java)")")
  ln -s "$jh" "$ROOT/opt/java/openjdk"
fi

# apt sources for whoever extends the image (with network); slim the rootfs.
cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
EOF
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/lib/apt/lists/* \
  "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* "$ROOT"/usr/share/locale/* \
  "$ROOT"/var/log/*.log "$ROOT"/var/cache/debconf/*-old "$ROOT"/tmp/* "$ROOT"/debootstrap 2>/dev/null || true
: >"$ROOT/etc/machine-id" 2>/dev/null || true

log "docker import"
tar --numeric-owner --xattrs -C "$ROOT" -c . | docker import \
  -c 'ENV JAVA_HOME=/opt/java/openjdk' \
  -c 'ENV PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV LANG=C.UTF-8' \
  -c "LABEL dev.tfo.base.runtime=$RUNTIME dev.tfo.base.suite=$SUITE dev.tfo.base.key=$KEY" \
  -c 'CMD ["java", "-version"]' \
  -m "tfo-base: debootstrap $SUITE minbase + $RUNTIME Java 17" - "$TAG" >/dev/null

log "verifying $TAG"
docker run --rm --pull never --network none "$TAG" sh -c \
  'java -version 2>&1 | head -n1 && ip -V && tcpdump --version 2>&1 | head -n1 && ps --version && head -n1 /proc/net/netstat >/dev/null && echo "cat /proc/net/netstat: ok"' >&2 ||
  die "verification of $TAG failed"

log "caching: docker save | gzip -1 > $SAVED"
rm -f "$CACHE"/tfo-base-"$SUITE"-"$RUNTIME"-*.tar.gz
docker save "$TAG" | gzip -1 >"$SAVED.tmp" && mv "$SAVED.tmp" "$SAVED"

log "done: $TAG built in $((SECONDS - T0))s, image size $(docker image inspect -f '{{.Size}}' "$TAG" | numfmt --to=si), cache $(du -h "$SAVED" | cut -f1)"
