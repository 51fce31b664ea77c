#!/usr/bin/env bash
# Side-by-side HTTP benchmark, GET /health measured with `wrk -t1 -c50` on
# loopback, in one run:
#   keeld             the real service, one I/O thread, its full middleware
#                     chain and real health checks (issue 7's target)
#   keel_http         http_bench_server: keel::http alone with the same
#                     middleware and a fixed body (what the layer costs)
#   nginx             one worker, returning keeld's /health body byte for byte
#   seed_reference    the seeds' Python app (../shared/peers/seed_monitoring_app)
# Writes bench/results/http.json (req/s, p50, p99 each; ratios to nginx and
# to the seed app).
#
#   bench/run_http_bench.sh [BUILD_DIR=build/release] [SECONDS=10]
set -euo pipefail

build=${1:-build/release}
secs=${2:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
server_bin=$build/bench/http_bench_server
keeld_bin=$build/apps/keeld/keeld
peer_dir=$(cd "$root/.." && pwd)/shared/peers/seed_monitoring_app
for b in "$server_bin" "$keeld_bin"; do
  [[ -x $b ]] || { echo "missing $b (build it first: make bench builds both)" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "wrk not installed" >&2; exit 1; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $nginx_bin ]] || { echo "nginx not installed" >&2; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listening on port $1" >&2
  return 1
}

# keeld: one I/O thread, logs to its files only (the access log included).
printf 'logging: {stdout: "off"}\nserver: {rate_limit: {requests_per_second: 1000000, burst: 1000000}}\n' \
  > "$tmp/keeld.yaml"
KEEL_ADMIN_TOKEN=bench-token-0123456789abcdef "$keeld_bin" --config "$tmp/keeld.yaml" \
  --listen 127.0.0.1:0 --io-threads 1 --data-dir "$tmp/keeld" --port-file "$tmp/keeld.port" \
  2> "$tmp/keeld.err" &
pids+=($!)
for _ in $(seq 200); do [[ -s $tmp/keeld.port ]] && break; sleep 0.05; done
keeld_port=$(cat "$tmp/keeld.port")
wait_port "$keeld_port"
keeld_body=$(curl -s "http://127.0.0.1:$keeld_port/health")
[[ $keeld_body == *'"status":"pass"'* ]] || { echo "keeld is not healthy: $keeld_body" >&2; exit 1; }

body='{"status":"ok"}'

# nginx: one worker, fixed body, everything under $tmp.
nginx_port=$(free_port)
mkdir -p "$tmp/nginx/logs"
cat > "$tmp/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port;
    location = /health { default_type application/health+json; return 200 '$keeld_body'; }
  }
}
CONF
"$nginx_bin" -e "$tmp/nginx/logs/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
pids+=($!)
wait_port "$nginx_port"

# keel: one I/O thread.
"$server_bin" --port 0 --io-threads 1 > "$tmp/keel.out" &
pids+=($!)
for _ in $(seq 100); do grep -q '^listening' "$tmp/keel.out" 2>/dev/null && break; sleep 0.05; done
keel_port=$(awk '/^listening/ {print $2}' "$tmp/keel.out")
[[ -n $keel_port ]] || { echo "http_bench_server did not start" >&2; exit 1; }
wait_port "$keel_port"

[[ $(curl -s "http://127.0.0.1:$keel_port/health") == "$body" ]] || { echo "keel body differs" >&2; exit 1; }
[[ $(curl -s "http://127.0.0.1:$nginx_port/health") == "$keeld_body" ]] || { echo "nginx body differs" >&2; exit 1; }

# The seeds' reference app (Python/FastAPI), when its packages are installed.
seed_port=""
if [[ -d $peer_dir ]] && /usr/bin/python3 -c 'import fastapi, uvicorn, pythonjsonlogger' 2>/dev/null; then
  seed_port=$(free_port)
  mkdir -p "$tmp/seed"
  (cd "$tmp/seed" && PYTHONPATH=$peer_dir exec /usr/bin/python3 -m monitoring_system.app "$seed_port" \
     > "$tmp/seed/out.log" 2>&1) &
  pids+=($!)
  wait_port "$seed_port" || seed_port=""
fi

# wrk output -> "req_per_s p50_ms p99_ms"
measure() {
  local out
  out=$(wrk -t1 -c50 -d"${secs}s" --latency "http://127.0.0.1:$1/health")
  echo "$out" >&2
  echo "$out" | awk '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      return v + 0
    }
    /Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    END { printf "%s %.3f %.3f\n", rps, p50, p99 }'
}

echo "== nginx (1 worker) on :$nginx_port" >&2
read -r n_rps n_p50 n_p99 < <(measure "$nginx_port")
echo "== keeld (1 I/O thread) on :$keeld_port" >&2
read -r d_rps d_p50 d_p99 < <(measure "$keeld_port")
echo "== keel::http alone (http_bench_server, 1 I/O thread) on :$keel_port" >&2
read -r k_rps k_p50 k_p99 < <(measure "$keel_port")
s_json="null"
s_rps=0
if [[ -n $seed_port ]]; then
  echo "== seed reference app (Python) on :$seed_port" >&2
  read -r s_rps s_p50 s_p99 < <(measure "$seed_port")
  s_json="{\"req_per_s\": $s_rps, \"p50_ms\": $s_p50, \"p99_ms\": $s_p99}"
fi

mkdir -p "$root/bench/results"
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
cat > "$root/bench/results/http.json" <<JSON
{
  "benchmark": "GET /health, wrk -t1 -c50 -d${secs}s, loopback, one run side by side",
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "host": "$(uname -n), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)",
  "body_bytes": ${#keeld_body},
  "keeld": {"io_threads": 1, "req_per_s": $d_rps, "p50_ms": $d_p50, "p99_ms": $d_p99},
  "keel_http": {"io_threads": 1, "req_per_s": $k_rps, "p50_ms": $k_p50, "p99_ms": $k_p99},
  "nginx": {"workers": 1, "req_per_s": $n_rps, "p50_ms": $n_p50, "p99_ms": $n_p99},
  "seed_reference": $s_json,
  "keeld_over_nginx": $(div "$d_rps" "$n_rps"),
  "keeld_over_seed": $(div "$d_rps" "$s_rps"),
  "keel_http_over_nginx": $(div "$k_rps" "$n_rps")
}
JSON
cat "$root/bench/results/http.json"
