#!/usr/bin/env bash
# Runs a single-node Kafka (KRaft broker + controller) in the foreground.
# Formats the storage in DIR on first use.
#   bash infra/local/run-kafka.sh DIR PORT CONTROLLER_PORT
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ $# -eq 3 ] || die "usage: run-kafka.sh DIR PORT CONTROLLER_PORT"
dir="$1" port="$2" cport="$3"
need java "apt-get install openjdk-17-jre-headless"
kafka_libs_ready || die "Kafka jars missing in $KAFKA_LIBS: run bash infra/local/install.sh kafka"

mkdir -p "$dir/data"
cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS

java_opts=(${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m} -XX:+UseSerialGC -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$LOCAL_DIR/kafka-log4j2.properties")
cp=("$KAFKA_LIBS/*")
if [ ! -f "$dir/data/meta.properties" ]; then
  # Base64 of 16 random bytes with + and / mapped to letters: an id starting with '-' would be
  # read by StorageTool as an option.
  cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' 'xy' | tr -d '=')"
  java "${java_opts[@]}" -cp "${cp[*]}" kafka.tools.StorageTool format \
    -t "$cluster_id" -c "$dir/server.properties" >"$dir/format.log" 2>&1 || {
    cat "$dir/format.log" >&2
    die "kafka storage format failed in $dir"
  }
fi
exec java "${java_opts[@]}" -cp "${cp[*]}" kafka.Kafka "$dir/server.properties"
