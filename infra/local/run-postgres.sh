#!/usr/bin/env bash
# Runs a throwaway PostgreSQL 15 cluster in the foreground on 127.0.0.1:PORT, data in DIR.
# Creates the cluster on first use. As root, the server runs as the 'postgres' user, since
# PostgreSQL refuses to run as root.
#   bash infra/local/run-postgres.sh DIR PORT
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ $# -eq 2 ] || die "usage: run-postgres.sh DIR PORT"
dir="$1" port="$2"
[ -x "$PG_BIN/postgres" ] || die "PostgreSQL 15 not found in $PG_BIN: apt-get install postgresql (or: bash infra/local/install.sh postgres)"

as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || die "user 'postgres' missing: apt-get install postgresql"
  as_owner=(setpriv --reuid=postgres --regid=postgres --init-groups --)
fi
mkdir -p "$dir"
[ ${#as_owner[@]} -gt 0 ] && chown postgres:postgres "$dir"
if [ ! -f "$dir/PG_VERSION" ]; then
  "${as_owner[@]}" "$PG_BIN/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --no-sync \
    --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 || {
    cat "$dir.initdb.log" >&2
    die "initdb failed for $dir"
  }
fi
# Durability settings are relaxed: these clusters hold test and development data only.
exec "${as_owner[@]}" "$PG_BIN/postgres" -D "$dir" -p "$port" -k "$dir" \
  -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
  -c full_page_writes=off -c max_connections=200 -c logging_collector=off
