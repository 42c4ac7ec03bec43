#!/usr/bin/env bash
# Runs the whole Fleetwire topology as local processes: Redis, Kafka (KRaft), PostgreSQL, N edge
# nodes on their own ports, M ingest workers, and HAProxy in front terminating TLS (wss).
#   bash infra/local/cluster.sh start [NAME]|stop|status|env|kill NAME|term NAME|drain NAME|up NAME|restart NAME
# NAME: edge-N, ingest-N, haproxy, redis, postgres, kafka.
# Settings (environment, all optional) are listed in infra/local/cluster/README.md. The ports
# and secrets chosen at start are kept in $STATE/cluster.env, so stop/status/env need no settings
# but the state dir.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO="$(cd "$LOCAL_DIR/../.." && pwd)"
CLUSTER_DIR="$LOCAL_DIR/cluster"
STATE="${FLEETWIRE_CLUSTER_STATE:-$REPO/.local/cluster}"
ENV_FILE="$STATE/cluster.env"
PIDS="$STATE/pids"

port_open() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The backing services keep their pid files and logs where services.sh puts them.
pid_file() {
  case "$1" in
  redis | postgres | kafka) echo "$STATE/backing/$1.pid" ;;
  *) echo "$PIDS/$1.pid" ;;
  esac
}
log_file() {
  case "$1" in
  redis | postgres | kafka) echo "$STATE/backing/$1.log" ;;
  *) echo "$STATE/logs/$1.log" ;;
  esac
}

pid_of() { # pid_of NAME: prints the pid of a running process of the cluster, fails otherwise
  local file pid
  file="$(pid_file "$1")"
  [ -f "$file" ] || return 1
  pid="$(cat "$file")"
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# launch NAME DIR COMMAND...: runs COMMAND in DIR in its own process group (setsid), so stop and
# kill reach it and everything it started; output is appended to its log ($STATE/logs/NAME.log;
# the backing services' where services.sh keeps them), so a restart keeps what a crash left there.
launch() {
  local name="$1" dir="$2" logf pidf
  shift 2
  logf="$(log_file "$name")" pidf="$(pid_file "$name")"
  [ ! -s "$logf" ] || echo "[fleetwire] ---- $name (re)started $(date -u +%FT%TZ) ----" >>"$logf"
  (
    cd "$dir"
    # setsid execs the command in place (a background job is no group leader), so $! is its pid
    # and its process group id.
    setsid nohup "$@" >>"$logf" 2>&1 </dev/null &
    echo $! >"$pidf"
  )
}

# wait_for NAME SECONDS CHECK...: polls CHECK every 0.2 s until it succeeds; fails with the log
# tail when the process died or the deadline passed.
wait_for() {
  local name="$1" seconds="$2" deadline
  shift 2
  deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ! pid_of "$name" >/dev/null; then
      tail -n 30 "$(log_file "$name")" >&2 || true
      die "$name exited during start (log: $(log_file "$name"))"
    fi
    [ "$SECONDS" -lt "$deadline" ] || die "$name not ready within ${seconds}s (log: $(log_file "$name"))"
    sleep 0.2
  done
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }

# signal_group NAME SIGNAL: sends SIGNAL to the process group of NAME (no-op when not running).
signal_group() {
  local pid
  pid="$(pid_of "$1")" || return 0
  kill "-$2" -- "-$pid" 2>/dev/null || true
}

# stop_one NAME GRACE_SECONDS: SIGTERM to the group, SIGKILL after the grace, pid file removed.
stop_one() {
  local name="$1" grace="$2" pid deadline
  if ! pid="$(pid_of "$name")"; then
    rm -f "$(pid_file "$name")"
    return
  fi
  kill -TERM -- "-$pid" 2>/dev/null || true
  deadline=$((SECONDS + grace))
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$(pid_file "$name")"
  log "$name stopped"
}

# The backing services run through services.sh, with their state and ports in this cluster's.
backing() { # backing start|stop SERVICE...
  FLEETWIRE_LOCAL_STATE="$STATE/backing" FLEETWIRE_REDIS_PORT="$REDIS_PORT" \
    FLEETWIRE_PG_PORT="$PG_PORT" FLEETWIRE_KAFKA_PORT="$KAFKA_PORT" \
    FLEETWIRE_KAFKA_CONTROLLER_PORT="$KAFKA_CONTROLLER_PORT" bash "$LOCAL_DIR/services.sh" "$@"
}

write_env_file() {
  local secret
  secret="$(openssl rand -hex 32)"
  mkdir -p "$STATE"
  # Values come from the caller's environment or the defaults; the file is sourced by later calls.
  cat >"$ENV_FILE" <<ENV
EDGES=${FLEETWIRE_CLUSTER_EDGES:-2}
SPARE_EDGES=${FLEETWIRE_CLUSTER_SPARE_EDGES:-0}
BALANCE="${FLEETWIRE_CLUSTER_BALANCE:-roundrobin}"
INGESTS=${FLEETWIRE_CLUSTER_INGESTS:-1}
HTTPS_PORT=${FLEETWIRE_CLUSTER_HTTPS_PORT:-8443}
STATS_PORT=${FLEETWIRE_CLUSTER_STATS_PORT:-8404}
EDGE_PORTS="${FLEETWIRE_CLUSTER_EDGE_PORTS:-18081 18082 18083 18084 18085 18086 18087 18088}"
INGEST_PORTS="${FLEETWIRE_CLUSTER_INGEST_PORTS:-18091 18092 18093 18094}"
REDIS_PORT=${FLEETWIRE_CLUSTER_REDIS_PORT:-16379}
PG_PORT=${FLEETWIRE_CLUSTER_PG_PORT:-15432}
KAFKA_PORT=${FLEETWIRE_CLUSTER_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${FLEETWIRE_CLUSTER_KAFKA_CONTROLLER_PORT:-19093}
TELEMETRY_PARTITIONS=${FLEETWIRE_CLUSTER_TELEMETRY_PARTITIONS:-6}
DRAIN_WINDOW_MS=${FLEETWIRE_CLUSTER_DRAIN_WINDOW_MS:-5000}
JWT_SECRET=${FLEETWIRE_CLUSTER_JWT_SECRET:-$secret}
JWT_ISSUER=fleetwire-local
JWT_AUDIENCE=fleetwire
ENV
}

load_env() {
  [ -f "$ENV_FILE" ] || die "no cluster in $STATE (start it: bash infra/local/cluster.sh start)"
  # shellcheck disable=SC1090
  . "$ENV_FILE"
  read -r -a edge_ports <<<"$EDGE_PORTS"
  read -r -a ingest_ports <<<"$INGEST_PORTS"
  SPARE_EDGES="${SPARE_EDGES:-0}"
  BALANCE="${BALANCE:-roundrobin}"
  # Edge slots HAProxy knows: the running edges plus spares, started later by `up` (a rollout's
  # surge pod).
  SLOTS=$((EDGES + SPARE_EDGES))
  [ "$EDGES" -ge 1 ] && [ "$SLOTS" -le "${#edge_ports[@]}" ] ||
    die "FLEETWIRE_CLUSTER_EDGES=$EDGES (+ $SPARE_EDGES spare) needs as many ports in FLEETWIRE_CLUSTER_EDGE_PORTS"
  [ "$INGESTS" -ge 1 ] && [ "$INGESTS" -le "${#ingest_ports[@]}" ] ||
    die "FLEETWIRE_CLUSTER_INGESTS=$INGESTS needs as many ports in FLEETWIRE_CLUSTER_INGEST_PORTS"
  DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  BROKERS="127.0.0.1:$KAFKA_PORT"
}

# Variables both services read; FLEETWIRE_* set by the caller pass through to them unchanged.
common_env() {
  echo "FLEETWIRE_HOST=127.0.0.1" "FLEETWIRE_LOG_LEVEL=${FLEETWIRE_LOG_LEVEL:-info}" \
    "FLEETWIRE_JWT_HS256_SECRET=$JWT_SECRET" "FLEETWIRE_JWT_ISSUER=$JWT_ISSUER" \
    "FLEETWIRE_JWT_AUDIENCE=$JWT_AUDIENCE" "FLEETWIRE_KAFKA_BROKERS=$BROKERS"
}

start_edge() { # start_edge INDEX (1-based)
  local i="$1" port="${edge_ports[$(($1 - 1))]}"
  # shellcheck disable=SC2046
  launch "edge-$i" "$REPO/services/edge" env $(common_env) \
    "FLEETWIRE_PORT=$port" "FLEETWIRE_NODE_ID=edge-$i" \
    "FLEETWIRE_REDIS_URL=redis://127.0.0.1:$REDIS_PORT" "FLEETWIRE_KAFKA_TOPIC=telemetry" \
    "FLEETWIRE_DRAIN_WINDOW_MS=$DRAIN_WINDOW_MS" "FLEETWIRE_DATABASE_URL=$DATABASE_URL" \
    "FLEETWIRE_WORKERS=${FLEETWIRE_WORKERS:-1}" \
    node --conditions=@fleetwire/source --import tsx src/main.ts
}

start_ingest() { # start_ingest INDEX (1-based)
  local i="$1" port="${ingest_ports[$(($1 - 1))]}"
  # shellcheck disable=SC2046
  launch "ingest-$i" "$REPO/services/ingest" env $(common_env) \
    "FLEETWIRE_PORT=$port" "FLEETWIRE_NODE_ID=ingest-$i" "FLEETWIRE_DATABASE_URL=$DATABASE_URL" \
    "FLEETWIRE_TELEMETRY_TOPIC=telemetry" "FLEETWIRE_DLQ_TOPIC=telemetry.dlq" \
    node --conditions=@fleetwire/source --import tsx src/main.ts
}

# Every backend shows UP in HAProxy's CSV stats (column 18 is the status).
haproxy_backends_up() {
  local up
  up="$(curl -fsS --max-time 2 "http://127.0.0.1:$STATS_PORT/stats;csv" |
    awk -F, '$1 == "edges" && $2 ~ /^edge-/ && $18 == "UP"' | wc -l)"
  [ "$up" -eq "$EDGES" ]
}

start_haproxy() {
  need haproxy "bash infra/local/install.sh haproxy"
  mkdir -p "$STATE/tls"
  if [ ! -f "$STATE/tls/haproxy.pem" ]; then
    # Self-signed, for 127.0.0.1 and localhost; clients trust tls/cert.pem (ws: the `ca` option).
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
      -keyout "$STATE/tls/key.pem" -out "$STATE/tls/cert.pem" -subj /CN=localhost \
      -addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' >/dev/null 2>&1 ||
      die "openssl could not create the self-signed certificate in $STATE/tls"
    cat "$STATE/tls/cert.pem" "$STATE/tls/key.pem" >"$STATE/tls/haproxy.pem"
  fi
  local servers=() i
  for ((i = 1; i <= SLOTS; i++)); do servers+=("edge-$i=127.0.0.1:${edge_ports[$((i - 1))]}"); done
  BALANCE="$BALANCE" bash "$CLUSTER_DIR/haproxy-config.sh" "$HTTPS_PORT" "$STATS_PORT" "$STATE/tls/haproxy.pem" \
    "${servers[@]}" >"$STATE/haproxy.cfg"
  haproxy -c -q -f "$STATE/haproxy.cfg" || die "invalid generated config $STATE/haproxy.cfg"
  launch haproxy "$STATE" haproxy -db -f "$STATE/haproxy.cfg"
  wait_for haproxy 30 haproxy_backends_up
}

start_watchdog() {
  # With FLEETWIRE_CLUSTER_OWNER_PID, the cluster lives only as long as that process (a test
  # run): once it is gone, the watchdog runs stop, whatever ended the owner.
  local owner="${FLEETWIRE_CLUSTER_OWNER_PID:-}"
  [ -n "$owner" ] || return 0
  launch watchdog "$STATE" bash -c \
    'while kill -0 "$1" 2>/dev/null; do sleep 0.5; done; exec bash "$2" stop --from-watchdog' \
    watchdog "$owner" "$LOCAL_DIR/cluster.sh"
}

cmd_start() {
  local i
  if pid_of haproxy >/dev/null; then
    log "cluster already running in $STATE"
    return
  fi
  [ -f "$ENV_FILE" ] || write_env_file
  load_env
  mkdir -p "$PIDS" "$STATE/logs"
  # As root, PostgreSQL runs as 'postgres' (run-postgres.sh) and must reach its dir inside STATE
  # (mktemp -d makes 0700 dirs).
  [ "$(id -u)" -ne 0 ] || chmod o+x "$STATE"
  # A start that fails half-way stops what it had started, so nothing is left behind.
  trap 'log "start failed: stopping what was started"; cmd_stop' EXIT
  start_watchdog
  bash "$LOCAL_DIR/install.sh" redis postgres kafka haproxy
  # The three backing services start side by side; Kafka's JVM is the slow one.
  local pids=()
  backing start redis &
  pids+=($!)
  backing start postgres &
  pids+=($!)
  # run-kafka.sh formats storage with a random cluster id that starts with '-' one time in 64,
  # which StorageTool takes for an option and fails; a second attempt draws a new id.
  { backing start kafka || backing start kafka; } &
  pids+=($!)
  # All are waited for before failing, so the stop that follows finds every pid file.
  local failed=0
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [ "$failed" -eq 0 ] || die "a backing service failed to start (logs: $STATE/backing)"
  # A port that accepts does not mean PostgreSQL accepts sessions yet.
  local deadline=$((SECONDS + 30))
  until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; do
    [ "$SECONDS" -lt "$deadline" ] || die "PostgreSQL not accepting connections on $PG_PORT"
    sleep 0.2
  done
  # run-postgres.sh relaxes durability for tests (synchronous_commit=off): a commit answered
  # before its WAL left shared memory, so a SIGKILL of PostgreSQL loses the last ~0.6 s of
  # commits, which the ingest worker has already committed in Kafka. The cluster stands for a
  # deployment, whose commits survive a crash: sessions of its database commit synchronously
  # (the WAL reaches the OS, still without fsync, so it survives a process crash, not a machine's).
  "$PG_BIN/psql" -qAt -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
    -c 'alter database postgres set synchronous_commit = on' >/dev/null ||
    die "could not set synchronous_commit on the cluster's database"
  # Topics are not auto-created (run-kafka.sh): the deployment creates them.
  node "$CLUSTER_DIR/create-topics.mjs" "$BROKERS" "telemetry:$TELEMETRY_PARTITIONS" \
    "telemetry.dlq:1" || die "could not create the Kafka topics on $BROKERS"
  # One migration run before the workers, so several workers do not race to create tables.
  (cd "$REPO/services/ingest" && env $(common_env) "FLEETWIRE_DATABASE_URL=$DATABASE_URL" \
    node --conditions=@fleetwire/source --import tsx src/main.ts migrate) \
    >"$STATE/logs/migrate.log" 2>&1 || {
    tail -n 20 "$STATE/logs/migrate.log" >&2
    die "migrations failed (log: $STATE/logs/migrate.log)"
  }
  for ((i = 1; i <= EDGES; i++)); do start_edge "$i"; done
  for ((i = 1; i <= INGESTS; i++)); do start_ingest "$i"; done
  for ((i = 1; i <= EDGES; i++)); do
    wait_for "edge-$i" 60 http_ok "http://127.0.0.1:${edge_ports[$((i - 1))]}/readyz"
  done
  for ((i = 1; i <= INGESTS; i++)); do
    wait_for "ingest-$i" 60 http_ok "http://127.0.0.1:${ingest_ports[$((i - 1))]}/readyz"
  done
  start_haproxy
  trap - EXIT
  log "cluster up: wss://127.0.0.1:$HTTPS_PORT/ws ($EDGES edge, $INGESTS ingest; eval \"\$(bash infra/local/cluster.sh env)\")"
}

cmd_stop() {
  local i
  if [ ! -f "$ENV_FILE" ]; then
    log "no cluster in $STATE"
    return
  fi
  load_env
  stop_one haproxy 5
  # Edges drain (1012 spread over the window) and flush Kafka; give them the window plus slack.
  local grace=$((DRAIN_WINDOW_MS / 1000 + 10)) pids=()
  for ((i = 1; i <= SLOTS; i++)); do
    stop_one "edge-$i" "$grace" &
    pids+=($!)
  done
  for ((i = 1; i <= INGESTS; i++)); do
    stop_one "ingest-$i" 35 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  backing stop kafka postgres redis
  # Last: the watchdog ends itself by running this stop, so it only drops its pid file then.
  if [ "${1:-}" = "--from-watchdog" ]; then rm -f "$PIDS/watchdog.pid"; else stop_one watchdog 1; fi
  log "cluster stopped ($STATE)"
}

cmd_status() {
  load_env
  local names=(haproxy) i pid
  for ((i = 1; i <= SLOTS; i++)); do names+=("edge-$i"); done
  for ((i = 1; i <= INGESTS; i++)); do names+=("ingest-$i"); done
  for name in "${names[@]}"; do
    if pid="$(pid_of "$name")"; then echo "$name: running (pid $pid)"; else echo "$name: stopped"; fi
  done
  backing status
}

cmd_env() {
  load_env
  local i urls=()
  for ((i = 1; i <= EDGES; i++)); do urls+=("http://127.0.0.1:${edge_ports[$((i - 1))]}"); done
  echo "export FLEETWIRE_CLUSTER_URL=wss://127.0.0.1:$HTTPS_PORT/ws"
  echo "export FLEETWIRE_CLUSTER_CA=$STATE/tls/cert.pem"
  echo "export FLEETWIRE_CLUSTER_EDGE_URLS=$(IFS=,; echo "${urls[*]}")"
  echo "export FLEETWIRE_CLUSTER_INGEST_URL=http://127.0.0.1:${ingest_ports[0]}"
  echo "export FLEETWIRE_CLUSTER_STATS_URL=http://127.0.0.1:$STATS_PORT/stats"
  echo "export FLEETWIRE_JWT_HS256_SECRET=$JWT_SECRET"
  echo "export FLEETWIRE_JWT_ISSUER=$JWT_ISSUER"
  echo "export FLEETWIRE_JWT_AUDIENCE=$JWT_AUDIENCE"
  echo "export DATABASE_URL=$DATABASE_URL"
  echo "export KAFKA_BROKERS=$BROKERS"
  echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
}

# kill NAME: SIGKILL (a crash); term NAME: SIGTERM (a drain). For failover drills and tests.
cmd_signal() {
  local signal="$1" name="${2:-}"
  [ -n "$name" ] || die "usage: cluster.sh kill|term NAME (edge-1, ingest-1, haproxy…)"
  load_env
  pid_of "$name" >/dev/null || die "$name is not running in $STATE"
  signal_group "$name" "$signal"
  log "$name: SIG$signal sent"
}

# The slot number of an edge name (edge-3 → 3), or die.
edge_slot() {
  local name="$1" i
  [[ "$name" =~ ^edge-([0-9]+)$ ]] || die "not an edge: $name (edge-1 … edge-$SLOTS)"
  i="${BASH_REMATCH[1]}"
  [ "$i" -ge 1 ] && [ "$i" -le "$SLOTS" ] || die "no slot $name (edge-1 … edge-$SLOTS)"
  echo "$i"
}

haproxy_server_up() { # haproxy_server_up NAME: HAProxy's stats say the server is UP
  curl -fsS --max-time 2 "http://127.0.0.1:$STATS_PORT/stats;csv" |
    awk -F, -v n="$1" '$1 == "edges" && $2 == n && $18 == "UP" { found = 1 } END { exit !found }'
}

# drain NAME: SIGTERM to an edge and wait for it to exit (its drain window and Kafka flush, plus
# slack; SIGKILL past that): a pod stopping in a rollout. up NAME: start an edge in its slot and
# wait until it is ready and HAProxy sends it traffic: the rollout's new pod.
cmd_drain() {
  local name="${1:-}"
  load_env
  edge_slot "$name" >/dev/null
  pid_of "$name" >/dev/null || die "$name is not running in $STATE"
  stop_one "$name" $((DRAIN_WINDOW_MS / 1000 + 15))
}

cmd_up() {
  local name="${1:-}" i
  load_env
  i="$(edge_slot "$name")"
  if ! pid_of "$name" >/dev/null; then start_edge "$i"; fi
  wait_for "$name" 60 http_ok "http://127.0.0.1:${edge_ports[$((i - 1))]}/readyz"
  wait_for "$name" 30 haproxy_server_up "$name"
  log "$name up"
}

# The ingest slot number of a name (ingest-2 → 2), or die.
ingest_slot() {
  local name="$1" i
  [[ "$name" =~ ^ingest-([0-9]+)$ ]] || die "not an ingest worker: $name"
  i="${BASH_REMATCH[1]}"
  [ "$i" -ge 1 ] && [ "$i" -le "$INGESTS" ] || die "no slot $name (ingest-1 … ingest-$INGESTS)"
  echo "$i"
}

# start_backing redis|postgres|kafka: starts a stopped backing service with its data kept (no
# new initdb or Kafka format) and its log appended to; waits until it serves.
start_backing() {
  local svc="$1" dir="$STATE/backing" port args
  case "$svc" in
  redis) port="$REDIS_PORT" args=("$dir/redis" "$REDIS_PORT") ;;
  postgres) port="$PG_PORT" args=("$dir/postgres" "$PG_PORT") ;;
  kafka) port="$KAFKA_PORT" args=("$dir/kafka" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT") ;;
  esac
  if ! pid_of "$svc" >/dev/null; then
    ! port_open "$port" || die "port $port of $svc is taken by another process"
    launch "$svc" "$STATE" bash "$LOCAL_DIR/run-$svc.sh" "${args[@]}"
  fi
  if [ "$svc" = postgres ]; then
    # After a crash PostgreSQL replays its WAL before it accepts sessions.
    wait_for "$svc" 60 "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"
  else
    wait_for "$svc" 60 port_open "$port"
  fi
}

# start NAME: starts one stopped part of a running cluster in its place (edge-N, ingest-N,
# haproxy, redis, postgres, kafka), its output appended to its log, and waits until it serves
# (edges: ready and UP in HAProxy; ingest: ready, which needs Kafka and PostgreSQL). A part
# already running is only waited for.
cmd_start_part() {
  local name="$1" i
  load_env
  mkdir -p "$PIDS" "$STATE/logs"
  case "$name" in
  edge-*)
    i="$(edge_slot "$name")"
    pid_of "$name" >/dev/null || start_edge "$i"
    wait_for "$name" 60 http_ok "http://127.0.0.1:${edge_ports[$((i - 1))]}/readyz"
    if pid_of haproxy >/dev/null; then wait_for "$name" 30 haproxy_server_up "$name"; fi
    ;;
  ingest-*)
    i="$(ingest_slot "$name")"
    pid_of "$name" >/dev/null || start_ingest "$i"
    wait_for "$name" 60 http_ok "http://127.0.0.1:${ingest_ports[$((i - 1))]}/readyz"
    ;;
  haproxy) pid_of haproxy >/dev/null || start_haproxy ;;
  redis | postgres | kafka) start_backing "$name" ;;
  *) die "unknown part: $name (edge-N, ingest-N, haproxy, redis, postgres, kafka)" ;;
  esac
  log "$name started"
}

# restart NAME: stops one part (SIGTERM, SIGKILL past its grace: an edge's drain window plus
# slack, an ingest worker's 35 s, 30 s for the others) if it runs, then `start NAME`.
cmd_restart() {
  local name="${1:-}" grace=30
  [ -n "$name" ] || die "usage: cluster.sh restart NAME"
  load_env
  case "$name" in
  edge-*) grace=$((DRAIN_WINDOW_MS / 1000 + 15)) ;;
  ingest-*) grace=35 ;;
  esac
  stop_one "$name" "$grace"
  cmd_start_part "$name"
}

case "${1:-}" in
start) if [ -n "${2:-}" ]; then cmd_start_part "$2"; else cmd_start; fi ;;
restart) cmd_restart "${2:-}" ;;
stop) cmd_stop "${2:-}" ;;
status) cmd_status ;;
env) cmd_env ;;
kill) cmd_signal KILL "${2:-}" ;;
term) cmd_signal TERM "${2:-}" ;;
drain) cmd_drain "${2:-}" ;;
up) cmd_up "${2:-}" ;;
*) die "usage: cluster.sh start [NAME]|stop|status|env|kill NAME|term NAME|drain NAME|up NAME|restart NAME" ;;
esac
