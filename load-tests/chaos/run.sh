#!/usr/bin/env bash
# The chaos suite (load-tests/chaos/README.md): a local cluster, an SDK fleet through HAProxy, each
# part killed and restarted in turn; prints the table and writes RESULTS.md beside this script.
#   bash load-tests/chaos/run.sh            # full: 200 devices, 15 s outages (~5 min)
#   bash load-tests/chaos/run.sh --short    # 30 devices, 3 s outages (the CI-sized one)
# tsx comes from the edge's dependencies, as infra/local/cluster.sh runs the edge.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root/services/edge"
exec node --conditions=@fleetwire/source --import tsx "$root/load-tests/chaos/main.ts" "$@"
