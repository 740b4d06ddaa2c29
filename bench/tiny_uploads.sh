#!/usr/bin/env bash
# bench/tiny_uploads.sh [N] — the bad-inputs catalogue's "10,000 tiny uploads
# in a row" (tests/bad_inputs.md): N (default 10000) one-row CSV uploads, one
# after another on ONE keep-alive connection, into one table (the first
# creates it, the rest append), against a `sluice serve` of its own. Prints
# uploads/s and latency percentiles, every answer must be 201 and the table
# must hold N distinct rows after; the server's open file descriptors and RSS
# are printed before and after (they must not grow with N).
#
# Baselines, measured in the same run on the same MariaDB, each through one
# `mariadb` client session (no HTTP, no S3, no catalog):
#  - load: the same one-row file appended with `LOAD DATA LOCAL INFILE`, once
#    per upload (capped at 2000 rounds, scaled) — the least database work an
#    append can do; the ratio says what HTTP, S3 and the catalog records add.
#  - staging: a staging table's life per upload (CREATE TABLE, LOAD DATA,
#    INSERT … SELECT into the target, DROP TABLE; capped at 300 rounds) —
#    what each tiny append cost before small appends loaded direct (two DDL
#    statements, each some file-system syncs).
#
# Environment: SLUICE_TEST_MARIADB_* (tests/env/mariadb.sh env) and
# SLUICE_TEST_S3RVER_* (tests/env/s3rver.sh env) or SLUICE_TEST_RGW_*;
# SLUICE = the binary (default build/src/sluice); PORT (default 34599).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-10000}
SLUICE=${SLUICE:-$ROOT/build/src/sluice}
PORT=${PORT:-34599}
: "${SLUICE_TEST_MARIADB_PORT:?run eval \"\$(tests/env/mariadb.sh env DIR PORT)\" first}"
S3=${SLUICE_TEST_S3RVER_ENDPOINT:-${SLUICE_TEST_RGW_ENDPOINT:?need SLUICE_TEST_S3RVER_* or SLUICE_TEST_RGW_*}}
if [[ -n ${SLUICE_TEST_S3RVER_ENDPOINT:-} ]]; then
  KEY=$SLUICE_TEST_S3RVER_ACCESS_KEY SECRET=$SLUICE_TEST_S3RVER_SECRET_KEY BUCKET=${SLUICE_TEST_S3RVER_BUCKET:-sluice}
else
  KEY=$SLUICE_TEST_RGW_ACCESS_KEY SECRET=$SLUICE_TEST_RGW_SECRET_KEY BUCKET=${SLUICE_TEST_RGW_BUCKET:-sluice}
fi
DB=sluice_bench_tiny
root_sql() { mariadb --no-defaults -S "$SLUICE_TEST_MARIADB_ROOT_SOCKET" -u root -N -B "$@"; }
root_sql -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB CHARACTER SET utf8mb4;
  GRANT ALL PRIVILEGES ON $DB.* TO '${SLUICE_TEST_MARIADB_USER:-sluice}'@'127.0.0.1', '${SLUICE_TEST_MARIADB_USER:-sluice}'@'localhost'"

DIR=$(mktemp -d)
cat >"$DIR/sluice.conf" <<CONF
[server]
listen = 127.0.0.1:$PORT
[mariadb]
host = 127.0.0.1
port = $SLUICE_TEST_MARIADB_PORT
user = ${SLUICE_TEST_MARIADB_USER:-sluice}
password = ${SLUICE_TEST_MARIADB_PASSWORD:-sluice}
database = $DB
[s3]
endpoint = $S3
bucket = $BUCKET
path_style = true
access_key = $KEY
secret_key = $SECRET
prefix = bench-tiny/
[log]
level = warn
CONF
"$SLUICE" serve --config "$DIR/sluice.conf" 2>"$DIR/log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do curl -sf "127.0.0.1:$PORT/v1/uploads?limit=1" >/dev/null && break; sleep 0.1; done

echo "load before: $(uptime | sed 's/.*load average: //')"
fds() { ls /proc/$PID/fd | wc -l; }
rss() { awk '/VmRSS/ {print $2 " kB"}' /proc/$PID/status; }
echo "server fds $(fds), RSS $(rss)"
python3 - "$PORT" "$N" <<'PY'
import http.client, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port)
lat = []
t0 = time.time()
for i in range(n):
    q = "" if i == 0 else "&mode=append"
    t = time.time()
    c.request("POST", "/v1/uploads?table=tiny" + q, f"a,b\n{i},x\n".encode(), {"Content-Type": "text/csv"})
    r = c.getresponse(); body = r.read()
    lat.append(time.time() - t)
    if r.status != 201:
        sys.exit(f"upload {i}: {r.status} {body[:300]!r}")
total = time.time() - t0
lat.sort()
p = lambda q: lat[min(len(lat) - 1, int(len(lat) * q))] * 1000
print(f"sluice: {n} uploads in {total:.1f} s = {n / total:.1f} uploads/s; latency p50 {p(.5):.1f} ms, p90 {p(.9):.1f} ms, p99 {p(.99):.1f} ms")
open("/dev/shm/tiny_uploads_rate", "w").write(f"{n / total}")
PY
echo "server fds $(fds), RSS $(rss)"
rows=$(root_sql $DB -e "SELECT COUNT(DISTINCT a) FROM tiny")
[[ $rows == "$N" ]] || { echo "table holds $rows distinct rows, expected $N" >&2; exit 1; }
echo "table tiny: $rows distinct rows"

printf '1\tx\n' >"$DIR/row.tsv"
B=$(( N < 2000 ? N : 2000 ))
{ echo "CREATE TABLE base (_row BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, a BIGINT, b TEXT) ENGINE=InnoDB;"
  for _ in $(seq 1 "$B"); do echo "LOAD DATA LOCAL INFILE '$DIR/row.tsv' INTO TABLE base (a, b);"; done
} >"$DIR/load.sql"
S=$(( N < 300 ? N : 300 ))
{ for i in $(seq 1 "$S"); do
    echo "CREATE TABLE st (_row BIGINT NOT NULL, a BIGINT, b TEXT) ENGINE=InnoDB;"
    echo "LOAD DATA LOCAL INFILE '$DIR/row.tsv' INTO TABLE st (a, b) SET _row = 1;"
    echo "INSERT INTO base (a, b) SELECT a, b FROM st ORDER BY _row; DROP TABLE st;"
  done; } >"$DIR/staging.sql"
rounds_per_s() {  # FILE ROUNDS: runs FILE through one client session
  local t0 t1
  t0=$(date +%s.%N)
  root_sql --local-infile=1 $DB <"$1"
  t1=$(date +%s.%N)
  python3 -c "import sys; print(f'{int(sys.argv[3]) / (float(sys.argv[2]) - float(sys.argv[1])):.1f}')" "$t0" "$t1" "$2"
}
load_rate=$(rounds_per_s "$DIR/load.sql" "$B")
staging_rate=$(rounds_per_s "$DIR/staging.sql" "$S")
python3 - "$load_rate" "$B" "$staging_rate" "$S" <<'PY'
import sys
load, b, staging, s = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rate = float(open("/dev/shm/tiny_uploads_rate").read())
print(f"baseline load (LOAD DATA LOCAL of the same one-row file, {b} rounds, one mariadb session): {load:.1f} rounds/s")
print(f"baseline staging (CREATE + LOAD DATA + INSERT…SELECT + DROP, {s} rounds): {staging:.1f} rounds/s")
print(f"ratio sluice/load baseline: {rate / load:.2f}; sluice/staging baseline: {rate / staging:.2f}")
PY
rm -f /dev/shm/tiny_uploads_rate
echo "load after: $(uptime | sed 's/.*load average: //')"
root_sql -e "DROP DATABASE $DB"
