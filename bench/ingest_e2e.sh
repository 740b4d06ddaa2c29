#!/usr/bin/env bash
# bench/ingest_e2e.sh [ROWS…] — `sluice ingest` end to end against
# `LOAD DATA LOCAL INFILE` of the same file with the `mariadb` client, in the
# same run, on the same server (issue 4's benchmark; rows/s, MB/s, peak RSS).
#
# For each ROWS (default: 1000000 4000000) a `sluice gen` file is made (kept
# in $BENCH_DIR for later runs), then, RUNS times each (median reported):
#   load_text    LOAD DATA LOCAL INFILE into a table of TEXT columns
#   load_typed   LOAD DATA LOCAL INFILE into a table of the types sluice
#                inferred (empty fields NULLIF'd, as a user would write it)
#   sluice_text  sluice ingest --types text --no-s3   (same work as load_text)
#   sluice       sluice ingest --no-s3                (inference, typed table)
#   sluice_s3    sluice ingest with the S3 copy       (only with SLUICE_TEST_RGW_*)
# sluice's peak RSS comes from /usr/bin/time -v; it must not grow with the file.
# Also per method: the CPU seconds mariadbd spent (from /proc, when the server
# runs here) and the client's own (sluice or the `mariadb` client) — on a
# shared box whose cores are busy, wall time follows total CPU more than
# parallelism; the ratios compare the wall times of the same run. The script
# prints the load average and the server settings that matter with them.
#
# Environment: the database from tests/env/mariadb.sh (`eval "$(tests/env/
# mariadb.sh env DIR PORT)"`, SLUICE_TEST_MARIADB_*); S3 from tests/env/rgw.sh
# (SLUICE_TEST_RGW_*, optional); SLUICE = the binary (default: the first of
# build-pipe-rel, build-rel, build — use a Release build); BENCH_DIR (default
# /tmp/sluice-bench); RUNS (default 1). Run-to-run noise here is ±30%
# (ENVIRONMENT.md): compare within one run.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROWS=("$@")
(( ${#ROWS[@]} )) || ROWS=(1000000 4000000)
RUNS=${RUNS:-1}
BENCH_DIR=${BENCH_DIR:-/tmp/sluice-bench}
if [[ -z ${SLUICE:-} ]]; then
  for candidate in build-pipe-rel build-rel build; do
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

sql() { mariadb --no-defaults -h "$DB_HOST" -P "$SLUICE_TEST_MARIADB_PORT" -u "$DB_USER" -p"$DB_PASSWORD" \
          --local-infile=1 -N -B "$@"; }
root_sql() { mariadb --no-defaults -S "$SLUICE_TEST_MARIADB_ROOT_SOCKET" -u root -N -B "$@"; }
root_sql -e "CREATE DATABASE IF NOT EXISTS $DB_NAME CHARACTER SET utf8mb4;
  GRANT ALL PRIVILEGES ON $DB_NAME.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost'"

export SLUICE_MARIADB_HOST=$DB_HOST SLUICE_MARIADB_PORT=$SLUICE_TEST_MARIADB_PORT SLUICE_MARIADB_USER=$DB_USER \
       SLUICE_MARIADB_PASSWORD=$DB_PASSWORD SLUICE_MARIADB_DATABASE=$DB_NAME SLUICE_LOG_LEVEL=warn
if [[ -n ${SLUICE_TEST_RGW_ENDPOINT:-} ]]; then
  export SLUICE_S3_ENDPOINT=$SLUICE_TEST_RGW_ENDPOINT SLUICE_S3_ACCESS_KEY=$SLUICE_TEST_RGW_ACCESS_KEY \
         SLUICE_S3_SECRET_KEY=$SLUICE_TEST_RGW_SECRET_KEY SLUICE_S3_BUCKET=${SLUICE_TEST_RGW_BUCKET:-sluice-test} \
         SLUICE_S3_PATH_STYLE=true SLUICE_S3_PREFIX=bench/
fi

now() { date +%s.%N; }
# mariadbd's pid when it runs on this machine (tests/env/mariadb.sh keeps it beside the socket).
DB_PID=$(cat "$(dirname "${SLUICE_TEST_MARIADB_SOCKET:-/nonexistent/x}")/mysqld.pid" 2>/dev/null || true)
[[ -n $DB_PID && -r /proc/$DB_PID/stat ]] || DB_PID=
db_cpu() { [[ -n $DB_PID ]] && awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$DB_PID/stat" || echo 0; }
# Deletes the S3 copy the last run made (RGW on memstore keeps objects in RAM).
drop_object() {
  [[ -x /usr/bin/aws ]] || return 0
  local key
  key=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['s3']['key'])" "$BENCH_DIR/record.json") || return 0
  AWS_ACCESS_KEY_ID=$SLUICE_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$SLUICE_S3_SECRET_KEY AWS_DEFAULT_REGION=us-east-1 \
    AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    /usr/bin/aws --endpoint-url "$SLUICE_S3_ENDPOINT" s3 rm "s3://$SLUICE_S3_BUCKET/$key" >/dev/null 2>&1 || true
}
declare -A med=()
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
reset_db() { sql "$DB_NAME" -e "DROP TABLE IF EXISTS ld_text, ld_typed, s_text, s_typed, s_s3;
  DELETE FROM sluice_uploads; DELETE FROM sluice_tables" 2>/dev/null || true; }

# `sluice ingest FILE ARGS…`: prints "seconds peak_rss_kb own_cpu_s"; fails loudly on a failed upload.
run_sluice() {
  local file=$1; shift
  local log=$BENCH_DIR/time.log out=$BENCH_DIR/record.json
  local t0 t1
  t0=$(now)
  if ! /usr/bin/time -v "$SLUICE" ingest "$file" "$@" >"$out" 2>"$log"; then
    cat "$log" >&2; exit 1
  fi
  t1=$(now)
  echo "$(echo "$t1 - $t0" | bc -l) $(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")" \
       "$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$log")"
}
# The `mariadb` client running one statement: prints "seconds own_cpu_s".
run_client() {
  local log=$BENCH_DIR/client-time.log t0 t1
  t0=$(now)
  /usr/bin/time -f '%U %S' -o "$log" mariadb --no-defaults -h "$DB_HOST" -P "$SLUICE_TEST_MARIADB_PORT" -u "$DB_USER" \
    -p"$DB_PASSWORD" --local-infile=1 -N -B "$DB_NAME" -e "$1"
  t1=$(now)
  echo "$(echo "$t1 - $t0" | bc -l) $(awk '{print $1 + $2}' "$log")"
}

echo "load average before: $(uptime | sed 's/.*load average: //')"
echo "server: $(sql -e "SELECT CONCAT(@@version, ', innodb_buffer_pool_size ', @@innodb_buffer_pool_size DIV 1048576,
  'M, innodb_log_file_size ', @@innodb_log_file_size DIV 1048576, 'M, innodb_flush_log_at_trx_commit ',
  @@innodb_flush_log_at_trx_commit, ', max_allowed_packet ', @@max_allowed_packet DIV 1048576, 'M')")"
echo "sluice: $("$SLUICE" --version 2>/dev/null | head -1), [mariadb] pool_size ${SLUICE_MARIADB_POOL_SIZE:-4} (loads in flight), [server] workers ${SLUICE_SERVER_WORKERS:-0} (0 = one per core, $(nproc) here)"
printf '%-9s %-12s %8s %11s %8s %10s %8s %8s\n' rows method seconds rows/s MB/s peak_RSS db_cpu own_cpu
for rows in "${ROWS[@]}"; do
  file=$BENCH_DIR/gen-$rows.csv
  [[ -s $file ]] || "$SLUICE" gen --rows "$rows" >"$file"
  mb=$(echo "$(stat -c %s "$file") / 1048576" | bc -l)
  header=$(head -1 "$file")
  IFS=, read -r -a cols <<<"$header"
  text_cols=$(printf '`%s` TEXT, ' "${cols[@]}"); text_cols=${text_cols%, }
  declare -A times=() rss=() own_cpu=() dbc=()
  for ((run = 1; run <= RUNS; run++)); do
    for method in sluice_text sluice load_text load_typed ${SLUICE_S3_ENDPOINT:+sluice_s3}; do
      reset_db
      case $method in
        load_text)
          sql "$DB_NAME" -e "CREATE TABLE ld_text ($text_cols) CHARACTER SET utf8mb4"
          c0=$(db_cpu)
          read -r s own < <(run_client "LOAD DATA LOCAL INFILE '$file' INTO TABLE ld_text CHARACTER SET utf8mb4
            FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\n' IGNORE 1 LINES")
          times[$method]+="$s "; own_cpu[$method]+="$own "; dbc[$method]+="$(echo "$(db_cpu) - $c0" | bc -l) " ;;
        load_typed)
          # The types sluice inferred for this file, as a user would declare them.
          run_sluice "$file" --no-s3 --table s_typed >/dev/null
          sql "$DB_NAME" -e "CREATE TABLE ld_typed AS SELECT $(printf '`%s`,' "${cols[@]}" | sed 's/,$//') FROM s_typed LIMIT 0"
          vars=$(for i in "${!cols[@]}"; do printf '@v%d,' "$i"; done); vars=${vars%,}
          sets=$(for i in "${!cols[@]}"; do printf '`%s` = NULLIF(@v%d, %s),' "${cols[$i]}" "$i" "''"; done); sets=${sets%,}
          sql "$DB_NAME" -e "DROP TABLE s_typed"
          c0=$(db_cpu)
          read -r s own < <(run_client "LOAD DATA LOCAL INFILE '$file' INTO TABLE ld_typed CHARACTER SET utf8mb4
            FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\n' IGNORE 1 LINES ($vars) SET $sets")
          times[$method]+="$s "; own_cpu[$method]+="$own "; dbc[$method]+="$(echo "$(db_cpu) - $c0" | bc -l) " ;;
        sluice_text) c0=$(db_cpu); read -r s kb own < <(run_sluice "$file" --no-s3 --types text --table s_text) ;;
        sluice) c0=$(db_cpu); read -r s kb own < <(run_sluice "$file" --no-s3 --table s_typed) ;;
        sluice_s3) c0=$(db_cpu); read -r s kb own < <(run_sluice "$file" --table s_s3)
          drop_object ;;
      esac
      case $method in
        sluice*) times[$method]+="$s "; rss[$method]+="$kb "; own_cpu[$method]+="$own "
          dbc[$method]+="$(echo "$(db_cpu) - $c0" | bc -l) " ;;
      esac
    done
  done
  for method in load_text load_typed sluice_text sluice ${SLUICE_S3_ENDPOINT:+sluice_s3}; do
    s=$(tr ' ' '\n' <<<"${times[$method]}" | grep . | median)
    r=${rss[$method]:-}
    [[ -n $r ]] && r="$(( $(tr ' ' '\n' <<<"$r" | grep . | median) / 1024 )) MiB" || r=-
    printf '%-9s %-12s %8.2f %11.0f %8.1f %10s %8.2f %8.2f\n' "$rows" "$method" "$s" "$(echo "$rows / $s" | bc -l)" \
      "$(echo "$mb / $s" | bc -l)" "$r" "$(tr ' ' '\n' <<<"${dbc[$method]}" | grep . | median)" \
      "$(tr ' ' '\n' <<<"${own_cpu[$method]}" | grep . | median)"
    med[$method]=$s
  done
  printf '%-9s ratio sluice/LOAD DATA (wall time, >1: sluice faster): text %.2f, typed %.2f\n' "$rows" \
    "$(echo "${med[load_text]} / ${med[sluice_text]}" | bc -l)" "$(echo "${med[load_typed]} / ${med[sluice]}" | bc -l)"
  unset times rss own_cpu dbc
done
reset_db
echo "load average after: $(uptime | sed 's/.*load average: //')"
