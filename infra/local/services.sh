#!/usr/bin/env bash
# Starts and stops Redis, PostgreSQL and Kafka by hand, as background processes on fixed ports.
#   bash infra/local/services.sh start|stop|status|env [redis|postgres|kafka]...
# Data and logs live in $FLEETWIRE_LOCAL_STATE (default: <repo>/.local). `env` prints the
# REDIS_URL / KAFKA_BROKERS / DATABASE_URL exports that make the tests use these services.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STATE="${FLEETWIRE_LOCAL_STATE:-$(cd "$LOCAL_DIR/../.." && pwd)/.local}"
REDIS_PORT="${FLEETWIRE_REDIS_PORT:-6379}"
PG_PORT="${FLEETWIRE_PG_PORT:-5432}"
KAFKA_PORT="${FLEETWIRE_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${FLEETWIRE_KAFKA_CONTROLLER_PORT:-9093}"

port_of() {
  case "$1" in redis) echo "$REDIS_PORT" ;; postgres) echo "$PG_PORT" ;; kafka) echo "$KAFKA_PORT" ;; esac
}

pid_of() { # prints the pid of a running service, fails when it is not running
  local file="$STATE/$1.pid" pid
  [ -f "$file" ] || return 1
  pid="$(cat "$file")"
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

port_open() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_one() {
  local svc="$1" port pid args
  port="$(port_of "$svc")"
  if pid="$(pid_of "$svc")"; then
    log "$svc already running (pid $pid, port $port)"
    return
  fi
  port_open "$port" && die "port $port is taken by another process: set FLEETWIRE_${svc^^}_PORT"
  case "$svc" in
  redis) args=("$STATE/redis" "$REDIS_PORT") ;;
  postgres) args=("$STATE/postgres" "$PG_PORT") ;;
  kafka) args=("$STATE/kafka" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT") ;;
  esac
  mkdir -p "$STATE"
  # setsid: the service gets its own process group, so stop can end it and all its children.
  setsid nohup bash "$LOCAL_DIR/run-$svc.sh" "${args[@]}" >"$STATE/$svc.log" 2>&1 </dev/null &
  echo $! >"$STATE/$svc.pid"
  for _ in $(seq 1 120); do
    if ! pid_of "$svc" >/dev/null; then
      tail -n 30 "$STATE/$svc.log" >&2
      die "$svc exited during start (log: $STATE/$svc.log)"
    fi
    if port_open "$port"; then
      log "$svc started (pid $(cat "$STATE/$svc.pid"), port $port, log $STATE/$svc.log)"
      return
    fi
    sleep 0.5
  done
  die "$svc did not open port $port within 60 s (log: $STATE/$svc.log)"
}

stop_one() {
  local svc="$1" pid
  if ! pid="$(pid_of "$svc")"; then
    log "$svc not running"
    rm -f "$STATE/$svc.pid"
    return
  fi
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$STATE/$svc.pid"
  log "$svc stopped"
}

status_one() {
  local pid
  if pid="$(pid_of "$1")"; then
    echo "$1: running (pid $pid, port $(port_of "$1"))"
  else
    echo "$1: stopped"
  fi
}

cmd="${1:-}"
shift || true
svcs=("$@")
[ ${#svcs[@]} -eq 0 ] && svcs=(redis postgres kafka)
for svc in "${svcs[@]}"; do
  case "$svc" in redis | postgres | kafka) ;; *) die "unknown service '$svc' (redis|postgres|kafka)" ;; esac
done
case "$cmd" in
start)
  for svc in "${svcs[@]}"; do
    case "$svc" in
    redis) bash "$LOCAL_DIR/install.sh" redis ;;
    postgres) bash "$LOCAL_DIR/install.sh" postgres ;;
    kafka) bash "$LOCAL_DIR/install.sh" kafka ;;
    esac
    start_one "$svc"
  done
  ;;
stop) for svc in "${svcs[@]}"; do stop_one "$svc"; done ;;
status) for svc in "${svcs[@]}"; do status_one "$svc"; done ;;
env)
  echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
  echo "export KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
  echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  ;;
*) die "usage: services.sh start|stop|status|env [redis|postgres|kafka]..." ;;
esac
