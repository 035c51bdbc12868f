#!/usr/bin/env bash
# Start a Docker daemon for this project if (and only if) none is answering.
#
#   docker/dockerd-up.sh            # idempotent; safe to run many times
#
# - Installs docker.io via apt-get when `dockerd` is missing.
# - If a daemon already answers `docker version`, does nothing (and does NOT
#   claim it: docker/dockerd-down.sh will leave it alone).
# - If a dockerd process exists but does not answer yet, waits for it instead
#   of starting a second one (two daemons fight over docker0/iptables).
# - Otherwise starts dockerd in the background, records its PID in
#   $TFO_DOCKERD_PIDFILE, and waits (bounded) until `docker version` answers.
#
# Environment:
#   TFO_DOCKERD_PIDFILE  default /var/run/tfo-dockerd.pid
#   TFO_DOCKERD_LOG      default /var/log/tfo-dockerd.log
#   TFO_DOCKERD_TIMEOUT  seconds to wait for the daemon, default 60
#   TFO_DOCKER_BIP       docker0 address, default 198.19.0.1/24
#   TFO_DOCKER_POOL      pool for networks created without --subnet,
#                        default 198.19.128.0/17 (carved into /24s)
# Both defaults keep every Docker network inside 198.18.0.0/15 (benchmark
# range), never in private ranges (Docker's default docker0 is 172.17.0.0/16).
# Explicit networks (docker/compose.yaml) use 198.18.x.0/24.
set -euo pipefail

PIDFILE=${TFO_DOCKERD_PIDFILE:-/var/run/tfo-dockerd.pid}
LOG=${TFO_DOCKERD_LOG:-/var/log/tfo-dockerd.log}
TIMEOUT=${TFO_DOCKERD_TIMEOUT:-60}
SOCK=/var/run/docker.sock
BIP=${TFO_DOCKER_BIP:-198.19.0.1/24}
POOL=${TFO_DOCKER_POOL:-198.19.128.0/17}

log() { echo "dockerd-up: $*" >&2; }

answers() {
  # `docker version` exits non-zero when the server part is unreachable.
  timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

wait_ready() { # $1 = pid to watch (optional)
  local pid=${1:-} deadline=$((SECONDS + TIMEOUT))
  until answers; do
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      log "ERROR: dockerd (pid $pid) exited before answering; last lines of $LOG:"
      tail -n 30 "$LOG" >&2 || true
      rm -f "$PIDFILE"
      return 1
    fi
    if (( SECONDS >= deadline )); then
      log "ERROR: no answer from 'docker version' within ${TIMEOUT}s (socket $SOCK)."
      [[ -f $LOG ]] && { log "last lines of $LOG:"; tail -n 30 "$LOG" >&2; }
      return 1
    fi
    sleep 0.5
  done
}

if [[ $(id -u) -ne 0 ]]; then
  log "ERROR: must run as root (starts dockerd / installs packages)."
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  log "dockerd/docker missing: installing docker.io via apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y docker.io
fi

# Serialise concurrent invocations (two engineers running this at once must
# not start two daemons).
exec 9>/var/lock/tfo-dockerd-up.lock
flock -w "$TIMEOUT" 9 || { log "ERROR: another dockerd-up.sh holds /var/lock/tfo-dockerd-up.lock for >${TIMEOUT}s"; exit 1; }

if answers; then
  log "a Docker daemon already answers ($(docker version --format '{{.Server.Version}}')); nothing to do."
  exit 0
fi

# A daemon that is starting (ours from an earlier run, or someone else's):
# wait for it rather than start a second one.
existing=""
if [[ -s $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  existing=$(cat "$PIDFILE")
elif [[ -s /var/run/docker.pid ]] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  existing=$(cat /var/run/docker.pid)
elif existing=$(pgrep -x dockerd | head -n1) && [[ -n $existing ]]; then
  :
else
  existing=""
fi
if [[ -n $existing ]]; then
  log "dockerd (pid $existing) is running but not answering yet; waiting up to ${TIMEOUT}s (not starting another)."
  wait_ready "$existing"
  log "Docker daemon ready."
  exit 0
fi

rm -f "$PIDFILE"
mkdir -p "$(dirname "$LOG")"
log "starting dockerd (docker0 $BIP, address pool $POOL; log: $LOG)"
start=$SECONDS
nohup dockerd --host=unix://$SOCK --pidfile=/var/run/docker.pid \
  --bip="$BIP" --default-address-pool "base=$POOL,size=24" >"$LOG" 2>&1 </dev/null 9>&- &
pid=$!
echo "$pid" >"$PIDFILE"
wait_ready "$pid"
log "Docker daemon ready: pid $pid (recorded in $PIDFILE), version $(docker version --format '{{.Server.Version}}'), $((SECONDS - start))s."
