#!/usr/bin/env bash
# Stop the Docker daemon that docker/dockerd-up.sh started, by its recorded PID.
# Does nothing when dockerd-up.sh did not start one (e.g. a daemon managed by
# systemd or by someone else was already running).
#
# Environment:
#   TFO_DOCKERD_PIDFILE  default /var/run/tfo-dockerd.pid
#   TFO_DOCKERD_STOP_TIMEOUT  seconds between TERM and KILL, default 30
set -euo pipefail

PIDFILE=${TFO_DOCKERD_PIDFILE:-/var/run/tfo-dockerd.pid}
TIMEOUT=${TFO_DOCKERD_STOP_TIMEOUT:-30}
log() { echo "dockerd-down: $*" >&2; }

if [[ ! -s $PIDFILE ]]; then
  log "no $PIDFILE: dockerd-up.sh did not start a daemon; nothing to do."
  exit 0
fi
pid=$(cat "$PIDFILE")
if [[ ! $pid =~ ^[0-9]+$ ]]; then
  log "ERROR: $PIDFILE does not hold a PID ('$pid'); refusing to act."
  exit 1
fi
if ! kill -0 "$pid" 2>/dev/null; then
  log "pid $pid is not running any more; removing stale $PIDFILE."
  rm -f "$PIDFILE"
  exit 0
fi
# Guard against PID reuse: only signal a process that is dockerd.
comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
if [[ $comm != dockerd ]]; then
  log "pid $pid is '$comm', not dockerd (PID reused?); removing stale $PIDFILE, not signalling."
  rm -f "$PIDFILE"
  exit 0
fi

log "stopping dockerd pid $pid (TERM, up to ${TIMEOUT}s)"
start=$SECONDS
kill -TERM "$pid"
deadline=$((SECONDS + TIMEOUT))
while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do
  sleep 0.2
done
if kill -0 "$pid" 2>/dev/null; then
  log "still alive after ${TIMEOUT}s: KILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 1
fi
rm -f "$PIDFILE"
log "dockerd pid $pid stopped after $((SECONDS - start))s."
