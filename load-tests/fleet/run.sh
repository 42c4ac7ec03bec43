#!/usr/bin/env bash
# Runs the fleet scenarios (load-tests/k6/fleet.js's, on our own Node runner) and writes RESULTS.md.
#   bash load-tests/fleet/run.sh                      # defaults (500 devices, 30 s ramp, 60 s hold)
#   DEVICES=2000 HOLD_SEC=30 bash load-tests/fleet/run.sh
# Without FLEETWIRE_URL it starts infra/local/cluster.sh (state in .local/fleet-cluster) and stops
# it afterwards; with FLEETWIRE_URL (+ FLEETWIRE_JWT_HS256_SECRET, ISSUER, AUDIENCE) it targets
# that. Exit status 99: a threshold failed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if [ -z "${FLEETWIRE_URL:-}" ]; then
  export FLEETWIRE_CLUSTER_STATE="${FLEETWIRE_CLUSTER_STATE:-$repo/.local/fleet-cluster}"
  # Per-connection logs of thousands of devices would cost the edges more than the load itself.
  export FLEETWIRE_LOG_LEVEL="${FLEETWIRE_LOG_LEVEL:-warn}"
  bash "$repo/infra/local/cluster.sh" start
  trap 'bash "$repo/infra/local/cluster.sh" stop' EXIT
  eval "$(bash "$repo/infra/local/cluster.sh" env)"
  export FLEETWIRE_URL="$FLEETWIRE_CLUSTER_URL" FLEETWIRE_CA_FILE="$FLEETWIRE_CLUSTER_CA"
fi
export FLEETWIRE_JWT_HS256_SECRET FLEETWIRE_JWT_ISSUER FLEETWIRE_JWT_AUDIENCE
# A tenant per run, so the rows of this run can be counted in PostgreSQL afterwards.
export TENANT="${TENANT:-fleet-$(date +%s)}"
cd "$here"
node --import tsx main.ts
