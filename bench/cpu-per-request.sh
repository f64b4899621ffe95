#!/usr/bin/env bash
# CPU time per proxied request: a steadier measure than requests/s on a shared
# machine, for comparing changes to the hot path.
#   bash bench/cpu-per-request.sh [SECONDS] -- COMMAND...   (COMMAND gets PORT and UPSTREAM appended)
#   bash bench/cpu-per-request.sh 5 -- bash bench/start-gateway.sh
# Starts an nginx upstream (the same ~100-byte JSON as peers.sh), runs the
# command pinned to CPU 1, loads it with wrk on CPU 0 (64 connections), and
# prints requests, CPU seconds of the process tree, and microseconds of CPU per request.
set -euo pipefail
SECS="${1:-5}"; shift; [ "${1:-}" = "--" ] && shift
WORK="$(mktemp -d /tmp/cpureq.XXXXXX)"; chmod 755 "$WORK"
UP_PORT=19301; GW_PORT=19304
cleanup() { [ -n "${GWPID:-}" ] && { pkill -TERM -P "$GWPID" 2>/dev/null || true; kill "$GWPID" 2>/dev/null || true; }; [ -f "$WORK/ngx.pid" ] && kill "$(cat "$WORK/ngx.pid")" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
printf '%s' '{"id":42,"name":"widget","price":19.99,"tags":["a","b","c"],"updated_at":"2026-11-21T10:00:00Z"}' > "$WORK/payload.json"
cat > "$WORK/ngx.conf" <<NGX
worker_processes 1; worker_cpu_affinity 01; pid $WORK/ngx.pid; error_log $WORK/ngx.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$UP_PORT; location / { default_type application/json; root $WORK; rewrite ^ /payload.json break; } } }
NGX
nginx -c "$WORK/ngx.conf"
taskset -c 1 "$@" "$GW_PORT" "http://127.0.0.1:$UP_PORT" > "$WORK/gw.log" 2>&1 &
GWPID=$!
for _ in $(seq 1 400); do curl -s -o /dev/null "http://127.0.0.1:$GW_PORT/x" && break; sleep 0.02; done
ticks() { local t=0 p; for p in $GWPID $(pgrep -P "$GWPID") $(for c in $(pgrep -P "$GWPID"); do pgrep -P "$c"; done); do t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0) )); done; echo $t; }
taskset -c 0 wrk -t1 -c64 -d2s "http://127.0.0.1:$GW_PORT/bench/item" > /dev/null   # warm-up
t0=$(ticks)
out=$(taskset -c 0 wrk -t1 -c64 -d"${SECS}s" "http://127.0.0.1:$GW_PORT/bench/item")
t1=$(ticks)
reqs=$(echo "$out" | awk '/requests in/ {print $1}')
hz=$(getconf CLK_TCK)
awk -v r="$reqs" -v d=$(( t1 - t0 )) -v hz="$hz" 'BEGIN { printf "requests=%d cpu_s=%.2f cpu_us_per_request=%.1f\n", r, d / hz, (d / hz) * 1e6 / r }'
