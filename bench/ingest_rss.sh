#!/usr/bin/env bash
# bench/ingest_rss.sh [GIB] — sluice's peak RSS must stay flat as files grow:
# `sluice ingest` of a small generated file (100k rows) and of a ~GIB GiB one
# (default 2; `sluice gen` rows, ~123 bytes each) into the same server, each
# measured with /usr/bin/time -v (ru_maxrss, the kernel's high-water mark of
# the process). Issue 4's target: < 256 MiB for a 2 GB file. Prints both
# figures, the rows/s and PASS/FAIL; exits 1 on FAIL.
#
# Environment as bench/ingest_e2e.sh: the database from tests/env/mariadb.sh
# (SLUICE_TEST_MARIADB_*), SLUICE (the binary; default: the first of
# build-rel, build), BENCH_DIR (default /tmp/sluice-bench), S3=1 to also keep
# the S3 copy (needs SLUICE_TEST_RGW_*; the object is deleted afterwards),
# KEEP=1 to keep the big file (it is deleted otherwise: check `df` first —
# the file, plus the table in the database's data directory, ~2.5× GIB).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GIB=${1:-2}
LIMIT_MIB=256
BENCH_DIR=${BENCH_DIR:-/tmp/sluice-bench}
if [[ -z ${SLUICE:-} ]]; then
  for candidate in build-rel build; do
    [[ -x $ROOT/$candidate/src/sluice ]] && SLUICE=$ROOT/$candidate/src/sluice && break
  done
fi
[[ -x ${SLUICE:-} ]] || { echo "no sluice binary: set SLUICE=" >&2; exit 2; }
: "${SLUICE_TEST_MARIADB_PORT:?run eval \"\$(tests/env/mariadb.sh env DIR PORT)\" first}"
DB_HOST=${SLUICE_TEST_MARIADB_HOST:-127.0.0.1}
DB_USER=${SLUICE_TEST_MARIADB_USER:-sluice}
DB_PASSWORD=${SLUICE_TEST_MARIADB_PASSWORD:-sluice}
DB_NAME=sluice_bench
mkdir -p "$BENCH_DIR"

sql() { mariadb --no-defaults -h "$DB_HOST" -P "$SLUICE_TEST_MARIADB_PORT" -u "$DB_USER" -p"$DB_PASSWORD" -N -B "$@"; }
mariadb --no-defaults -S "$SLUICE_TEST_MARIADB_ROOT_SOCKET" -u root -N -B -e \
  "CREATE DATABASE IF NOT EXISTS $DB_NAME CHARACTER SET utf8mb4;
   GRANT ALL PRIVILEGES ON $DB_NAME.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost'"
export SLUICE_MARIADB_HOST=$DB_HOST SLUICE_MARIADB_PORT=$SLUICE_TEST_MARIADB_PORT SLUICE_MARIADB_USER=$DB_USER \
       SLUICE_MARIADB_PASSWORD=$DB_PASSWORD SLUICE_MARIADB_DATABASE=$DB_NAME SLUICE_LOG_LEVEL=warn
s3_args=(--no-s3)
if [[ ${S3:-0} == 1 ]]; then
  : "${SLUICE_TEST_RGW_ENDPOINT:?S3=1 needs SLUICE_TEST_RGW_* (tests/env/rgw.sh env)}"
  export SLUICE_S3_ENDPOINT=$SLUICE_TEST_RGW_ENDPOINT SLUICE_S3_ACCESS_KEY=$SLUICE_TEST_RGW_ACCESS_KEY \
         SLUICE_S3_SECRET_KEY=$SLUICE_TEST_RGW_SECRET_KEY SLUICE_S3_BUCKET=${SLUICE_TEST_RGW_BUCKET:-sluice-test} \
         SLUICE_S3_PATH_STYLE=true SLUICE_S3_PREFIX=bench/
  s3_args=()
fi
drop() { sql "$DB_NAME" -e "DROP TABLE IF EXISTS rss_small, rss_big; DELETE FROM sluice_uploads; DELETE FROM sluice_tables" \
           2>/dev/null || true; }
drop_object() {
  [[ ${S3:-0} == 1 && -x /usr/bin/aws ]] || return 0
  local key
  key=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['s3']['key'])" "$BENCH_DIR/rss-record.json") || return 0
  AWS_ACCESS_KEY_ID=$SLUICE_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$SLUICE_S3_SECRET_KEY AWS_DEFAULT_REGION=us-east-1 \
    AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    /usr/bin/aws --endpoint-url "$SLUICE_S3_ENDPOINT" s3 rm "s3://$SLUICE_S3_BUCKET/$key" >/dev/null 2>&1 || true
}

# `sluice ingest FILE --table T`: prints "seconds peak_rss_kib".
measure() {
  local file=$1 table=$2 log=$BENCH_DIR/rss-time.log t0 t1
  t0=$(date +%s.%N)
  if ! /usr/bin/time -v "$SLUICE" ingest "$file" "${s3_args[@]}" --table "$table" >"$BENCH_DIR/rss-record.json" 2>"$log"; then
    cat "$log" >&2; exit 1
  fi
  t1=$(date +%s.%N)
  drop_object
  echo "$(echo "$t1 - $t0" | bc -l) $(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")"
}

small=$BENCH_DIR/rss-100000.csv
"$SLUICE" gen --rows 100000 >"$small"
# ~123.4 bytes per generated row (bench/ingest_results.md).
big_rows=$(( GIB * 1073741824 / 1234 * 10 ))
big=$BENCH_DIR/rss-$big_rows.csv
[[ -s $big ]] || "$SLUICE" gen --rows "$big_rows" >"$big"
trap '[[ ${KEEP:-0} == 1 ]] || rm -f "$big"; rm -f "$small"' EXIT

echo "load: $(uptime | sed 's/.*load average: //')"
printf '%-12s %10s %12s %9s %11s %13s\n' file rows bytes seconds rows/s peak_RSS
for which in small big; do
  drop
  if [[ $which == small ]]; then file=$small rows=100000 table=rss_small; else file=$big rows=$big_rows table=rss_big; fi
  read -r s kib < <(measure "$file" "$table")
  printf '%-12s %10d %12d %9.1f %11.0f %9.1f MiB\n' "$which" "$rows" "$(stat -c %s "$file")" "$s" \
    "$(echo "$rows / $s" | bc -l)" "$(echo "$kib / 1024" | bc -l)"
  [[ $which == big ]] && big_kib=$kib
done
drop
echo "load: $(uptime | sed 's/.*load average: //')"
if (( big_kib < LIMIT_MIB * 1024 )); then
  echo "PASS: peak RSS $((big_kib / 1024)) MiB < $LIMIT_MIB MiB for the $GIB GiB file"
else
  echo "FAIL: peak RSS $((big_kib / 1024)) MiB >= $LIMIT_MIB MiB for the $GIB GiB file"; exit 1
fi
