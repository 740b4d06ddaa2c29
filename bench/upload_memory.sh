#!/usr/bin/env bash
# bench/upload_memory.sh — peak RSS of `sluice serve` while it takes one
# large upload (default ~2 GB of `sluice gen` CSV, sent with `curl -F`): it
# must stay under [server] memory_budget + 64 MiB, whatever the file size
# (issue 5: "memory flat as files grow"). Prints the server's RSS before the
# upload, VmHWM (the kernel's peak RSS) after it, the highest VmRSS sampled
# every 0.5 s while it ran, the budget, the verdict, the time and MB/s.
#
# Why VmHWM of the server process: it is the one number that counts every
# buffer (socket reads, S3 parts, blocks being parsed, encoded rows, the
# MariaDB client's buffers) and also what the allocator keeps after free.
#
# Environment: SLUICE_TEST_MARIADB_* and SLUICE_TEST_RGW_* (tests/env/*.sh
# env), RGW_DIR = the rgw.sh DIR (deleted data is garbage-collected at the
# end); SLUICE = the binary (default build-rel, then build); GB = file size
# in GB (default 2); BUDGET = [server] memory_budget (default 256M, the
# conf's default); BENCH_DIR (default /tmp/sluice-bench; the file is kept
# there for later runs: delete it when done); BENCH_PORT (default 34191).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GB=${GB:-2}
BUDGET=${BUDGET:-256M}
BENCH_DIR=${BENCH_DIR:-/tmp/sluice-bench}
BENCH_PORT=${BENCH_PORT:-34191}
DB_NAME=sluice_bench_upload
PREFIX=bench-memory/
. "$ROOT/bench/upload_bench_common.sh"
mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d /tmp/sluice-upload-memory.XXXXXX)
SERVER_PID=""
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

to_bytes() { numfmt --from=iec "$1"; }
budget_bytes=$(to_bytes "$BUDGET")
sql() { mariadb --no-defaults -h "${SLUICE_TEST_MARIADB_HOST:-127.0.0.1}" -P "$SLUICE_TEST_MARIADB_PORT" \
          -u "$DB_USER" -p"$DB_PASSWORD" -N -B "$DB_NAME" "$@"; }
mariadb --no-defaults -S "$SLUICE_TEST_MARIADB_ROOT_SOCKET" -u root -N -B -e \
  "CREATE DATABASE IF NOT EXISTS $DB_NAME CHARACTER SET utf8mb4;
   GRANT ALL PRIVILEGES ON $DB_NAME.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost'"
export AWS_ACCESS_KEY_ID=$SLUICE_TEST_RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$SLUICE_TEST_RGW_SECRET_KEY \
       AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null \
       AWS_SHARED_CREDENTIALS_FILE=/dev/null
drop_objects() {
  /usr/bin/aws --endpoint-url "$SLUICE_TEST_RGW_ENDPOINT" s3 rm --recursive "s3://$BUCKET/$PREFIX" \
    --only-show-errors >/dev/null 2>&1 || true
  [[ -z ${RGW_DIR:-} ]] || radosgw-admin -c "$RGW_DIR/ceph.conf" gc process --include-all >/dev/null 2>&1 || true
}
reset_db() { sql -e "DROP TABLE IF EXISTS big_up; DELETE FROM sluice_uploads; DELETE FROM sluice_tables" \
               2>/dev/null || true; }

# The file: rows for GB gigabytes at sluice gen's ~120 bytes a row.
per_row=$(( $("$SLUICE" gen --rows 10000 | wc -c) / 10000 ))
rows=$(( GB * 1000000000 / per_row ))
file=$BENCH_DIR/gen-$rows.csv
[[ -s $file ]] || { echo "# generating $file ($rows rows)" >&2; "$SLUICE" gen --rows "$rows" >"$file"; }
bytes=$(stat -c %s "$file")

write_upload_bench_conf "$WORK/sluice.conf" "memory_budget = $BUDGET"
reset_db
drop_objects
"$SLUICE" serve --config "$WORK/sluice.conf" 2>"$WORK/serve.log" &
SERVER_PID=$!
URL=http://127.0.0.1:$BENCH_PORT
for _ in $(seq 100); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/uploads?limit=1") == 200 ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
  sleep 0.1
done
status_kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$SERVER_PID/status"; }
before=$(status_kib VmRSS)
echo "# $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $SLUICE; $(( bytes / 1000000 )) MB ($rows rows)," \
     "memory_budget $BUDGET"

# Sample VmRSS while the upload runs (the peak itself comes from VmHWM).
( max=0
  while kill -0 "$SERVER_PID" 2>/dev/null && [[ ! -e $WORK/done ]]; do
    r=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
    (( r > max )) && max=$r && echo "$max" >"$WORK/max_rss"
    sleep 0.5
  done ) &
sampler=$!
t0=$(date +%s.%N)
code=$(curl -sS -o "$WORK/record.json" -w '%{http_code}' -F "file=@$file;filename=big.csv" "$URL/v1/uploads?table=big_up")
t1=$(date +%s.%N)
touch "$WORK/done"
wait "$sampler"
[[ $code == 201 ]] || { echo "upload answered $code: $(head -c 2000 "$WORK/record.json")" >&2; exit 1; }
loaded=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['rows_loaded'])" "$WORK/record.json")
hwm=$(status_kib VmHWM)
limit_kib=$(( (budget_bytes >> 10) + 65536 ))
seconds=$(echo "$t1 - $t0" | bc -l)
printf 'upload: %d rows loaded in %.1f s, %.1f MB/s\n' "$loaded" "$seconds" "$(echo "$bytes / 1000000 / $seconds" | bc -l)"
printf 'RSS before %d MiB; peak (VmHWM) %d MiB; highest sampled VmRSS %d MiB; budget %d MiB + 64 MiB = %d MiB: %s\n' \
  $(( before >> 10 )) $(( hwm >> 10 )) $(( $(cat "$WORK/max_rss" 2>/dev/null || echo 0) >> 10 )) \
  $(( budget_bytes >> 20 )) $(( limit_kib >> 10 )) "$( (( hwm < limit_kib )) && echo UNDER || echo OVER)"
reset_db
drop_objects
