#!/usr/bin/env bash
# The main job: build the example (quietly, no tests) and run the TCP Fast Open echo pair, which shows
# SYN_DATA_ACKED from the second connection on.
#
#   ./echo.sh [FLAGS...]            client and server in a fresh user + network namespace (tcp_fastopen=3
#                                   there only; the host's value is untouched). Needs neither root nor Docker.
#   ./echo.sh --docker [FLAGS...]   the two-container pair of docker/compose.yaml (root: starts dockerd if none
#                                   answers, builds the base image locally when no registry answers)
#
# FLAGS go to the example (java -jar example-echo/target/example-echo.jar --help lists them), e.g.
#   ./echo.sh --count 5 --json
# Without --docker, -l (listen and connect to itself) and --count 3 are added unless FLAGS set them; --diagnose
# reports on that namespace (tcp_fastopen=3), and a first line says so and gives the host's own value.
# Needs: a JDK 17+ (java, javac); Maven is downloaded by ./mvnw. Without --docker: unshare (util-linux), ip
# (iproute2), user namespaces enabled (or root).
set -euo pipefail
cd "$(dirname "$0")"

JAR=example-echo/target/example-echo.jar
say() { printf 'echo.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

docker_mode=false
args=()
for arg in "$@"; do
  case $arg in
    --docker) docker_mode=true ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$arg") ;;
  esac
done

# ---- build -----------------------------------------------------------------------------------------------
command -v java >/dev/null 2>&1 || die "java not found: install a JDK 17 or later (e.g. apt-get install openjdk-17-jdk-headless)."
command -v javac >/dev/null 2>&1 || die "javac not found: a JRE is not enough to build, install a JDK 17 or later (e.g. apt-get install openjdk-17-jdk-headless)."
version=$(java -version 2>&1)
[[ $version =~ version\ \"([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 17 ] ||
  die "java is not 17 or later ($(printf '%s' "$version" | sed -n 1p)): install a JDK 17+ or put it first on PATH."

# Rebuild when the jar is missing or older than any source or pom it is made from.
if [ ! -f "$JAR" ] || [ -n "$(find pom.xml tfo-testkit transport-tfo transport-tfo-micrometer example-echo \
      -name 'target*' -prune -o \( -name pom.xml -o -path '*/src/*' \) -newer "$JAR" -print -quit)" ]; then
  say "building example-echo (./mvnw, no tests; the first run downloads Maven and the dependencies)"
  ./mvnw -q -B -pl example-echo -am package -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true ||
    die "the build failed (see above)."
fi

# ---- the pair in a fresh network namespace (default) -------------------------------------------------------
why_no_namespace() { # $1 = unshare's error
  local v
  if ! is_root; then
    v=$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo)
    [ "$v" = 0 ] && { echo "user namespaces are disabled (user.max_user_namespaces=0): as root, sysctl -w user.max_user_namespaces=10000, or run ./echo.sh as root, or ./echo.sh --docker."; return; }
    v=$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo)
    [ "$v" = 0 ] && { echo "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0): as root, sysctl -w kernel.unprivileged_userns_clone=1, or run ./echo.sh as root, or ./echo.sh --docker."; return; }
    v=$(cat /proc/sys/kernel/apparmor_restrict_unprivileged_userns 2>/dev/null || echo)
    [ "$v" = 1 ] && { echo "AppArmor forbids unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1): run ./echo.sh as root, or ./echo.sh --docker."; return; }
  fi
  echo "cannot create a network namespace ($(printf '%s' "$1" | tr '\n' ' ')): run ./echo.sh as root, or ./echo.sh --docker."
}

run_namespace() {
  command -v unshare >/dev/null 2>&1 || die "unshare not found: install util-linux, or use ./echo.sh --docker."
  command -v ip >/dev/null 2>&1 || die "ip not found: install iproute2 (it brings up lo in the namespace), or use ./echo.sh --docker."
  local ns probe has_listen=false has_count=false arg
  if is_root; then ns=(unshare --net); else ns=(unshare --map-root-user --net); fi
  probe=$("${ns[@]}" true 2>&1) || die "$(why_no_namespace "$probe")"
  for arg in "${args[@]}"; do
    case $arg in
      -l|--listen|--listen-only|--diagnose) has_listen=true ;;
      --count|--count=*) has_count=true ;;
    esac
  done
  $has_count || args=(--count 3 "${args[@]}")
  $has_listen || args=(-l "${args[@]}")
  for arg in "${args[@]}"; do
    if [ "$arg" = --diagnose ]; then
      # The diagnosis is the namespace's, not the host's: say so, and give the host's own value.
      local host_value
      host_value=$(cat /proc/sys/net/ipv4/tcp_fastopen 2>/dev/null) || host_value="unreadable"
      echo "echo.sh: the diagnosis below is that of the fresh network namespace echo.sh made (net.ipv4.tcp_fastopen=3 there only); this host's own net.ipv4.tcp_fastopen is $host_value (the host's diagnosis: java -jar $JAR --diagnose)"
      break
    fi
  done
  # shellcheck disable=SC2016  # expanded by the namespace's sh
  exec "${ns[@]}" sh -c '
    err=$(ip link set lo up 2>&1) || { echo "echo.sh: cannot bring lo up in the namespace: $err" >&2; exit 1; }
    err=$( { echo 3 > /proc/sys/net/ipv4/tcp_fastopen; } 2>&1) ||
      { echo "echo.sh: cannot set net.ipv4.tcp_fastopen=3 in the namespace: $err" >&2; exit 1; }
    exec java -jar "$0" "$@"' "$JAR" "${args[@]}"
}

# ---- the two-container pair (--docker) ----------------------------------------------------------------------
COMPOSE=()
started_dockerd=false
cleanup_docker() {
  [ ${#COMPOSE[@]} -eq 0 ] || "${COMPOSE[@]}" -f docker/compose.yaml -p tfo down --remove-orphans >/dev/null 2>&1
  if $started_dockerd; then docker/dockerd-down.sh; fi
}

docker_answers() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

registry_answers() { # the public base image is here already, or Docker Hub answers
  docker image inspect eclipse-temurin:17-jre >/dev/null 2>&1 && return 0
  command -v curl >/dev/null 2>&1 || return 1
  local code
  code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' https://registry-1.docker.io/v2/ 2>/dev/null) || return 1
  [ "$code" = 401 ] || [ "$code" = 200 ]
}

run_docker() {
  if ! command -v docker >/dev/null 2>&1 || ! docker_answers; then
    is_root || die "--docker: no Docker daemon answers, and starting one needs root: sudo ./echo.sh --docker (or ./echo.sh, which needs neither root nor Docker)."
    say "starting a Docker daemon (docker/dockerd-up.sh)"
    started_dockerd=true
    docker/dockerd-up.sh
  fi
  if command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose)
  elif docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
  else
    is_root || die "--docker: docker-compose not found: as root, apt-get install docker-compose."
    say "installing docker-compose"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null; } ||
      die "--docker: could not install docker-compose."
    COMPOSE=(docker-compose)
  fi
  if [ -z "${BASE_IMAGE:-}" ] && ! registry_answers; then
    # No registry: the local base image (debootstrap + the host's JDK), built once, then reused.
    if ! docker image inspect tfo-base:17 >/dev/null 2>&1; then
      is_root || die "--docker: no registry answers and the local base image tfo-base:17 is missing; building it needs root: sudo ./echo.sh --docker."
      say "no registry answers: building the local base image tfo-base:17 (docker/build-base-image.sh, about a minute)"
      docker/build-base-image.sh tfo-base:17
    fi
    export BASE_IMAGE=tfo-base:17
  fi
  # The client's flags after "-s server -p 2222" (compose splits them like a shell; default --count 10).
  if [ ${#args[@]} -gt 0 ]; then
    TFO_CLIENT_ARGS=$(printf '%q ' "${args[@]}")
    export TFO_CLIENT_ARGS
  fi
  trap 'status=$?; set +e; cleanup_docker; exit "$status"' EXIT
  local out up=(up --no-build --abort-on-container-exit --exit-code-from client)
  [ -t 1 ] || up+=(--no-color)
  # One image for both services; its build log only when it fails.
  out=$("${COMPOSE[@]}" -f docker/compose.yaml -p tfo build -q server 2>&1) ||
    { printf '%s\n' "$out" >&2; die "--docker: building the image tfo-echo failed (see above)."; }
  "${COMPOSE[@]}" -f docker/compose.yaml -p tfo "${up[@]}"
}

if $docker_mode; then run_docker; else run_namespace; fi
