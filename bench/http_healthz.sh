#!/usr/bin/env bash
# bench/http_healthz.sh — requests/s of sluice's GET /healthz next to nginx
# serving a static file of the same size on loopback, measured in the same run
# with the same wrk settings (default: 50 connections, 2 threads, 10 s).
# nginx runs with one worker process, like sluice's one loop thread.
# Prints both figures and the ratio sluice/nginx. Both write an access log
# line per request to a file (sluice at its default level info); LOG_LEVEL=warn
# turns both access logs off.
#
#   bench/http_healthz.sh [build-dir]       (default: build; needs wrk, nginx)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
CONNECTIONS=${CONNECTIONS:-50}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
SLUICE_PORT=${SLUICE_PORT:-48080}
NGINX_PORT=${NGINX_PORT:-48081}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
chmod 755 "$work"  # nginx workers run as an unprivileged user
cleanup() {
  [[ -n ${sluice_pid:-} ]] && kill "$sluice_pid" 2>/dev/null && wait "$sluice_pid" 2>/dev/null
  [[ -f $work/nginx.pid ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

printf "[server]\nlisten = 127.0.0.1:%s\n[log]\nlevel = %s\n" "$SLUICE_PORT" "${LOG_LEVEL:-info}" >"$work/sluice.conf"
"$BUILD/src/sluice" serve --config "$work/sluice.conf" 2>"$work/sluice.log" &
sluice_pid=$!

mkdir -p "$work/html" "$work/logs"
# Both servers log each request, or neither does.
if [[ ${LOG_LEVEL:-info} == info || ${LOG_LEVEL:-info} == debug ]]; then
  NGINX_ACCESS_LOG="$work/logs/access.log"
else
  NGINX_ACCESS_LOG=off
fi
printf '{"status":"ok"}' >"$work/html/healthz"
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 1024; }
http {
  access_log $NGINX_ACCESS_LOG;
  default_type application/json;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $work/html;
  }
}
NGINX
"$NGINX" -c "$work/nginx.conf" -p "$work"

for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$SLUICE_PORT/healthz" >/dev/null && curl -sf "http://127.0.0.1:$NGINX_PORT/healthz" >/dev/null && break
  sleep 0.1
done

curl -sf "http://127.0.0.1:$NGINX_PORT/healthz" >/dev/null || { echo "nginx does not serve the file" >&2; exit 1; }

run_wrk() {  # prints requests/s
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$1" | tee "$work/wrk.out" >&2
  if grep -q "Non-2xx" "$work/wrk.out"; then echo "error responses during the run" >&2; exit 1; fi
  awk '/^Requests\/sec:/ {print $2}' "$work/wrk.out"
}
echo "==> nginx $("$NGINX" -v 2>&1 | sed 's/.*\///') static file, 1 worker" >&2
nginx_rps=$(run_wrk "http://127.0.0.1:$NGINX_PORT/healthz")
echo "==> sluice GET /healthz" >&2
sluice_rps=$(run_wrk "http://127.0.0.1:$SLUICE_PORT/healthz")
ratio=$(awk -v a="$sluice_rps" -v b="$nginx_rps" 'BEGIN {printf "%.2f", a / b}')
printf 'wrk -t%s -c%s -d%s\n  nginx (static, 1 worker): %s req/s\n  sluice /healthz:          %s req/s\n  ratio sluice/nginx:       %s\n' \
  "$THREADS" "$CONNECTIONS" "$DURATION" "$nginx_rps" "$sluice_rps" "$ratio"
