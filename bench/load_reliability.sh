#!/usr/bin/env bash
# bench/load_reliability.sh [SECONDS] — issue 9's bounded load run: uploads
# and queries at once against one sluice, then every uploaded table checked.
#
# What: a private MariaDB (tests/env/mariadb.sh, 127.0.0.1:BASE) and Ceph RGW
# (tests/env/rgw.sh, :BASE+20..22), `sluice serve` on :BASE+30, four files from
# `sluice gen` (mixed sizes, ~0.5–50 MB), two tables of 50,000 rows preloaded for the
# queries, then for SECONDS (default 180):
#   - UPLOADERS (16) curl loops, each uploading one file after another (raw
#     body, streamed with -T) into a new table, half with types=text; a 503
#     (max_concurrent_uploads) is an intended answer: the uploader waits 1 s
#     and sends it again;
#   - wrk with QUERY_CLIENTS (64) connections and bench/load_queries.lua:
#     filters, sorts, keyset paging on the server's cursors, offsets,
#     aggregates, CSV/NDJSON, table and upload listings;
#   - sluice's RSS and the memory budget's used bytes (/metrics) sampled
#     every 2 s; RSS again 5 s after the last upload (idle after).
# Then: every upload answered 201 is verified — row count, and a checksum
# (SUM of CRC32 over the row's values joined by 0x1f; all columns for
# types=text tables, the id/uuid/name/email/city columns for typed ones)
# against the same computed from the file, plus the record's sha256 against
# sha256sum of the file. Also: 5xx other than 503 (must be 0), `error` lines
# in sluice's log (must be 0), RSS over time (first, middle and last third,
# peak, idle after) and the budget's peak used bytes against memory_budget.
# Prints a summary and writes it as KEY=VALUE lines to $DIR/summary.env
# (bench/reliability_report.sh turns it into the README's table).
#
# Env: SLUICE_BENCH_BUILD (build dir with src/sluice; default build),
# SLUICE_BENCH_PORT_BASE (34640), SLUICE_BENCH_DIR (/tmp/sluice-load),
# UPLOADERS (16), QUERY_CLIENTS (64), KEEP_SERVICES (0: stop them at the end).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SLUICE_BENCH_BUILD:-$ROOT/build}
BASE=${SLUICE_BENCH_PORT_BASE:-34640}
DIR=${SLUICE_BENCH_DIR:-/tmp/sluice-load}
DURATION=${1:-180}
UPLOADERS=${UPLOADERS:-16}
CLIENTS=${QUERY_CLIENTS:-64}
KEEP_SERVICES=${KEEP_SERVICES:-0}
SLUICE=$BUILD/src/sluice
HTTP_PORT=$((BASE + 30))
URL=http://127.0.0.1:$HTTP_PORT
DB=sluice_test_load

[[ -x $SLUICE ]] || { echo "missing $SLUICE (cmake --build $BUILD --target sluice)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
mkdir -p "$DIR/files" "$DIR/resp"
rm -f "$DIR"/resp/* "$DIR/uploads.log" "$DIR/retries.log" "$DIR/rss.log" "$DIR/sluice.log"

server_pid=
sampler_pid=
cleanup() {
  [[ -n $sampler_pid ]] && kill "$sampler_pid" 2>/dev/null || true
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [[ $KEEP_SERVICES == 0 ]]; then
    "$ROOT/tests/env/rgw.sh" stop "$DIR/rgw" $((BASE + 20)) >&2 || true
    "$ROOT/tests/env/mariadb.sh" stop "$DIR/db" "$BASE" >&2 || true
  fi
}
trap cleanup EXIT

echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$ROOT/tests/env/mariadb.sh" start "$DIR/db" "$BASE" >&2
eval "$("$ROOT/tests/env/mariadb.sh" env "$DIR/db" "$BASE")"
"$ROOT/tests/env/rgw.sh" start "$DIR/rgw" $((BASE + 20)) >&2
eval "$("$ROOT/tests/env/rgw.sh" env "$DIR/rgw" $((BASE + 20)))"
root_sql() { mariadb --no-defaults --socket="$SLUICE_TEST_MARIADB_ROOT_SOCKET" --user=root -N -B "$@"; }
root_sql -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB CHARACTER SET utf8mb4"

# ---- files: mixed sizes, generated once -------------------------------------
FILES=()
for spec in 5000:1 50000:2 200000:3 500000:4; do
  rows=${spec%%:*} seed=${spec##*:}
  f=$DIR/files/gen_${rows}.csv
  [[ -s $f ]] || "$SLUICE" gen --rows "$rows" --seed "$seed" >"$f"
  FILES+=("$f")
done
python3 - "${FILES[@]}" >"$DIR/expected.txt" <<'PY'
# For each file: rows, CRC sum over all columns, CRC sum over the typed subset, sha256.
import csv, hashlib, sys, zlib
for path in sys.argv[1:]:
    with open(path, newline='', encoding='utf-8') as f:
        r = csv.reader(f)
        header = next(r)
        sub = [header.index(c) for c in ("id", "uuid", "name", "email", "city")]
        n = crc_all = crc_sub = 0
        for row in r:
            n += 1
            crc_all += zlib.crc32("\x1f".join(row).encode())
            crc_sub += zlib.crc32("\x1f".join(row[i] for i in sub).encode())
    sha = hashlib.sha256(open(path, 'rb').read()).hexdigest()
    print(path, n, crc_all, crc_sub, sha)
PY

# ---- sluice -----------------------------------------------------------------
cat >"$DIR/sluice.conf" <<CONF
[server]
listen = 127.0.0.1:$HTTP_PORT
max_concurrent_uploads = 16
memory_budget = 256M
shutdown_grace = 5s
[mariadb]
host = 127.0.0.1
port = $BASE
user = $SLUICE_TEST_MARIADB_USER
password = $SLUICE_TEST_MARIADB_PASSWORD
database = $DB
pool_size = 8
[s3]
endpoint = $SLUICE_TEST_RGW_ENDPOINT
bucket = $SLUICE_TEST_RGW_BUCKET
path_style = true
access_key = $SLUICE_TEST_RGW_ACCESS_KEY
secret_key = $SLUICE_TEST_RGW_SECRET_KEY
part_size = 8M
[log]
level = info
CONF
"$SLUICE" serve --config "$DIR/sluice.conf" >"$DIR/sluice.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/uploads?limit=1") == 200 ]] && break
  sleep 0.1
done
for pre in "load_q_text:&types=text" "load_q_typed:"; do
  code=$(curl -s -o "$DIR/resp/${pre%%:*}.json" -w '%{http_code}' -X POST -H 'Content-Type: text/csv' \
    -T "${FILES[1]}" "$URL/v1/uploads?filename=q.csv&table=${pre%%:*}${pre#*:}")
  [[ $code == 201 ]] || { echo "preload ${pre%%:*}: $code $(cat "$DIR/resp/${pre%%:*}.json")" >&2; exit 1; }
  echo "$(basename "${FILES[1]}") ${pre%%:*} ${FILES[1]} $([[ -n ${pre#*:} ]] && echo text || echo typed) 201" >>"$DIR/uploads.log"
done

( while kill -0 "$server_pid" 2>/dev/null; do
    used=$(curl -s --max-time 5 "$URL/metrics" | awk '/^sluice_memory_budget_used_bytes /{print $2}')
    echo "$(date +%s) $(awk '/VmRSS/{print $2}' "/proc/$server_pid/status" 2>/dev/null) ${used:-0}"
    sleep 2
  done ) >"$DIR/rss.log" &
sampler_pid=$!
log_start=$(wc -l <"$DIR/sluice.log")   # the lines before are the start-up's (its readiness polls)

# ---- the load ---------------------------------------------------------------
DEADLINE=$(( $(date +%s) + DURATION ))
uploader() {
  local u=$1 n=0 f table types q code
  while (( $(date +%s) < DEADLINE )); do
    n=$((n + 1))
    f=${FILES[$(( (u * 7 + n * 3) % ${#FILES[@]} ))]}
    # Mostly smaller files: the big one at most every third turn.
    if [[ $f == "${FILES[3]}" && $(( n % 3 )) != 0 ]]; then f=${FILES[1]}; fi
    types=typed
    (( (u + n) % 2 == 0 )) && types=text
    table=load_u${u}_${n}
    q="filename=$(basename "$f")&table=$table"
    [[ $types == text ]] && q+="&types=text"
    while :; do
      code=$(curl -s -o "$DIR/resp/$table.json" -w '%{http_code}' --max-time 600 -X POST \
        -H 'Content-Type: text/csv' -T "$f" "$URL/v1/uploads?$q") || code=000
      if [[ $code == 503 ]]; then echo "$table" >>"$DIR/retries.log"; sleep 1; continue; fi
      break
    done
    echo "u$u $table $f $types $code" >>"$DIR/uploads.log"
  done
}
T0=$(date +%s)
uploader_pids=()
for u in $(seq 1 "$UPLOADERS"); do
  uploader "$u" &
  uploader_pids+=($!)
done
wrk -t2 -c"$CLIENTS" -d"${DURATION}s" --timeout 60s -s "$ROOT/bench/load_queries.lua" "$URL" >"$DIR/wrk.txt" 2>&1 || true
wait "${uploader_pids[@]}" 2>/dev/null || true
T1=$(date +%s)
kill "$sampler_pid" 2>/dev/null || true
sampler_pid=
sleep 5  # the last upload's end returns the freed heap (malloc_trim on a worker)
rss_idle=$(( $(awk '/VmRSS/{print $2}' "/proc/$server_pid/status") / 1024 ))
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- verification -------------------------------------------------------------
export DIR DB SOCK=$SLUICE_TEST_MARIADB_ROOT_SOCKET
python3 - <<'PY' >"$DIR/verify.txt"
import json, os, subprocess
d, db, sock = os.environ["DIR"], os.environ["DB"], os.environ["SOCK"]
expected = {}
for line in open(f"{d}/expected.txt"):
    path, n, crc_all, crc_sub, sha = line.split()
    expected[path] = (int(n), int(crc_all), int(crc_sub), sha)
def sql(q):
    return subprocess.run(["mariadb", "--no-defaults", "-S", sock, "-uroot", "-N", "-B", db, "-e", q],
                          capture_output=True, text=True).stdout.strip()
all_cols = ["id", "uuid", "name", "email", "date", "amount", "quantity", "code", "city"]
sub_cols = ["id", "uuid", "name", "email", "city"]
ok = bad = 0
for line in open(f"{d}/uploads.log"):
    who, table, path, types, code = line.split()
    if code != "201":
        continue
    n, crc_all, crc_sub, sha = expected[path]
    cols = all_cols if types == "text" else sub_cols
    concat = "CONCAT_WS(0x1f, " + ", ".join(f"IFNULL(`{c}`, '')" for c in cols) + ")"
    got = sql(f"SELECT COUNT(*), IFNULL(SUM(CRC32({concat})), 0) FROM `{table}`").split("\t")
    want = [str(n), str(crc_all if types == "text" else crc_sub)]
    record = json.load(open(f"{d}/resp/{table}.json"))
    if got == want and record.get("sha256") == sha and record.get("rows_loaded") == n:
        ok += 1
    else:
        bad += 1
        print(f"MISMATCH {table} {types}: got {got} want {want} sha {record.get('sha256') == sha}")
print(f"verified_ok {ok}\nverified_bad {bad}")
PY

uploads_total=$(wc -l <"$DIR/uploads.log")
uploads_201=$(awk '$5 == 201' "$DIR/uploads.log" | wc -l)
uploads_5xx=$(awk '$5 >= 500 && $5 != 503' "$DIR/uploads.log" | wc -l)
uploads_other=$(( uploads_total - uploads_201 - uploads_5xx ))
retries_503=$( [[ -f $DIR/retries.log ]] && wc -l <"$DIR/retries.log" || echo 0)
bytes_uploaded=$(awk '$5 == 201 {print $3}' "$DIR/uploads.log" | xargs -r stat -c %s | awk '{s += $1} END {print s + 0}')
requests=$(awk '$1 == "status" {s += $3} END {print s + 0}' "$DIR/wrk.txt")
query_5xx=$(awk '$1 == "status" && $2 >= 500 && $2 != 503 {s += $3} END {print s + 0}' "$DIR/wrk.txt")
query_503=$(awk '$1 == "status" && $2 == 503 {s += $3} END {print s + 0}' "$DIR/wrk.txt")
query_4xx=$(awk '$1 == "status" && $2 >= 400 && $2 < 500 {s += $3} END {print s + 0}' "$DIR/wrk.txt")
rps=$(awk '/^Requests\/sec/ {print $2}' "$DIR/wrk.txt")
p50=$(awk '$1 == "latency_p50_ms" {print $2}' "$DIR/wrk.txt")
p99=$(awk '$1 == "latency_p99_ms" {print $2}' "$DIR/wrk.txt")
sock_errors=$(awk '$1 == "socket_errors" {print $2, $3, $4, $5}' "$DIR/wrk.txt")
# The http layer logs a 503 (the intended "saturated, retry" answer) at warn
# level and any other 5xx at error level: 503 lines are counted apart; any
# error line counts.
tail -n +"$((log_start + 1))" "$DIR/sluice.log" |
  grep -E '^(<[0-3]>|[0-9T:.+-]+ )(error|critical) |^(<4>|[0-9T:.+-]+ )warning \[http\] req=[0-9A-Z]+ 503 ' \
    >"$DIR/log_errors.txt" || true
log_503=$(grep -cE '\[http\] req=[0-9A-Z]+ 503 ' "$DIR/log_errors.txt" || true)
log_errors=$(grep -vcE '\[http\] req=[0-9A-Z]+ 503 ' "$DIR/log_errors.txt" || true)
verified_ok=$(awk '$1 == "verified_ok" {print $2}' "$DIR/verify.txt")
verified_bad=$(awk '$1 == "verified_bad" {print $2}' "$DIR/verify.txt")
read -r rss_first rss_middle rss_last rss_peak used_peak < <(awk '$2 > 0 {v[n] = $2; u[n++] = $3} END {
  t = int(n / 3); if (t < 1) t = 1
  for (i = 0; i < t; i++) a += v[i]; for (i = t; i < n - t; i++) { m += v[i]; k++ }; for (i = n - t; i < n; i++) b += v[i]
  if (k == 0) k = 1
  for (i = 0; i < n; i++) { if (v[i] > p) p = v[i]; if (u[i] > q) q = u[i] }
  printf "%d %d %d %d %d\n", a / t / 1024, m / k / 1024, b / t / 1024, p / 1024, q / 1048576 }' "$DIR/rss.log")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
alive=$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")

cat >"$DIR/summary.env" <<SUM
LOAD_DATE='$(date -u +%Y-%m-%dT%H:%MZ)'
LOAD_SECONDS=$((T1 - T0))
LOAD_UPLOADERS=$UPLOADERS
LOAD_QUERY_CLIENTS=$CLIENTS
LOAD_REQUESTS=$requests
LOAD_RPS=$rps
LOAD_P50_MS=$p50
LOAD_P99_MS=$p99
LOAD_QUERY_4XX=$query_4xx
LOAD_QUERY_503=$query_503
LOAD_QUERY_5XX=$query_5xx
LOAD_SOCKET_ERRORS='$sock_errors'
LOAD_UPLOADS=$uploads_total
LOAD_UPLOADS_201=$uploads_201
LOAD_UPLOADS_5XX=$uploads_5xx
LOAD_UPLOADS_OTHER=$uploads_other
LOAD_UPLOAD_503_RETRIES=$retries_503
LOAD_UPLOADED_MB=$((bytes_uploaded / 1048576))
LOAD_VERIFIED_OK=$verified_ok
LOAD_VERIFIED_BAD=$verified_bad
LOAD_LOG_ERRORS=$log_errors
LOAD_LOG_503_LINES=$log_503
LOAD_RSS_FIRST_THIRD_MB=$rss_first
LOAD_RSS_MIDDLE_THIRD_MB=$rss_middle
LOAD_RSS_LAST_THIRD_MB=$rss_last
LOAD_RSS_PEAK_MB=$rss_peak
LOAD_RSS_IDLE_AFTER_MB=$rss_idle
LOAD_BUDGET_USED_PEAK_MIB=$used_peak
LOAD_MEMORY_BUDGET_MIB=256
LOAD_AVG_AFTER='$load_after'
LOAD_HEALTHZ_AFTER=$alive
SUM
echo
echo "== sluice load run: ${DURATION}s, $UPLOADERS uploaders, $CLIENTS query connections (load after: $load_after)"
printf '  queries   %s requests (%s req/s, p50 %s ms, p99 %s ms): 4xx %s, 503 %s, other 5xx %s; socket errors %s\n' \
  "$requests" "$rps" "$p50" "$p99" "$query_4xx" "$query_503" "$query_5xx" "$sock_errors"
printf '  uploads   %s (%s MB): 201 %s, 5xx %s, other %s; 503 answers retried %s\n' \
  "$uploads_total" "$((bytes_uploaded / 1048576))" "$uploads_201" "$uploads_5xx" "$uploads_other" "$retries_503"
printf '  verified  %s tables match their file (rows + checksum + sha256), %s do not\n' "$verified_ok" "$verified_bad"
printf '  log       %s error lines (besides %s for intended 503s)\n' "$log_errors" "$log_503"
head -3 "$DIR/log_errors.txt" | grep -vE ' 503 ' || true
printf '  RSS       first third %s MB, middle %s MB, last third %s MB, peak %s MB, idle after %s MB\n' \
  "$rss_first" "$rss_middle" "$rss_last" "$rss_peak" "$rss_idle"
printf '  budget    peak used %s MiB of memory_budget = 256M\n' "$used_peak"
printf '  healthz   %s after the run\n' "$alive"
grep MISMATCH "$DIR/verify.txt" | head -5 || true
awk '$5 != 201' "$DIR/uploads.log" | head -5
fail=0
(( query_5xx == 0 && uploads_5xx == 0 && log_errors == 0 && verified_bad == 0 )) || fail=1
exit $fail
