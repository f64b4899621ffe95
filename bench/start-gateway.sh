#!/usr/bin/env bash
# Runs the gateway in the foreground for shared/bench/peers.sh:
#   bench/start-gateway.sh PORT UPSTREAM_URL [extra ficus start args]
# One worker, every path proxied to UPSTREAM_URL on 127.0.0.1:PORT, with the
# default production features on (routing, metrics, access log to stdout).
set -euo pipefail
PORT="$1"; UPSTREAM="$2"; shift 2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
exec "$ROOT/node_modules/.bin/bun" "$ROOT/src/cli/main.ts" start \
  --legacy "$UPSTREAM" --listen "127.0.0.1:$PORT" --admin "127.0.0.1:0" --workers 1 "$@"
