#!/usr/bin/env bash
# Runs redis-server in the foreground on 127.0.0.1:PORT with its files in DIR (no persistence).
# With `cluster`, the server runs in cluster mode (its node id and slots in DIR/nodes.conf, kept
# across restarts so a restarted master rejoins with its slots); `redis-cli --cluster create`
# joins the nodes (packages/testkit LocalRedisCluster).
#   bash infra/local/run-redis.sh DIR PORT [cluster]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ $# -eq 2 ] || [ $# -eq 3 ] || die "usage: run-redis.sh DIR PORT [cluster]"
dir="$1" port="$2" mode="${3:-}"
need redis-server "apt-get install redis-server (or: bash infra/local/install.sh redis)"
mkdir -p "$dir"
cluster=()
if [ "$mode" = cluster ]; then
  # A short node timeout: a killed master is marked failed (and back) within seconds in tests.
  cluster=(--cluster-enabled yes --cluster-config-file "$dir/nodes.conf" --cluster-node-timeout 2000
    --cluster-require-full-coverage yes)
elif [ -n "$mode" ]; then
  die "run-redis.sh: third argument must be 'cluster', not '$mode'"
fi
# 1 KiB stream nodes, as docs/operations.md ("History in Redis") recommends: history keeps a
# stream per topic, and Redis 7 gives each new stream a 4 KiB node.
exec redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
  --stream-node-max-bytes 1024 --daemonize no --loglevel notice --logfile '' "${cluster[@]}"
