#!/usr/bin/env bash
# Fleetwire against raw uWS, ws, Socket.IO and Centrifugo, one after another (see README.md).
#   bash load-tests/peers/run.sh [--quick] [--peers raw-uws,fleetwire] [--workloads fanout]
# Builds the repo (the edge runs as `node dist/main.js`) and Centrifugo once into the cache.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${FLEETWIRE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fleetwire}"
centrifugo="$cache/bin/centrifugo-v6.9.1"
if [ ! -x "$centrifugo" ]; then
  if command -v go >/dev/null; then
    # Apache-2.0; built from the Go module proxy into the cache, never into the repo.
    mkdir -p "$cache/gobin"
    GOBIN="$cache/gobin" go install github.com/centrifugal/centrifugo/v6@v6.9.1
    mv "$cache/gobin/centrifugo" "$centrifugo"
  else
    echo "no go toolchain: Centrifugo is left out (apt-get install golang-go, or a Go toolchain)" >&2
  fi
fi
(cd "$repo" && pnpm -s build)
cd "$here"
exec node --conditions=@fleetwire/source --import tsx main.ts --centrifugo "$centrifugo" "$@"
