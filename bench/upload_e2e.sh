#!/usr/bin/env bash
# bench/upload_e2e.sh [ROWS…] — the product's main job timed end to end: one
# `curl -F file=@gen.csv http://…/v1/uploads` to a running `sluice serve`
# (201 received = every row committed in MariaDB and the object complete in
# S3) against what a user would otherwise do by hand, in the same run, on the
# same mariadbd and the same Ceph RGW: `LOAD DATA LOCAL INFILE` of the same
# file with the `mariadb` client into a table of the types sluice inferred,
# then `aws s3 cp` of it (issue 5's benchmark).
#
# For each ROWS (default: 1000000 10000000) a `sluice gen` file is made (kept
# in $BENCH_DIR, shared with ingest_e2e.sh), then RUNS times (median
# reported), alternating which side goes first:
#   sluice   curl -F upload; seconds until the 201
#   manual   LOAD DATA LOCAL INFILE (typed table, empty fields NULLIF'd, as a
#            user would write it) + aws s3 cp, one after the other
# Prints both times, each step's, MB/s, the ratio sluice/manual (target < 1.0),
# the CPU seconds each side cost sluice's server, mariadbd and RGW (radosgw +
# its OSD) — from /proc, so what bounds the wall time is visible on a shared
# machine — and the server's peak RSS (VmHWM) against [server] memory_budget.
# Between runs the table and objects are dropped and RGW garbage-collected
# (memstore keeps deleted data in RAM until then).
#
# Environment: the database from tests/env/mariadb.sh (SLUICE_TEST_MARIADB_*)
# and S3 from tests/env/rgw.sh (SLUICE_TEST_RGW_*), both required, with
# RGW_DIR=the rgw.sh DIR (for `radosgw-admin gc process`); SLUICE = the binary
# (default: the first of build-rel, build; use a Release build); BENCH_DIR
# (default /tmp/sluice-bench); BENCH_PORT (default 34190); RUNS (default 1);
# SERVER_CONF_EXTRA = more [server] lines (e.g. "memory_budget = 128M").
# Run-to-run noise here is ±30% (ENVIRONMENT.md): compare within one run, and
# note the load (printed) — other builds share the 2 cores.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROWS=("$@")
(( ${#ROWS[@]} )) || ROWS=(1000000 10000000)
RUNS=${RUNS:-1}
BENCH_DIR=${BENCH_DIR:-/tmp/sluice-bench}
BENCH_PORT=${BENCH_PORT:-34190}
DB_NAME=sluice_bench_upload
PREFIX=bench-upload/
. "$ROOT/bench/upload_bench_common.sh"
RGW_DIR=${RGW_DIR:-}
mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d /tmp/sluice-upload-bench.XXXXXX)
SERVER_PID=""
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

sql() { mariadb --no-defaults -h "$DB_HOST" -P "$SLUICE_TEST_MARIADB_PORT" -u "$DB_USER" -p"$DB_PASSWORD" \
          --local-infile=1 -N -B "$DB_NAME" "$@"; }
root_sql() { mariadb --no-defaults -S "$SLUICE_TEST_MARIADB_ROOT_SOCKET" -u root -N -B "$@"; }
root_sql -e "CREATE DATABASE IF NOT EXISTS $DB_NAME CHARACTER SET utf8mb4;
  GRANT ALL PRIVILEGES ON $DB_NAME.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost'"
export AWS_ACCESS_KEY_ID=$SLUICE_TEST_RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$SLUICE_TEST_RGW_SECRET_KEY \
       AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null \
       AWS_SHARED_CREDENTIALS_FILE=/dev/null
aws_rgw() { /usr/bin/aws --endpoint-url "$SLUICE_TEST_RGW_ENDPOINT" "$@"; }
# Removes everything under the bench prefix and makes RGW really free it.
drop_objects() {
  aws_rgw s3 rm --recursive "s3://$BUCKET/$PREFIX" --only-show-errors >/dev/null 2>&1 || true
  [[ -z $RGW_DIR ]] || radosgw-admin -c "$RGW_DIR/ceph.conf" gc process --include-all >/dev/null 2>&1 || true
}
reset_db() { sql -e "DROP TABLE IF EXISTS s_up, ld_typed; DELETE FROM sluice_uploads; DELETE FROM sluice_tables" \
               2>/dev/null || true; }

# The server, as a user runs it: defaults but for where things are.
write_upload_bench_conf "$WORK/sluice.conf" "${SERVER_CONF_EXTRA:-}"
"$SLUICE" serve --config "$WORK/sluice.conf" 2>"$WORK/serve.log" &
SERVER_PID=$!
URL=http://127.0.0.1:$BENCH_PORT
for _ in $(seq 100); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/uploads?limit=1") == 200 ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
  sleep 0.1
done
budget=$(sed -n 's/^ *memory_budget *= *\([^ ;]*\).*/\1/p' <<<"${SERVER_CONF_EXTRA:-}")
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status"; }
# CPU seconds so far of the processes in the pid files given (missing ones count 0).
HZ=$(getconf CLK_TCK)
cpu_of() {
  local total=0 pid
  for pid in "$@"; do
    [[ -n $pid && -r /proc/$pid/stat ]] || continue
    total=$(awk -v t="$total" -v hz="$HZ" '{printf "%.2f", t + ($14 + $15) / hz}' "/proc/$pid/stat")
  done
  echo "$total"
}
DB_PID=$(cat "$(dirname "${SLUICE_TEST_MARIADB_SOCKET:-/nonexistent}")/mysqld.pid" 2>/dev/null || true)
RGW_PIDS=""
[[ -n $RGW_DIR ]] && RGW_PIDS="$(cat "$RGW_DIR/pids/rgw.pid" "$RGW_DIR/pids/osd.pid" 2>/dev/null | tr '\n' ' ')"
cpu_snapshot() { echo "$(cpu_of "$SERVER_PID") $(cpu_of "$DB_PID") $(cpu_of $RGW_PIDS)"; }
cpu_delta() {  # "before" "after" -> "sluice db rgw"
  awk -v a="$1" -v b="$2" 'BEGIN {split(a, x, " "); split(b, y, " "); printf "%.1f %.1f %.1f", y[1]-x[1], y[2]-x[2], y[3]-x[3]}'
}

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
secs() { echo "$2 - $1" | bc -l; }

echo "# $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(basename "$SLUICE") $("$SLUICE" --version 2>/dev/null | head -1)," \
     "RUNS=$RUNS, RGW $SLUICE_TEST_RGW_ENDPOINT, awscli $(/usr/bin/aws --version 2>&1 | cut -d' ' -f1 | cut -d/ -f2)"
printf '%-9s %8s %-8s %8s %8s %8s %8s %8s %9s  %s\n' rows MB side seconds MB/s load_s s3cp_s ratio peak_RSS \
  "CPU s: sluice/mariadbd/rgw"
for rows in "${ROWS[@]}"; do
  file=$BENCH_DIR/gen-$rows.csv
  [[ -s $file ]] || "$SLUICE" gen --rows "$rows" >"$file"
  bytes=$(stat -c %s "$file")
  mb=$(echo "$bytes / 1000000" | bc -l)
  header=$(head -1 "$file")
  IFS=, read -r -a cols <<<"$header"
  sluice_t=() manual_t=() load_t=() cp_t=() sluice_cpu="" manual_cpu=""
  sql -e "DROP TABLE IF EXISTS ld_template"
  for ((run = 1; run <= RUNS; run++)); do
    order="sluice manual"
    (( run % 2 == 0 )) && order="manual sluice"
    for side in $order; do
      reset_db
      drop_objects
      c0=$(cpu_snapshot)
      if [[ $side == sluice ]]; then
        t0=$(now)
        code=$(curl -sS -o "$WORK/record.json" -w '%{http_code}' -F "file=@$file;filename=gen.csv" \
                 "$URL/v1/uploads?table=s_up")
        t1=$(now)
        [[ $code == 201 ]] || { echo "upload answered $code: $(head -c 2000 "$WORK/record.json")" >&2; exit 1; }
        loaded=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['rows_loaded'])" "$WORK/record.json")
        [[ $loaded == "$rows" ]] || { echo "rows_loaded $loaded, expected $rows" >&2; exit 1; }
        sluice_t+=("$(secs "$t0" "$t1")")
        sluice_cpu=$(cpu_delta "$c0" "$(cpu_snapshot)")
        # The types sluice inferred: the manual side's table gets the same.
        sql -e "CREATE TABLE IF NOT EXISTS ld_template AS SELECT $(printf '`%s`,' "${cols[@]}" | sed 's/,$//') FROM s_up LIMIT 0"
      else
        sql -e "CREATE TABLE ld_typed LIKE ld_template" || { echo "the sluice side must run first once" >&2; exit 1; }
        vars=$(for i in "${!cols[@]}"; do printf '@v%d,' "$i"; done); vars=${vars%,}
        sets=$(for i in "${!cols[@]}"; do printf '`%s` = NULLIF(@v%d, %s),' "${cols[$i]}" "$i" "''"; done)
        sets=${sets%,}
        t0=$(now)
        sql -e "LOAD DATA LOCAL INFILE '$file' INTO TABLE ld_typed CHARACTER SET utf8mb4
          FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\n' IGNORE 1 LINES ($vars) SET $sets"
        t1=$(now)
        aws_rgw s3 cp "$file" "s3://$BUCKET/${PREFIX}manual/gen.csv" --only-show-errors
        t2=$(now)
        manual_cpu=$(cpu_delta "$c0" "$(cpu_snapshot)")
        n=$(sql -e "SELECT COUNT(*) FROM ld_typed")
        [[ $n == "$rows" ]] || { echo "LOAD DATA loaded $n rows, expected $rows" >&2; exit 1; }
        load_t+=("$(secs "$t0" "$t1")") cp_t+=("$(secs "$t1" "$t2")") manual_t+=("$(secs "$t0" "$t2")")
      fi
    done
  done
  s=$(printf '%s\n' "${sluice_t[@]}" | median)
  m=$(printf '%s\n' "${manual_t[@]}" | median)
  l=$(printf '%s\n' "${load_t[@]}" | median)
  c=$(printf '%s\n' "${cp_t[@]}" | median)
  printf '%-9s %8.0f %-8s %8.2f %8.1f %8s %8s %8.2f %6d MiB  %s\n' "$rows" "$mb" sluice "$s" \
    "$(echo "$mb / $s" | bc -l)" - - "$(echo "$s / $m" | bc -l)" $(( $(hwm_kib) / 1024 )) "${sluice_cpu// //}"
  printf '%-9s %8.0f %-8s %8.2f %8.1f %8.2f %8.2f %8s %9s  %s\n' "$rows" "$mb" manual "$m" "$(echo "$mb / $m" | bc -l)" \
    "$l" "$c" - - "${manual_cpu// //}"
done
echo "# ratio = sluice seconds / manual seconds (< 1.0: the single streamed pass wins);" \
     "peak_RSS = the server's VmHWM so far (memory_budget ${budget:-256M}); CPU s of the last run of each side" \
     "(the manual side's own clients, mariadb and aws, are not counted); load now $(cut -d' ' -f1-3 /proc/loadavg)"
reset_db
sql -e "DROP TABLE IF EXISTS ld_template"
drop_objects
