#!/usr/bin/env bash
# Runs the k6 scenarios of fleet.js against the local cluster and writes the summary.
#   bash load-tests/k6/run.sh [k6 run options, e.g. -e DEVICES=1000]
# Without FLEETWIRE_URL it starts infra/local/cluster.sh (state in .local/k6-cluster) and stops it
# afterwards; with FLEETWIRE_URL (+ FLEETWIRE_JWT_HS256_SECRET, ISSUER, AUDIENCE) it targets that.
# Writes RESULTS.md here, and k6's JSON export and output into .local/k6-results/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${FLEETWIRE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fleetwire}"
k6="${K6:-$cache/bin/k6}"
if [ ! -x "$k6" ]; then
  k6="$(command -v k6 || true)"
  [ -n "$k6" ] || {
    # k6 is AGPL-licensed: the project never installs it. load-tests/fleet runs the same scenarios.
    echo "k6 not found: bring your own (K6=/path/to/k6), or run load-tests/fleet/run.sh" >&2
    exit 1
  }
fi

if [ -z "${FLEETWIRE_URL:-}" ]; then
  export FLEETWIRE_CLUSTER_STATE="${FLEETWIRE_CLUSTER_STATE:-$repo/.local/k6-cluster}"
  # Per-connection logs of thousands of devices would cost the edges more than the load itself.
  export FLEETWIRE_LOG_LEVEL="${FLEETWIRE_LOG_LEVEL:-warn}"
  bash "$repo/infra/local/cluster.sh" start
  trap 'bash "$repo/infra/local/cluster.sh" stop' EXIT
  eval "$(bash "$repo/infra/local/cluster.sh" env)"
  export FLEETWIRE_URL="$FLEETWIRE_CLUSTER_URL"
fi
export FLEETWIRE_JWT_HS256_SECRET FLEETWIRE_JWT_ISSUER FLEETWIRE_JWT_AUDIENCE
# A tenant per run, so the rows of this run can be counted in PostgreSQL afterwards.
export TENANT="${TENANT:-k6-$(date +%s)}"

results="$repo/.local/k6-results"
mkdir -p "$results"
set +e
"$k6" run --summary-export "$results/summary.json" "$@" "$here/fleet.js" 2>&1 |
  tee "$results/k6-output.txt"
status="${PIPESTATUS[0]}"
set -e
stored=""
if [ -n "${DATABASE_URL:-}" ] && [ -x /usr/lib/postgresql/15/bin/psql ]; then
  # Every acked message should reach PostgreSQL through Kafka and the ingest worker.
  acked="$(node -e 'const m=require(process.argv[1]).metrics; console.log(m.fleetwire_telemetry_acked?.count ?? 0)' "$results/summary.json")"
  for _ in $(seq 1 60); do
    stored="$(/usr/lib/postgresql/15/bin/psql -qtA "$DATABASE_URL" -c \
      "select count(distinct msg_id) from telemetry where tenant = '$TENANT'")"
    [ "$stored" -ge "$acked" ] && break
    sleep 0.5
  done
  echo "telemetry in PostgreSQL: $stored distinct messages of $acked acked (tenant $TENANT)"
fi
node "$here/summarize.mjs" "$results/summary.json" "k6 run $*" "$stored" >"$here/RESULTS.md"
echo "summary: $here/RESULTS.md (k6 exit $status: 99 = a threshold failed)"
exit "$status"
