#!/usr/bin/env bash
# The cost of enforcement (issue 11): the plain gateway against the same gateway checking a JWT and an RBAC
# Rego policy on every request with a local rate limit, and with the limit in Redis instead, in one run.
#
#   bash bench/enforcement.sh [--seconds N] [--rounds N] [--rate N]
#
# Like shared/bench/peers.sh: each gateway pinned to CPU 1 (one process), the upstream (nginx, serving the
# same 100-byte JSON and the JWK Set) and wrk on CPU 0; throughput with wrk -c64 (median of the rounds,
# alternating), latency at a fixed rate on one keep-alive connection, timed to the microsecond by bench/sidecar.ts. Every request carries a valid token (RS256, made by
# bench/enforcement-setup.ts), so the steady state is what production sees: a cached token, a policy decision,
# a rate-limit check. Needs nginx, wrk, python3; Redis on 127.0.0.1:6379 for the Redis row.
set -euo pipefail
SECONDS_PER=8; ROUNDS=3; RATE=2000
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER="$2"; shift 2;;
    --rounds) ROUNDS="$2"; shift 2;;
    --rate) RATE="$2"; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUN="$ROOT/node_modules/.bin/bun"
WORK="$(mktemp -d /tmp/ficus-enforcement-XXXXXX)"
chmod 755 "$WORK" # nginx's workers (not root) serve the JWK Set and the payload from here
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; nginx -c "$WORK/nginx.conf" -s stop 2>/dev/null || true; }
trap cleanup EXIT

# Keys, the JWK Set, a token, the policy.
TOKEN="$("$BUN" "$ROOT/bench/enforcement-setup.ts" "$WORK")"
chmod 644 "$WORK"/*
printf '%s' '{"id":42,"name":"widget","price":19.99,"tags":["a","b","c"],"updated_at":"2026-11-21T10:00:00Z"}' > "$WORK/payload.json"
chmod 644 "$WORK/payload.json"
cat > "$WORK/nginx.conf" <<NGX
worker_processes 1;
worker_cpu_affinity 01;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:19201;
    location = /jwks { default_type application/json; alias $WORK/jwks.json; }
    location / { default_type application/json; root $WORK; rewrite ^ /payload.json break; }
  }
}
NGX
nginx -c "$WORK/nginx.conf"

config() { # $1 port, $2 rate-limit backend (none|local|redis)
  local limit=""
  case "$2" in
    local) limit='    rate_limit: { limits: [{ name: per-user, rate: 1000000/s, burst: 100000, key: [subject] }] }';;
    redis) limit='    rate_limit: { limits: [{ name: per-user, rate: 1000000/s, burst: 100000, key: [subject], backend: redis }] }';;
  esac
  cat <<YAML
listen: 127.0.0.1:$1
admin: { listen: 127.0.0.1:0 }
workers: 1
decision_log: { sample: 0.01, output: $WORK/decisions.log }
rate_limit: { redis: { url: redis://127.0.0.1:6379 } }
auth_policies:
  idp:
    jwt: { issuer: https://idp.bench, jwks_url: http://127.0.0.1:19201/jwks, audience: orders }
    identity_headers: { subject: X-Ficus-Subject }
routes:
  - name: orders
    match: { prefix: / }
    upstream: http://127.0.0.1:19201
    auth: idp
    authz: { policy: { module: $WORK/rbac.rego, data: $WORK/rbac.json, query: data.http.allow } }
$limit
YAML
}

start() { # $1 name, $2 port, then ficus start args
  local name="$1" port="$2"; shift 2
  taskset -c 1 "$BUN" "$ROOT/src/cli/main.ts" start "$@" > "$WORK/$name.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 1 200); do [ "$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $TOKEN" "http://127.0.0.1:$port/orders/1")" = 200 ] && return 0; sleep 0.05; done
  echo "$name did not start" >&2; cat "$WORK/$name.log" >&2; exit 1
}

start plain 19210 --legacy http://127.0.0.1:19201 --listen 127.0.0.1:19210 --admin 127.0.0.1:0 --workers 1
config 19211 local > "$WORK/local.yaml"; start jwt_rbac_local 19211 -c "$WORK/local.yaml"
config 19212 redis > "$WORK/redis.yaml"; start jwt_rbac_redis 19212 -c "$WORK/redis.yaml"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $TOKEN" http://127.0.0.1:19212/orders/1)
[ "$code" = 200 ] || { echo "the enforcing gateway answered $code, not 200" >&2; exit 1; }

declare -A RPS
for name in plain jwt_rbac_local jwt_rbac_redis; do RPS[$name]=""; done
port_of() { case "$1" in plain) echo 19210;; jwt_rbac_local) echo 19211;; jwt_rbac_redis) echo 19212;; esac; }
for name in plain jwt_rbac_local jwt_rbac_redis; do taskset -c 0 wrk -t1 -c64 -d2 -H "authorization: Bearer $TOKEN" "http://127.0.0.1:$(port_of $name)/orders/1" > /dev/null; done
for r in $(seq 1 "$ROUNDS"); do
  for name in plain jwt_rbac_local jwt_rbac_redis; do
    v=$(taskset -c 0 wrk -t1 -c64 -d"$SECONDS_PER" -H "authorization: Bearer $TOKEN" "http://127.0.0.1:$(port_of $name)/orders/1" | awk '/Requests\/sec/{print int($2)}')
    RPS[$name]="${RPS[$name]} $v"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
p() { # p50 and p99 in ms at the fixed rate, one keep-alive connection, timed to the microsecond (bench/sidecar.ts)
  local out
  out=$(taskset -c 0 "$BUN" "$ROOT/bench/sidecar.ts" "http://127.0.0.1:$(port_of "$1")/orders/1" "$RATE" 5 "authorization: Bearer $TOKEN") || { echo "latency client failed on $1: $out" >&2; exit 1; }
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("%.3f %.3f" % (d["p50"], d["p99"]))' "$out"
}
printf '%-16s %8s %10s %10s\n' target rps "p50@$RATE" "p99@$RATE"
declare -A MED P99
for name in plain jwt_rbac_local jwt_rbac_redis; do
  MED[$name]=$(echo "${RPS[$name]}" | median)
  read -r a b <<< "$(p "$name")"
  P99[$name]=$b
  printf '%-16s %8s %10s %10s\n' "$name" "${MED[$name]}" "$a" "$b"
done
awk -v p="${MED[plain]}" -v l="${MED[jwt_rbac_local]}" -v r="${MED[jwt_rbac_redis]}" -v pp="${P99[plain]}" -v lp="${P99[jwt_rbac_local]}" \
  'BEGIN {printf "summary: jwt_rbac_local/plain=%.2f jwt_rbac_redis/plain=%.2f extra_p99_ms=%.3f\n", l/p, r/p, lp-pp}'
