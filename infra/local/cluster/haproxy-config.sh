#!/usr/bin/env bash
# Prints the HAProxy configuration of the local cluster: TLS (wss) on HTTPS_PORT, round robin over
# the edge nodes (no sticky sessions; BALANCE=leastconn or random(2) to change it), health checks
# on /readyz, stats and Prometheus metrics on STATS_PORT.
#   [BALANCE=roundrobin] bash haproxy-config.sh HTTPS_PORT STATS_PORT PEM NAME=HOST:PORT...
set -euo pipefail
[ $# -ge 4 ] || {
  echo "usage: haproxy-config.sh HTTPS_PORT STATS_PORT PEM NAME=HOST:PORT..." >&2
  exit 1
}
https_port="$1" stats_port="$2" pem="$3"
balance="${BALANCE:-roundrobin}"
shift 3

cat <<CFG
global
  # One process holds at most ~19k file descriptors here (ulimit -n 20000), two per proxied socket.
  maxconn 9000
  nbthread 1
  ssl-default-bind-options ssl-min-ver TLSv1.2

defaults
  mode http
  log stdout format raw local0 err
  option httplog
  option redispatch 1
  retries 2
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  # A WebSocket is a tunnel once upgraded: the edge pings idle sockets well within an hour.
  timeout tunnel 1h
  timeout client-fin 5s
  timeout http-request 10s

frontend wss
  bind 127.0.0.1:${https_port} ssl crt ${pem} alpn http/1.1
  http-request set-header X-Forwarded-Proto https
  option forwardfor
  default_backend edges

backend edges
  balance ${balance}
  # /readyz is 503 while a node drains or has lost Redis/Kafka: it gets no new connections, and
  # keeps the ones it has (no shutdown-sessions) so the drain can close them over its window.
  # HTTP/1.1 with a Host header: uWS does not answer HAProxy's default HTTP/1.0 check.
  option httpchk
  http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost
  http-check expect status 200
  default-server inter 1s fastinter 500ms fall 2 rise 1
CFG
for server in "$@"; do
  name="${server%%=*}" address="${server#*=}"
  echo "  server ${name} ${address} check"
done
cat <<CFG

frontend stats
  bind 127.0.0.1:${stats_port}
  http-request use-service prometheus-exporter if { path /metrics }
  stats enable
  stats uri /stats
  stats refresh 5s
CFG
