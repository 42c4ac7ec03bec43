# Shared settings and helpers for the infra/local scripts. Sourced, not run.
# shellcheck shell=bash

KAFKA_VERSION="${FLEETWIRE_KAFKA_VERSION:-4.1.1}"
LOG4J_VERSION="2.24.3"
PG_BIN="${FLEETWIRE_PG_BIN:-/usr/lib/postgresql/15/bin}"
FLEETWIRE_CACHE="${FLEETWIRE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fleetwire}"
KAFKA_LIBS="${FLEETWIRE_KAFKA_LIBS:-$FLEETWIRE_CACHE/kafka-$KAFKA_VERSION/libs}"
LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '[fleetwire] %s\n' "$*" >&2; }
die() {
  printf '[fleetwire] error: %s\n' "$*" >&2
  exit 1
}

need() { # need COMMAND HINT
  command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

# True when the Kafka jar cache holds a complete resolution (the marker is written last).
kafka_libs_ready() { [ -f "$KAFKA_LIBS/.complete" ]; }
