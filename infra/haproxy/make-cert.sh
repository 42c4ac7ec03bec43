#!/usr/bin/env bash
# Writes the self-signed certificate + key (one PEM) HAProxy serves in docker-compose.yml, for
# localhost and 127.0.0.1, into .local/tls/haproxy.pem (clients trust .local/tls/cert.pem).
#   bash infra/haproxy/make-cert.sh
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.local/tls"
command -v openssl >/dev/null 2>&1 || { echo "openssl not found: apt-get install openssl" >&2; exit 1; }
mkdir -p "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" -subj /CN=localhost \
  -addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' 2>/dev/null
cat "$dir/cert.pem" "$dir/key.pem" >"$dir/haproxy.pem"
# HAProxy's image runs as the unprivileged 'haproxy' user: the PEM must be readable to it.
chmod 644 "$dir/haproxy.pem"
echo "wrote $dir/haproxy.pem (trust $dir/cert.pem)"
