#!/usr/bin/env bash
# bench/ingest_load.sh [ROWS] [RUNS] — sluice's load path against the mariadb
# client's LOAD DATA LOCAL INFILE, same file, same server, same run.
#
# What: starts (or reuses) a private mariadbd (tests/env/mariadb.sh, with
# innodb_flush_log_at_trx_commit=2), writes `sluice gen --rows ROWS` to a file,
# then RUNS times, alternating, loads it
#   - with `mariadb --local-infile` LOAD DATA LOCAL INFILE into a table of
#     `_row BIGINT AUTO_INCREMENT PRIMARY KEY` + one TEXT column per CSV column
#     (the original tools' shape), and
#   - with bench_ingest_load (splitter → parse + encode on the worker pool →
#     Loader over N connections → RENAME publish) into the same shape, for
#     each N in CONNECTIONS with LOAD DATA from memory, and with multi-row
#     INSERTs at the largest N;
# with TYPED=1 also both into typed tables (BIGINT, DATE, DECIMAL, TEXT; the
# client gets NULLIF for the empty amounts, as sluice stores them).
# The first run checks that sluice's table and the client's hold the same
# values row by row. Prints median rows/s per method and the ratio to the
# client (> 1.0: sluice is faster). Run-to-run noise on a shared 2-core box is
# ±30% (ENVIRONMENT.md): compare within one run.
#
# Env: SLUICE_BENCH_BUILD (a Release build dir with sluice and
# bench_ingest_load; default build-ing-bench), SLUICE_BENCH_DIR
# (/tmp/sluice-bench-ingest), SLUICE_BENCH_PORT (33095), CONNECTIONS ("1 2 4"),
# TYPED (1), KEEP_DB (0: stop the server at the end if this script started it).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SLUICE_BENCH_BUILD:-$ROOT/build-ing-bench}
DIR=${SLUICE_BENCH_DIR:-/tmp/sluice-bench-ingest}
PORT=${SLUICE_BENCH_PORT:-33095}
ROWS=${1:-1000000}
RUNS=${2:-3}
CONNECTIONS=${CONNECTIONS:-"1 2 4"}
TYPED=${TYPED:-1}
KEEP_DB=${KEEP_DB:-0}

SLUICE=$BUILD/src/sluice
DRIVER=$BUILD/bench/bench_ingest_load
for binary in "$SLUICE" "$DRIVER"; do
  [[ -x $binary ]] || { echo "missing $binary: cmake -S $ROOT -B $BUILD -DCMAKE_BUILD_TYPE=Release && ninja -C $BUILD sluice bench_ingest_load" >&2; exit 2; }
done
mkdir -p "$DIR"

started_db=0
if ! mariadb-admin --no-defaults --socket="$DIR/db/mysqld.sock" --user=root ping >/dev/null 2>&1; then
  started_db=1
fi
"$ROOT/tests/env/mariadb.sh" start "$DIR/db" "$PORT" >&2
eval "$("$ROOT/tests/env/mariadb.sh" env "$DIR/db" "$PORT")"
cleanup() {
  if [[ $started_db == 1 && $KEEP_DB == 0 ]]; then "$ROOT/tests/env/mariadb.sh" stop "$DIR/db" "$PORT" >&2 || true; fi
}
trap cleanup EXIT

sql() {
  mariadb --no-defaults --local-infile=1 --batch --skip-column-names -h 127.0.0.1 -P "$PORT" \
    -u "$SLUICE_TEST_MARIADB_USER" -p"$SLUICE_TEST_MARIADB_PASSWORD" "$SLUICE_TEST_MARIADB_DATABASE" "$@"
}

FILE=$DIR/gen-$ROWS.csv
if [[ ! -s $FILE ]]; then
  echo "generating $ROWS rows → $FILE" >&2
  "$SLUICE" gen --rows "$ROWS" > "$FILE"
fi
BYTES=$(stat -c %s "$FILE")
HEADER=$(head -n 1 "$FILE")
IFS=, read -r -a COLUMNS <<< "$HEADER"

gen_type() {
  case $1 in
    id|quantity) echo BIGINT ;;
    date) echo DATE ;;
    amount) echo "DECIMAL(10,2)" ;;
    *) echo TEXT ;;
  esac
}

# client_load TABLE TYPED → seconds
client_load() {
  local table=$1 typed=$2 defs="" list="" set=""
  for c in "${COLUMNS[@]}"; do
    local type=TEXT
    [[ $typed == 1 ]] && type=$(gen_type "$c")
    defs+=", \`$c\` $type NULL"
    if [[ $typed == 1 && $type != TEXT ]]; then
      list+="@\`$c\`,"
      set+="\`$c\` = NULLIF(@\`$c\`, ''),"
    else
      list+="\`$c\`,"
    fi
  done
  sql -e "DROP TABLE IF EXISTS \`$table\`; CREATE TABLE \`$table\` (_row BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY$defs) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin"
  local load="LOAD DATA LOCAL INFILE '$FILE' INTO TABLE \`$table\` CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' LINES TERMINATED BY '\\n' IGNORE 1 LINES (${list%,})"
  [[ -n $set ]] && load+=" SET ${set%,}"
  local t0 t1
  t0=$(date +%s.%N)
  sql -e "$load"
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

# sluice_load TABLE METHOD CONNECTIONS TYPES → seconds (the driver's own clock)
sluice_load() {
  local table=$1 method=$2 connections=$3 types=$4 line
  sql -e "DROP TABLE IF EXISTS \`$table\`"
  line=$("$DRIVER" --file "$FILE" --table "$table" --method "$method" --connections "$connections" --types "$types")
  echo "  $line" >&2
  [[ $line == *" rows=$ROWS "* ]] || { echo "sluice loaded the wrong number of rows: $line" >&2; exit 1; }
  sed -E 's/.* seconds=([0-9.]+) .*/\1/' <<< "$line"
}

# Same values row by row (the first run only).
verify() {
  local a=$1 b=$2 cond=""
  for c in "${COLUMNS[@]}"; do cond+=" AND a.\`$c\` <=> b.\`$c\`"; done
  local counts
  counts=$(sql -e "SELECT (SELECT COUNT(*) FROM \`$a\`), (SELECT COUNT(*) FROM \`$b\`), (SELECT COUNT(*) FROM \`$a\` a JOIN \`$b\` b ON a._row = b._row${cond})")
  read -r na nb same <<< "$counts"
  if [[ $na != "$ROWS" || $nb != "$ROWS" || $same != "$ROWS" ]]; then
    echo "MISMATCH $a vs $b: rows $na / $nb, identical $same" >&2
    exit 1
  fi
  echo "  verified: $a and $b hold the same $ROWS rows" >&2
}

declare -A times
record() { times[$1]+="$2 "; }
median() { tr ' ' '\n' <<< "$1" | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

max_conn=$(tr ' ' '\n' <<< "$CONNECTIONS" | sort -n | tail -n 1)
echo "file: $FILE ($ROWS rows, $BYTES bytes, ${#COLUMNS[@]} columns); runs: $RUNS" >&2
for run in $(seq 1 "$RUNS"); do
  echo "run $run" >&2
  record "client text" "$(client_load base_text 0)"
  for n in $CONNECTIONS; do record "sluice load ×$n text" "$(sluice_load sl_text load "$n" text)"; done
  [[ $run == 1 ]] && verify base_text sl_text
  record "sluice insert ×$max_conn text" "$(sluice_load sl_text_insert insert "$max_conn" text)"
  [[ $run == 1 ]] && verify base_text sl_text_insert
  if [[ $TYPED == 1 ]]; then
    record "client typed" "$(client_load base_typed 1)"
    record "sluice load ×$max_conn typed" "$(sluice_load sl_typed load "$max_conn" gen)"
    [[ $run == 1 ]] && verify base_typed sl_typed
  fi
done
sql -e "DROP TABLE IF EXISTS base_text, sl_text, sl_text_insert, base_typed, sl_typed"

base_text=$(median "${times[client text]}")
base_typed=$( [[ $TYPED == 1 ]] && median "${times[client typed]}" || echo 0)
printf '\n%-26s %10s %12s %10s %8s\n' method seconds rows/s MB/s ratio
for key in "client text" $(for n in $CONNECTIONS; do echo "sluice_load_×${n}_text"; done) "sluice_insert_×${max_conn}_text" \
           "client typed" "sluice_load_×${max_conn}_typed"; do
  key=${key//_/ }
  [[ -n ${times[$key]:-} ]] || continue
  seconds=$(median "${times[$key]}")
  base=$base_text
  [[ $key == *typed ]] && base=$base_typed
  printf '%-26s %10.2f %12.0f %10.1f %8.2f\n' "$key" "$seconds" "$(echo "$ROWS / $seconds" | bc -l)" \
    "$(echo "$BYTES / $seconds / 1000000" | bc -l)" "$(echo "$base / $seconds" | bc -l)"
done
