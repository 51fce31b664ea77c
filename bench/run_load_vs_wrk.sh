#!/usr/bin/env bash
# run_load_vs_wrk.sh — `keel load` next to wrk against nginx on loopback, with
# the same connections, threads and duration, and the ratio of their rates.
# Issue 8 asks keel load to reach at least 80 % of wrk's requests/s.
#
#   bench/run_load_vs_wrk.sh [BUILD_DIR] [CONNECTIONS] [THREADS] [SECONDS] [ROUNDS]
#   bench/run_load_vs_wrk.sh build/release 64 1 5 3
#
# nginx (Debian nginx-light) runs from a temporary directory: one worker,
# a free loopback port, a fixed 13-byte body, no access log. The two tools
# alternate ROUNDS times; the medians are compared. On a 2-core machine the
# client and nginx share the cores, so run it on a quiet machine.
set -euo pipefail

build=${1:-build/release}
conns=${2:-64}
threads=${3:-1}
seconds=${4:-5}
rounds=${5:-3}
keel=$build/apps/keel/keel

command -v nginx >/dev/null || { echo "nginx not found (apt-get install nginx-light)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }
[[ -x $keel ]] || { echo "$keel not built" >&2; exit 1; }
nginx_bin=$(command -v nginx)

dir=$(mktemp -d /tmp/keel-load-vs-wrk.XXXXXX)
cleanup() {
  [[ -f $dir/nginx.pid ]] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
mkdir -p "$dir/tmp"
cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $dir/tmp;
  proxy_temp_path $dir/tmp;
  fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp;
  scgi_temp_path $dir/tmp;
  server {
    listen 127.0.0.1:$port;
    location / { default_type text/plain; return 200 "hello, keel!\n"; }
  }
}
CONF
"$nginx_bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
  sleep 0.1
done

url="http://127.0.0.1:$port/"
echo "nginx on $url; $conns connections, $threads threads, ${seconds}s per run, $rounds rounds"
wrk_rates=()
keel_rates=()
for r in $(seq 1 "$rounds"); do
  w=$(wrk -c "$conns" -t "$threads" -d "${seconds}s" "$url" | awk '/Requests\/sec/ {print $2}')
  k=$("$keel" load --json --no-progress -c "$conns" -t "$threads" -d "${seconds}s" "$url" |
      python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["requests_per_second"])')
  echo "round $r: wrk $w req/s   keel load $k req/s"
  wrk_rates+=("$w")
  keel_rates+=("$k")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
wm=$(median "${wrk_rates[@]}")
km=$(median "${keel_rates[@]}")
ratio=$(python3 -c "print('%.1f' % (100.0 * $km / $wm))")
echo "median: wrk $wm req/s, keel load $km req/s, keel/wrk = $ratio %"
