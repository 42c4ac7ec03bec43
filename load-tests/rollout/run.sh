#!/usr/bin/env bash
# The rollout benchmark (load-tests/rollout/README.md): starts a local cluster per strategy, rolls
# every edge under a fleet of SDK devices, writes RESULTS.md beside this script.
#   bash load-tests/rollout/run.sh [--edges 4 --devices 400 --drain-ms 3000 --telemetry-ms 2000]
# The simulation lives in infra/deploy-tests (its cluster helpers and dependencies); tsx comes
# from the edge's dependencies, as infra/local/cluster.sh runs the edge.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root/services/edge"
exec node --conditions=@fleetwire/source --import tsx \
  "$root/infra/deploy-tests/src/rollout-main.ts" "$@"
