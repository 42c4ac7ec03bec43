#!/usr/bin/env bash
# Runs redis-server in the foreground on 127.0.0.1:PORT with its files in DIR (no persistence).
#   bash infra/local/run-redis.sh DIR PORT
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ $# -eq 2 ] || die "usage: run-redis.sh DIR PORT"
dir="$1" port="$2"
need redis-server "apt-get install redis-server (or: bash infra/local/install.sh redis)"
mkdir -p "$dir"
exec redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
  --daemonize no --loglevel notice --logfile ''
