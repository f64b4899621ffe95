#!/usr/bin/env bash
# Sidecar decisions through a real nginx (issue 11: "p50 ≤ 0.3 ms for a JWT + RBAC decision through real nginx,
# versus nginx with no auth_request"), with the real gateway in sidecar mode, in one run:
#
#   bash bench/sidecar.sh [--seconds N] [--rounds N] [--rate N] [--conns N]
#
# - front:    nginx with examples/sidecar/nginx.conf (ports substituted), one worker;
# - baseline: the same nginx with the auth_request line removed;
# - Ficus:    `ficus start -c sidecar.yaml` (mode: sidecar, front: nginx), one worker, checking an RS256 JWT from a
#             JWK Set and an RBAC Rego policy over 100 roles and 1,000 bindings (bench/enforcement-setup.ts) on
#             every request, with the default access log (to a file) and a 1% decision log;
# - the application: a second nginx serving a 100-byte JSON (and the JWK Set).
# Pinned as in shared/bench/peers.sh: Ficus on CPU 1; both nginx, the application and the load generator on CPU 0.
# Latency: hey at a fixed light rate on one connection (p50/p99, in ms), median of the rounds; also Ficus alone
# (hey sending the check request nginx sends, straight to Ficus) to show what of the difference is the decision.
# Throughput: wrk -c CONNS, median of the rounds (alternating).
# Needs nginx, wrk, hey, taskset. The last line: the p50/p99 the decision adds, and the throughput ratio.
set -euo pipefail
SECONDS_PER=5; ROUNDS=3; RATE=1000; CONNS=16; HOLD=""
while [ $# -gt 0 ]; do
  case "$1" in
    --hold) HOLD=1; shift;;
    --seconds) SECONDS_PER="$2"; shift 2;;
    --rounds) ROUNDS="$2"; shift 2;;
    --rate) RATE="$2"; shift 2;;
    --conns) CONNS="$2"; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
for t in nginx wrk hey taskset curl; do command -v "$t" >/dev/null || { echo "bench/sidecar.sh needs $t (apt-get install $t)" >&2; exit 2; }; done
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUN="$ROOT/node_modules/.bin/bun"
WORK="$(mktemp -d /tmp/ficus-sidecar-bench-XXXXXX)"
chmod 755 "$WORK" # nginx's workers (not root) serve the JWK Set and the payload from here
# Ports of this benchmark only (bench/enforcement.sh uses 192xx).
APP=19301 FICUS=19302 GUARDED=19303 PLAIN=19304
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for n in app guarded plain; do [ -f "$WORK/$n.pid" ] && kill "$(cat "$WORK/$n.pid")" 2>/dev/null || true; done
  sleep 0.2
  rm -rf "$WORK"
}
trap cleanup EXIT

TOKEN="$("$BUN" "$ROOT/bench/enforcement-setup.ts" "$WORK")"
printf '%s' '{"id":42,"name":"widget","price":19.99,"tags":["a","b","c"],"updated_at":"2026-11-21T10:00:00Z"}' > "$WORK/payload.json"
chmod 644 "$WORK"/*

# The application (and the JWK Set), on CPU 0.
cat > "$WORK/app.conf" <<NGX
worker_processes 1;
worker_cpu_affinity 01;
pid $WORK/app.pid;
error_log $WORK/app.err;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$APP;
    location = /jwks { default_type application/json; alias $WORK/jwks.json; }
    location / { default_type application/json; root $WORK; rewrite ^ /payload.json break; }
  }
}
NGX
nginx -c "$WORK/app.conf"

# The front: examples/sidecar/nginx.conf as shipped, only the addresses, the CPU, the pid and temp paths set.
front() { # $1 name, $2 port, $3 "plain" to drop auth_request
  local conf="$WORK/$1.conf"
  sed -e "s/127\.0\.0\.1:9000/127.0.0.1:$FICUS/; s/127\.0\.0\.1:8080/127.0.0.1:$APP/; s/127\.0\.0\.1:8000/127.0.0.1:$2/" \
      -e "s|^worker_processes 1;|worker_processes 1;\nworker_cpu_affinity 01;\npid $WORK/$1.pid;\nerror_log $WORK/$1.err;|" \
      -e "s|^http {|http {\n    client_body_temp_path $WORK/$1-body;\n    proxy_temp_path $WORK/$1-proxy;\n    keepalive_requests 1000000;|" \
      "$ROOT/examples/sidecar/nginx.conf" > "$conf"
  if [ "${3:-}" = plain ]; then sed -i '/^\s*auth_request \/_ficus;/d' "$conf"; fi
  nginx -c "$conf"
}
front guarded "$GUARDED"
front plain "$PLAIN" plain

cat > "$WORK/sidecar.yaml" <<YAML
mode: sidecar
listen: 127.0.0.1:$FICUS
admin: { listen: 127.0.0.1:0 }
workers: 1
sidecar: { front: nginx }
decision_log: { sample: 0.01, output: $WORK/decisions.log }
auth_policies:
  idp:
    jwt: { issuer: https://idp.bench, jwks_url: http://127.0.0.1:$APP/jwks, audience: orders }
    identity_headers: { subject: X-Ficus-Subject, scopes: X-Ficus-Scopes }
routes:
  - name: orders
    match: { prefix: / }
    auth: idp
    authz: { policy: { module: $WORK/rbac.rego, data: $WORK/rbac.json, query: data.http.allow } }
YAML
taskset -c 1 "$BUN" "$ROOT/src/cli/main.ts" start -c "$WORK/sidecar.yaml" > "$WORK/ficus.log" 2>&1 &
PIDS+=("$!")

AUTH="authorization: Bearer $TOKEN"
URL_GUARDED="http://127.0.0.1:$GUARDED/orders/1"
URL_PLAIN="http://127.0.0.1:$PLAIN/orders/1"
URL_FICUS="http://127.0.0.1:$FICUS/_ficus"
# The check request nginx sends for GET /orders/1 (examples/sidecar/nginx.conf), for Ficus alone.
CHECK=("$AUTH" "host: api.example.com" "x-original-method: GET" "x-original-uri: /orders/1" "x-forwarded-for: 127.0.0.1" "x-forwarded-proto: http")
FICUS_HEADERS=(); for h in "${CHECK[@]}"; do FICUS_HEADERS+=(-H "$h"); done
up=""
for _ in $(seq 1 200); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" "$URL_GUARDED")" = 200 ]; then up=1; break; fi
  sleep 0.05
done
[ -n "$up" ] || { echo "the guarded front did not answer 200" >&2; cat "$WORK/ficus.log" "$WORK/guarded.err" >&2; exit 1; }
# A decision really is made: no token is a 401, the token is a 200, and the identity reaches the application's side.
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL_GUARDED")" = 401 ] || { echo "the guarded front let a request without a token through" >&2; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' "${FICUS_HEADERS[@]}" "$URL_FICUS")" = 200 ] || { echo "Ficus did not allow the check request" >&2; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL_PLAIN")" = 200 ] || { echo "the baseline front did not answer 200" >&2; exit 1; }

if [ -n "$HOLD" ]; then
  # For investigating by hand: everything stays up until this script is interrupted.
  printf 'held: guarded %s, plain %s, ficus %s, work %s\ntoken: %s\n' "$URL_GUARDED" "$URL_PLAIN" "$URL_FICUS" "$WORK" "$TOKEN"
  while :; do sleep 3600; done
fi

hey_p() { # url, then header args: "p50 p99" in ms at the fixed rate, one connection (to 0.1 ms); exits unless every answer is 200
  local url="$1"; shift
  local out; out=$(taskset -c 0 hey -z "${SECONDS_PER}s" -q "$RATE" -c 1 "$@" "$url")
  if ! echo "$out" | grep -q '^\s*\[200\]' || echo "$out" | grep -E '^\s*\[[0-9]+\]' | grep -vq '\[200\]'; then echo "hey got answers other than 200 from $url:" >&2; echo "$out" >&2; exit 1; fi
  echo "$out" | awk '$1 == "50%" {p50=$3} $1 == "99%" {p99=$3} END {printf "%.1f %.1f", p50*1000, p99*1000}'
}
fine_p() { # url, then headers: "p50 p99" in ms at the fixed rate, one connection, to the microsecond (bench/sidecar.ts)
  local url="$1"; shift
  local out; out=$(taskset -c 0 "$BUN" "$ROOT/bench/sidecar.ts" "$url" "$RATE" "$SECONDS_PER" "$@") || { echo "bench/sidecar.ts failed on $url: $out" >&2; exit 1; }
  echo "$out" | sed -E 's/.*"p50":([0-9.]+).*"p99":([0-9.]+).*/\1 \2/'
}
wrk_rps() { taskset -c 0 wrk -t1 -c"$CONNS" -d"${SECONDS_PER}s" -H "$1" "$2" | awk '/Non-2xx/{bad=1} /Requests\/sec/{r=int($2)} END {if (bad) print "bad"; else print r}'; }
median() { tr ' ' '\n' | awk NF | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Ficus's main (JavaScript) thread: time on CPU and time runnable but waiting for CPU 1, in ns (/proc/PID/schedstat).
FPID="${PIDS[0]}"
sched() { awk '{print $1, $2}' "/proc/$FPID/schedstat"; }

# Warm-up: JIT, the token cache, the keep-alive pools.
taskset -c 0 wrk -t1 -c"$CONNS" -d2s -H "$AUTH" "$URL_GUARDED" > /dev/null
taskset -c 0 wrk -t1 -c"$CONNS" -d1s -H "$AUTH" "$URL_PLAIN" > /dev/null

declare -A F50 F99 H50 H99 RPS
for n in plain guarded ficus; do F50[$n]=""; F99[$n]=""; H50[$n]=""; H99[$n]=""; RPS[$n]=""; done
CPU_NS=0; WAIT_NS=0; DECISIONS=0; WALL_US=0
now_us() { local t="${EPOCHREALTIME/./}"; echo "$t"; }
for _ in $(seq 1 "$ROUNDS"); do
  v=$(fine_p "$URL_PLAIN" "$AUTH"); read -r a b <<< "$v"; F50[plain]+=" $a"; F99[plain]+=" $b"
  read -r r0 w0 <<< "$(sched)"; t0=$(now_us)
  v=$(fine_p "$URL_GUARDED" "$AUTH"); read -r a b <<< "$v"; F50[guarded]+=" $a"; F99[guarded]+=" $b"
  read -r r1 w1 <<< "$(sched)"; t1=$(now_us); WALL_US=$((WALL_US + t1 - t0))
  CPU_NS=$((CPU_NS + r1 - r0)); WAIT_NS=$((WAIT_NS + w1 - w0)); DECISIONS=$((DECISIONS + RATE * SECONDS_PER))
  v=$(fine_p "$URL_FICUS" "${CHECK[@]}"); read -r a b <<< "$v"; F50[ficus]+=" $a"; F99[ficus]+=" $b"
  v=$(hey_p "$URL_PLAIN" -H "$AUTH"); read -r a b <<< "$v"; H50[plain]+=" $a"; H99[plain]+=" $b"
  v=$(hey_p "$URL_GUARDED" -H "$AUTH"); read -r a b <<< "$v"; H50[guarded]+=" $a"; H99[guarded]+=" $b"
  v=$(wrk_rps "$AUTH" "$URL_PLAIN"); RPS[plain]+=" $v"
  v=$(wrk_rps "$AUTH" "$URL_GUARDED"); RPS[guarded]+=" $v"
done
case "${RPS[plain]}${RPS[guarded]}" in *bad*) echo "wrk got answers other than 2xx" >&2; exit 1;; esac

echo "GET /orders/1 with an RS256 token; RBAC Rego policy over 100 roles and 1,000 bindings; one connection at $RATE req/s (bench/sidecar.ts, and hey),"
echo "throughput with wrk -c$CONNS; ${SECONDS_PER}s runs, median of $ROUNDS rounds; Ficus on CPU 1, nginx x2, the application and the load generators on CPU 0"
printf '%-32s %9s %9s %11s %11s %9s\n' target "p50 ms" "p99 ms" "hey p50" "hey p99" "req/s"
declare -A M
for n in plain guarded ficus; do
  M[F50.$n]="$(echo "${F50[$n]}" | median)"; M[F99.$n]="$(echo "${F99[$n]}" | median)"
  v="$(echo "${H50[$n]}" | median)"; M[H50.$n]="${v:--}"; v="$(echo "${H99[$n]}" | median)"; M[H99.$n]="${v:--}"
  v="$(echo "${RPS[$n]}" | median)"; M[RPS.$n]="${v:--}"
done
row() { printf '%-32s %9s %9s %11s %11s %9s\n' "$1" "${M[F50.$2]}" "${M[F99.$2]}" "${M[H50.$2]}" "${M[H99.$2]}" "${M[RPS.$2]}"; }
row "nginx, no auth_request" plain
row "nginx + auth_request to Ficus" guarded
row "Ficus alone (the check request)" ficus
awk -v cpu="$CPU_NS" -v wait="$WAIT_NS" -v n="$DECISIONS" -v wall="$WALL_US" \
  'BEGIN {printf "Ficus main thread during the guarded latency runs: %.0f us of CPU per decision; waited %.0f ms for CPU 1 (runnable, not running) in %.0f ms%s\n", cpu/n/1000, wait/1e6, wall/1000, (wait/1e3 > 0.02*wall ? ": another process competed for CPU 1, the p99 rows are not Ficus alone" : "")}'
awk -v a="${M[F50.plain]}" -v b="${M[F50.guarded]}" -v c="${M[F99.plain]}" -v d="${M[F99.guarded]}" -v r1="${M[RPS.plain]}" -v r2="${M[RPS.guarded]}" \
  'BEGIN {printf "summary: added_p50_ms=%.3f (target <= 0.3) added_p99_ms=%.3f throughput_ratio=%.2f\n", b-a, d-c, r2/r1}'
