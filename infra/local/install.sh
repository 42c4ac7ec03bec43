#!/usr/bin/env bash
# Installs what the local services and the tests need, skipping what is already there.
#   bash infra/local/install.sh [all|services|pnpm|redis|postgres|haproxy|iproute2|chromium|kafka|kustomize|prometheus|gxx]...
# `services` is what the tests need besides the workspace (`npm test` runs it); `all` adds pnpm.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

apt_updated=0
apt_install() { # apt_install PACKAGE...
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages: $* (run: sudo apt-get install -y $*)"
  fi
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

install_pnpm() {
  command -v pnpm >/dev/null 2>&1 && return
  need npm "install Node.js 20 first"
  # corepack's signature check fails on this network; the npm package works.
  log "npm install -g pnpm@10"
  npm install -g --silent pnpm@10
}

# redis-cli joins testkit's local Redis Cluster (redis-tools, which redis-server depends on).
install_redis() {
  command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && return
  apt_install redis-server redis-tools
}

install_postgres() { [ -x "$PG_BIN/postgres" ] || apt_install postgresql; }

install_haproxy() { command -v haproxy >/dev/null 2>&1 || apt_install haproxy; }

# ss (iproute2): the fan-out coalescing test reads TCP segment counts from it.
install_iproute2() { command -v ss >/dev/null 2>&1 || apt_install iproute2; }

# promtool (from Debian's prometheus) checks the alert rules and the dashboard's queries.
install_prometheus() { command -v promtool >/dev/null 2>&1 || apt_install prometheus; }

# g++ builds the ESP32 example sketch for the host (examples/esp32-robot-car/sketch.test.ts).
install_gxx() { command -v g++ >/dev/null 2>&1 || apt_install g++; }

# Debian's Chromium for the dashboard's browser test (playwright-core drives it; no browser download).
install_chromium() { [ -x /usr/bin/chromium ] || apt_install chromium; }

install_kafka() {
  kafka_libs_ready && return
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null 2>&1 || apt_install maven
  local work
  work="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.fleetwire</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
  log "resolving Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS"
  rm -rf "$KAFKA_LIBS"
  mkdir -p "$KAFKA_LIBS"
  if ! mvn -q -B -f "$work/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" >"$work/mvn.log" 2>&1; then
    cat "$work/mvn.log" >&2
    die "mvn could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION"
  fi
  touch "$KAFKA_LIBS/.complete"
}

# kustomize renders k8s/ offline for infra/deploy-tests (k8s.test.ts); built from the Go module
# proxy into the cache, pinned.
KUSTOMIZE_VERSION="v5.7.1"
install_kustomize() {
  local bin="$FLEETWIRE_CACHE/bin/kustomize"
  [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "$KUSTOMIZE_VERSION" && return
  # The Go toolchain may be installed but not on a non-login shell's PATH.
  command -v go >/dev/null 2>&1 || { [ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"; }
  need go "install Go (https://go.dev/dl) to build kustomize"
  log "go install sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION into $FLEETWIRE_CACHE/bin"
  mkdir -p "$FLEETWIRE_CACHE/bin"
  (cd / && GOBIN="$FLEETWIRE_CACHE/bin" GOFLAGS=-mod=mod go install \
    "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION") ||
    die "go install of kustomize $KUSTOMIZE_VERSION failed"
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(all)
for target in "${targets[@]}"; do
  case "$target" in
  all) install_pnpm; install_redis; install_postgres; install_haproxy; install_iproute2; install_chromium; install_kafka; install_kustomize; install_prometheus; install_gxx ;;
  services) install_redis; install_postgres; install_haproxy; install_iproute2; install_chromium; install_kafka; install_kustomize; install_prometheus; install_gxx ;;
  pnpm | redis | postgres | haproxy | iproute2 | chromium | kafka | kustomize | prometheus | gxx) "install_$target" ;;
  *) die "unknown target '$target' (all|services|pnpm|redis|postgres|haproxy|iproute2|chromium|kafka|kustomize|prometheus|gxx)" ;;
  esac
done
log "install: done (${targets[*]})"
