#!/usr/bin/env bash
# bench/query_bench.sh [ROWS] — the query API's latency on a generated table,
# each figure next to the same SQL run directly in the same session.
#
# What: starts (or reuses) a private mariadbd (tests/env/mariadb.sh), loads
# `sluice gen --rows ROWS` (default 10,000,000) into table `bench` with
# `sluice ingest` (once; reused while the row count matches), adds an index on
# `date` through POST /v1/tables/bench/indexes, runs `sluice serve`, and for
#   (a) page 1                     /rows?limit=100
#   (b) a page at offset ROWS/2    /rows?limit=100&offset=…   vs the same page by cursor
#   (c) a filtered + sorted page   /rows?date=gte:…&sort=date:desc&limit=100  (indexed)
#       and without an index       /rows?city=…&sort=amount:desc&limit=100
#   (d) an aggregate               /aggregate?group_by=city&sum=amount&count=true
# measures p50/p99 with `wrk -t1 -c1 --latency` (one client: latency, not
# throughput) and the SQL sluice ran for it (read from its debug log, with the
# SET STATEMENT max_statement_time prefix) two ways: with bench_query_sql — the
# mariadb client's library, mysql_real_query + mysql_use_result + every row
# read, on one connection (p50/p99) — and with the `mariadb` command-line
# client itself, in one session, so its process start is not counted: p50/p99
# per statement from the server's clock read between runs (cli_p50_ms: each
# run sits between two `SELECT SYSDATE(6)` markers, whose own round trip is
# measured alone and taken off), and the mean over one session running it N
# times (--batch --quick, output to /dev/null; wall time less an empty
# session's, / N). The HTTP floor — GET /healthz through the same server and
# wrk — is printed first: no answer can come back faster. Page 1 is then also
# measured with 8 connections (wrk -t2 -c8: throughput with some
# concurrency). Then streams
# 1,000,000 rows as CSV (curl, to /dev/null) and
# reports MB/s next to the same SELECT read by the client library, and the
# `mariadb --batch` client writing the same rows as TSV.
# Run-to-run noise on a shared 2-core box is ±30% (ENVIRONMENT.md); wrk and
# MariaDB share the cores with sluice.
#
# Env: SLUICE_BENCH_BUILD (a Release build dir with src/sluice and
# bench/bench_query_sql; default build-query-rel), SLUICE_BENCH_DIR
# (/tmp/sluice-bench-query), SLUICE_BENCH_PORT (33112, MariaDB),
# SLUICE_BENCH_HTTP_PORT (18632), DURATION (wrk, 10s), RUNS (SQL runs of a
# statement slower than 0.1 s, 30; one stops after 60 s once 3 ran; faster
# ones run for as long as wrk did), KEEP_DB (0: stop the server at
# the end if this script started it), QUERIES (only these rows of the table,
# by number from 0, e.g. "0 2 3"; default all), CSV (0: skip the streaming),
# BUFFER_POOL (2G: innodb_buffer_pool_size set before measuring; 0 keeps it),
# TRANSPORT (socket: every client — sluice, the library, the CLI — reaches
# MariaDB over its Unix socket, the usual same-host set-up; tcp: 127.0.0.1).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SLUICE_BENCH_BUILD:-$ROOT/build-query-rel}
DIR=${SLUICE_BENCH_DIR:-/tmp/sluice-bench-query}
PORT=${SLUICE_BENCH_PORT:-33112}
HTTP_PORT=${SLUICE_BENCH_HTTP_PORT:-18632}
ROWS=${1:-10000000}
DURATION=${DURATION:-10s}
RUNS=${RUNS:-30}
KEEP_DB=${KEEP_DB:-0}
TRANSPORT=${TRANSPORT:-socket}

SLUICE=$BUILD/src/sluice
SQLBENCH=$BUILD/bench/bench_query_sql
for binary in "$SLUICE" "$SQLBENCH"; do
  [[ -x $binary ]] || { echo "missing $binary: cmake -S $ROOT -B $BUILD -DCMAKE_BUILD_TYPE=Release && make -C $BUILD sluice bench_query_sql" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
mkdir -p "$DIR"

started_db=0
if ! mariadb-admin --no-defaults --socket="$DIR/db/mysqld.sock" --user=root ping >/dev/null 2>&1; then
  started_db=1
fi
"$ROOT/tests/env/mariadb.sh" start "$DIR/db" "$PORT" >&2
eval "$("$ROOT/tests/env/mariadb.sh" env "$DIR/db" "$PORT")"
# MariaDB's buffer pool: sized for the rows read (a server holding a 10M-row
# table is given memory for it; the 128M default makes every reader of 1M rows
# mostly copy pages from the OS cache). BUFFER_POOL=0 keeps the server's own.
BUFFER_POOL=${BUFFER_POOL:-2G}
if [[ $BUFFER_POOL != 0 ]]; then
  mariadb --no-defaults -S "$DIR/db/mysqld.sock" -uroot -e "SET GLOBAL innodb_buffer_pool_size = $(numfmt --from=iec "$BUFFER_POOL")"
fi
echo "innodb_buffer_pool_size: $(mariadb --no-defaults -S "$DIR/db/mysqld.sock" -uroot -N -e 'SELECT @@innodb_buffer_pool_size' | numfmt --to=iec)"
# How every client reaches MariaDB — sluice, the client library and the
# `mariadb` CLI alike: its Unix socket (the usual same-host set-up, and what
# the conf's [mariadb] socket is for) or TCP on 127.0.0.1.
case $TRANSPORT in
  socket) CONF_DB="socket = $SLUICE_TEST_MARIADB_SOCKET"; CLI_DB=(-S "$SLUICE_TEST_MARIADB_SOCKET");
          LIB_DB=(--socket "$SLUICE_TEST_MARIADB_SOCKET") ;;
  tcp) CONF_DB="host = 127.0.0.1"$'\n'"port = $PORT"; CLI_DB=(-h 127.0.0.1 -P "$PORT"); LIB_DB=(--host 127.0.0.1 --port "$PORT") ;;
  *) echo "TRANSPORT is socket or tcp" >&2; exit 2 ;;
esac
DB=sluice
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [[ $started_db == 1 && $KEEP_DB == 0 ]]; then "$ROOT/tests/env/mariadb.sh" stop "$DIR/db" "$PORT" >&2 || true; fi
}
trap cleanup EXIT

sql() {
  mariadb --no-defaults --default-character-set=utf8mb4 --batch --skip-column-names "${CLI_DB[@]}" -u "$SLUICE_TEST_MARIADB_USER" \
    -p"$SLUICE_TEST_MARIADB_PASSWORD" "$DB" "$@"
}

write_conf() {  # $1 = log level
  cat >"$DIR/sluice.conf" <<EOF
[server]
listen = 127.0.0.1:$HTTP_PORT
max_page_rows = 1000000
[mariadb]
$CONF_DB
user = $SLUICE_TEST_MARIADB_USER
password = $SLUICE_TEST_MARIADB_PASSWORD
database = $DB
pool_size = 4
max_statement_time = 120s
[s3]
endpoint = http://127.0.0.1:9
[log]
level = $1
EOF
}

start_server() {  # $1 = log level
  write_conf "$1"
  "$SLUICE" serve --config "$DIR/sluice.conf" 2>"$DIR/serve.log" &
  server_pid=$!
  for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$HTTP_PORT/v1/tables" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$DIR/serve.log" >&2
  echo "sluice serve did not become ready" >&2
  exit 1
}

stop_server() {
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
}

# ---- the table ---------------------------------------------------------------
write_conf warn
have=$(sql -e "SELECT row_count FROM sluice_tables WHERE name = 'bench'" 2>/dev/null || true)
if [[ $have != "$ROWS" ]]; then
  echo "loading $ROWS generated rows into table bench (once)…" >&2
  start=$(date +%s.%N)
  "$SLUICE" gen --rows "$ROWS" | "$SLUICE" ingest - --table bench --mode replace --no-s3 --filename bench.csv \
    -c "$DIR/sluice.conf" >"$DIR/ingest.json"
  echo "loaded in $(echo "$(date +%s.%N) - $start" | bc) s" >&2
fi

B="http://127.0.0.1:$HTTP_PORT/v1/tables/bench"
HALF=$((ROWS / 2))
start_server debug
if ! sql -e "SHOW INDEX FROM bench" | grep -q sluice_ix_; then
  echo "indexing bench(date)…" >&2
  curl -sf -X POST -H 'Content-Type: application/json' -d '{"columns":["date"]}' "$B/indexes" >&2; echo >&2
fi
cursor=$(curl -sf "$B/rows?select=id&limit=100&offset=$((HALF - 100))" |
  sed -n 's/.*"next_cursor":"\([^"]*\)".*/\1/p')
[[ -n $cursor ]] || { echo "no cursor for row $HALF" >&2; exit 1; }
city=$(sql -e "SELECT city FROM bench WHERE _row = 1")
city_q=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$city")

names=("a page 1" "b offset $HALF" "b cursor at $HALF" "c filter+sort (index)" "c filter+sort (no index)"
       "d aggregate")
paths=("/rows?limit=100"
       "/rows?limit=100&offset=$HALF"
       "/rows?limit=100&cursor=$cursor"
       "/rows?date=gte:2020-01-01&sort=date:desc&limit=100"
       "/rows?city=$city_q&sort=amount:desc&limit=100"
       "/aggregate?group_by=city&sum=amount&count=true")
# One request each with the debug log on: the SQL sluice runs, in order, and
# how long one takes (wrk then runs at least 3 of them).
: >"$DIR/serve.log.sql"
durations=()
first_seconds=()
j=0
for p in "${paths[@]}"; do
  j=$((j + 1))
  if [[ -n ${QUERIES:-} && " $QUERIES " != *" $((j - 1)) "* ]]; then
    durations+=(0)
    first_seconds+=(0)
    echo "(skipped)" >>"$DIR/serve.log.sql"
    continue
  fi
  before=$(grep -c '\[query\] req=' "$DIR/serve.log" || true)
  seconds=$(curl -sf -o /dev/null -w '%{time_total}' "$B$p")
  first_seconds+=("$seconds")
  durations+=("$(echo "d = $seconds * 3 + 1; if (d < ${DURATION%s}) d = ${DURATION%s}; scale = 0; d / 1" | bc)")
  for _ in $(seq 50); do
    now=$(grep -c '\[query\] req=' "$DIR/serve.log" || true)
    [[ $now -gt $before ]] && break
    sleep 0.1
  done
  grep '\[query\] req=' "$DIR/serve.log" | tail -1 | sed 's/.*\[query\] req=[^ ]* //' >>"$DIR/serve.log.sql"
done
stop_server
start_server warn
# Cursors are signed with a per-process key here (no jwt_secret): ask the
# server that is measured for its own.
cursor=$(curl -sf "$B/rows?select=id&limit=100&offset=$((HALF - 100))" |
  sed -n 's/.*"next_cursor":"\([^"]*\)".*/\1/p')
paths[2]="/rows?limit=100&cursor=$cursor"
curl -sf -o /dev/null "$B${paths[2]}" || { echo "the cursor page failed" >&2; exit 1; }

wrk_latency() {  # URL seconds → "p50 p99 non-2xx" (ms, ms, count)
  wrk -t1 -c1 -d"$2s" --timeout 300s --latency "$1" </dev/null 2>&1 | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) } /Non-2xx/ { bad = $NF }
    END { printf "%.3f %.3f %d\n", p50, p99, bad }'
}

# The `mariadb` client: mean ms per statement over one session of $2 runs.
cli_mean_ms() {  # SQL runs
  local statements="" k
  for ((k = 0; k < $2; ++k)); do statements+="$1;"$'\n'; done
  local empty=0 start end
  for k in 1 2 3; do
    start=$(date +%s.%N); sql --quick -e "DO 0" >/dev/null; end=$(date +%s.%N)
    empty=$(echo "$empty + ($end - $start) / 3" | bc -l)
  done
  start=$(date +%s.%N)
  sql --quick <<<"$statements" >/dev/null
  end=$(date +%s.%N)
  echo "(($end - $start) - $empty) * 1000 / $2" | bc -l
}

# The `mariadb` client, per statement, in one session (no process start):
# the statement runs N times, each run between two markers `SELECT '@ts',
# SYSDATE(6)` (the server's clock when the marker runs). The gap between two
# markers is one client round of the statement — sent, run, every row read
# and printed (--batch --quick, to a file) — plus one marker's own round,
# which is measured the same way with nothing between markers; its median is
# taken off. Prints "p50 p99 mean" in ms over the N runs.
cli_p50_ms() {  # SQL runs
  local marker="SELECT '@ts', SYSDATE(6);" statements="" bare="" k
  for ((k = 0; k < $2; ++k)); do
    statements+="$marker"$'\n'"$1;"$'\n'
    bare+="$marker"$'\n'
  done
  statements+="$marker"
  bare+="$marker"
  sql --quick <<<"$bare" >"$DIR/cli.bare.out"
  sql --quick <<<"$statements" >"$DIR/cli.out"
  python3 - "$DIR/cli.bare.out" "$DIR/cli.out" <<'PY'
import sys, datetime
def stamps(path):
    out = []
    for line in open(path, encoding="utf-8", errors="replace"):
        if line.startswith("@ts\t"):
            out.append(datetime.datetime.strptime(line.split("\t")[1].strip(), "%Y-%m-%d %H:%M:%S.%f").timestamp())
    return [b - a for a, b in zip(out, out[1:])]
bare = sorted(stamps(sys.argv[1]))
runs = sorted(d - bare[len(bare) // 2] for d in stamps(sys.argv[2]))
at = lambda q: runs[min(len(runs) - 1, int(q * len(runs)))] * 1000
print(f"{at(0.5):.3f} {at(0.99):.3f} {sum(runs) / len(runs) * 1000:.3f}")
PY
}

limit_ms=$(awk '/max_statement_time/ { v = $3; sub(/s$/, "", v); print v * 1000 }' "$DIR/sluice.conf")
echo "load before: $(uptime | sed 's/.*load average: //')"
# The floor of any HTTP answer here: the same server and wrk, no database.
read -r floor50 floor99 _ < <(wrk_latency "http://127.0.0.1:$HTTP_PORT/healthz" "${DURATION%s}")
printf 'HTTP floor: GET /healthz (wrk -t1 -c1) p50 %.3f ms, p99 %.3f ms\n' "$floor50" "$floor99"
printf '\n%-26s %11s %11s   %11s %11s %7s   %11s %11s %7s   %11s\n' "query ($ROWS rows)" "sluice p50" "p99" \
  "SQL p50" "p99" "ratio" "mariadb p50" "p99" "ratio" "mariadb mean"
i=0
while IFS= read -r statement; do
  if [[ -n ${QUERIES:-} && " $QUERIES " != *" $i "* ]]; then i=$((i + 1)); continue; fi
  read -r http50 http99 bad < <(wrk_latency "$B${paths[$i]}" "${durations[$i]}")
  if [[ $bad -gt 0 ]]; then
    echo "${names[$i]}: $bad answers were not 200 (max_statement_time?): $(curl -s "$B${paths[$i]}" | head -c 300)"
  fi
  full="SET STATEMENT max_statement_time=$((limit_ms / 1000)).000 FOR $statement"
  # A fast statement runs as long as wrk ran (thousands of runs, so its p50
  # and p99 are as steady as wrk's); a slow one RUNS times (60 s budget).
  runs=(--runs "$RUNS")
  if [[ $(echo "${first_seconds[$i]} < 0.1" | bc) == 1 ]]; then runs=(--runs 1000000 --budget "${durations[$i]}"); fi
  line=$("$SQLBENCH" "${LIB_DB[@]}" --user "$SLUICE_TEST_MARIADB_USER" \
    --password "$SLUICE_TEST_MARIADB_PASSWORD" --database "$DB" "${runs[@]}" --sql "$full" </dev/null)
  sql50=$(sed -n 's/.*p50=\([0-9.]*\)ms.*/\1/p' <<<"$line")
  sql99=$(sed -n 's/.*p99=\([0-9.]*\)ms.*/\1/p' <<<"$line")
  cli_runs=$(echo "r = 2000 / ($sql50 + 0.05); if (r < 3) r = 3; if (r > 1000) r = 1000; scale = 0; r / 1" | bc)
  read -r cli50 cli99 cli < <(cli_p50_ms "$full" "$(( cli_runs > 300 ? 300 : cli_runs ))")
  # A fast statement's mean also from a session without markers (a slow
  # one's is the markers' mean: a second session would only double the time).
  if [[ $(echo "${first_seconds[$i]} < 1" | bc) == 1 ]]; then cli=$(cli_mean_ms "$full" "$cli_runs"); fi
  printf '%-26s %9.3fms %9.3fms   %9.3fms %9.3fms %7.2f   %9.3fms %9.3fms %7.2f   %9.3fms\n' "${names[$i]}" \
    "$http50" "$http99" "$sql50" "$sql99" "$(echo "$http50 / $sql50" | bc -l)" "$cli50" "$cli99" \
    "$(echo "$http50 / $cli50" | bc -l)" "$cli"
  i=$((i + 1))
done <"$DIR/serve.log.sql"
echo "load after: $(uptime | sed 's/.*load average: //')"

echo
wrk -t2 -c8 -d"$DURATION" --latency "$B${paths[0]}" </dev/null 2>&1 | awk '
  function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
  $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) } $1 == "Requests/sec:" { rps = $2 }
  END { printf "page 1, 8 connections (wrk -t2 -c8): %.0f req/s, p50 %.2f ms, p99 %.2f ms\n", rps, p50, p99 }'

# ---- streaming 1M rows as CSV --------------------------------------------------------
[[ ${CSV:-1} == 1 ]] || exit 0
echo
n=$((ROWS < 1000000 ? ROWS : 1000000))
# The rows are read once first (not timed), so every reader below finds them
# in the buffer pool alike — the first reader would otherwise pay the page
# reads for all of them.
curl -s -o /dev/null "$B/rows?format=csv&limit=$n"
for round in 1 2 3; do
  read -r bytes seconds < <(curl -s -o /dev/null -w '%{size_download} %{time_total}\n' "$B/rows?format=csv&limit=$n")
  printf 'sluice CSV, %d rows:          %6.1f MB in %6.3f s = %7.1f MB/s\n' "$n" "$(echo "$bytes / 1000000" | bc -l)" \
    "$seconds" "$(echo "$bytes / 1000000 / $seconds" | bc -l)"
done
select_sql="SELECT id, uuid, name, email, date, amount, quantity, code, city, _row FROM bench ORDER BY _row LIMIT $n"
"$SQLBENCH" "${LIB_DB[@]}" --user "$SLUICE_TEST_MARIADB_USER" \
  --password "$SLUICE_TEST_MARIADB_PASSWORD" --database "$DB" --runs 3 --warmup 1 --sql "$select_sql" |
  awk '{ for (i = 1; i <= NF; ++i) { split($i, kv, "="); v[kv[1]] = kv[2] } }
       END { b = v["bytes"] / 1e6; s = v["p50"] / 1000; printf "client library, same rows:   %6.1f MB (cells) in %6.3f s = %7.1f MB/s\n", b, s, b / s }'
start=$(date +%s.%N)
bytes=$(sql --quick -e "$select_sql" | wc -c)
seconds=$(echo "$(date +%s.%N) - $start" | bc -l)
printf 'mariadb --batch (TSV):       %6.1f MB in %6.3f s = %7.1f MB/s\n' "$(echo "$bytes / 1000000" | bc -l)" "$seconds" \
  "$(echo "$bytes / 1000000 / $seconds" | bc -l)"
