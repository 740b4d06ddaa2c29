#!/usr/bin/env bash
# bench/reliability_report.sh [--run-faults] [LOAD_SUMMARY] — the "faults and
# load" part of the reliability summary (issue 9), as markdown.
#
# What: with --run-faults, runs the fault-injection tests
# (UploadFaultTest.* and RestartFaultTest.* in integration_tests; they need
# the SLUICE_TEST_* services of the README's test command and start the
# private ones they kill) and keeps their output and gtest JSON in $DIR;
# without it, reads the files a previous --run-faults left there. LOAD_SUMMARY
# is bench/load_reliability.sh's summary.env (default
# /tmp/sluice-load/summary.env). Writes bench/reliability_faults_load.md:
# one row per fault (what was killed, the seeded point, survived or not, time)
# and the load figures (requests, uploads, errors, RSS) — and prints it. The
# fuzzing rows live in their own section (the fuzz helper's).
#
# Env: SLUICE_BENCH_BUILD (build dir; default build), SLUICE_REPORT_DIR
# (/tmp/sluice-reliability), SLUICE_FAULT_SEED (repeat a run's fault points).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SLUICE_BENCH_BUILD:-$ROOT/build}
DIR=${SLUICE_REPORT_DIR:-/tmp/sluice-reliability}
OUT=$ROOT/bench/reliability_faults_load.md
RUN=0
if [[ ${1:-} == --run-faults ]]; then RUN=1; shift; fi
LOAD=${1:-/tmp/sluice-load/summary.env}
mkdir -p "$DIR"

if [[ $RUN == 1 ]]; then
  [[ -x $BUILD/tests/integration_tests ]] || { echo "missing $BUILD/tests/integration_tests" >&2; exit 2; }
  SLUICE_TEST_REQUIRE_SERVICES=1 "$BUILD/tests/integration_tests" \
    --gtest_filter='UploadFaultTest.*:RestartFaultTest.*' --gtest_output="json:$DIR/faults.json" \
    >"$DIR/faults.out" 2>&1 || true
fi
[[ -f $DIR/faults.json ]] || { echo "no $DIR/faults.json: run with --run-faults first" >&2; exit 2; }

python3 - "$DIR/faults.json" "$DIR/faults.out" "$LOAD" >"$OUT" <<'PY'
import json, os, re, sys
faults_json, faults_out, load_path = sys.argv[1:4]
what = {
    "ClientGoneAtHalfOf200MBLeavesNothing": "client disconnects at 50% of a 200 MB upload",
    "RadosgwKilledMidUploadFailsCleanly": "radosgw SIGKILL mid-upload, restarted",
    "MariadbKilledMidUploadFailsCleanly": "mariadbd SIGKILL mid-upload, restarted (same datadir)",
    "MariadbKilledDuringQueriesAnswers503ThenRecovers": "mariadbd SIGKILL during 4 query clients, restarted",
    "SigtermMidUploadCancelsItThenRestartServes": "sluice SIGTERM mid-upload (grace 1 s), restarted",
    "Kill9MidUploadThenRestartRecovers": "sluice SIGKILL mid-upload, restarted (recovery)",
}
# The seeded fault points, from the tests' output, by test.
points, seed, current = {}, "", None
for line in open(faults_out, errors="replace"):
    if m := re.match(r"\[ RUN +\] \w+\.(\w+)", line):
        current = m.group(1)
    if m := re.search(r"\[faults\] seed (\d+)", line):
        seed = m.group(1)
    if (m := re.search(r"\[faults\] fault at (\d+)% of (\d+) bytes", line)) and current:
        points[current] = f"{m.group(1)}% of {int(m.group(2)) / 1048576:.0f} MiB"
    if (m := re.search(r"\[faults\] queries: (.*)", line)) and current:
        points[current] = m.group(1)
data = json.load(open(faults_json))
rows, survived, total = [], 0, 0
for suite in data.get("testsuites", []):
    for t in suite.get("testsuite", []):
        total += 1
        ok = not t.get("failures") and t.get("result", "COMPLETED") == "COMPLETED"
        survived += ok
        name = t["name"]
        point = points.get(name, "50% of 200 MiB" if "Half" in name else "")
        rows.append(f"| {what.get(name, name)} | {point} | {'yes' if ok else '**no**'} | {t.get('time', '?')} |")
print("## Faults and load (bench/reliability_report.sh)\n")
print(f"Fault injection: {survived} of {total} faults survived — after each: the record says why "
      "(failed/cancelled + code), no table, no staging table, no S3 object and no open multipart "
      "upload (ListMultipartUploads on RGW), /healthz and a query answer, and the next upload succeeds. "
      f"Seed {seed or '?'} (SLUICE_FAULT_SEED repeats it); run {data.get('timestamp', '?')}.\n")
print("| fault | point (seeded) | survived | time |")
print("|---|---|---|---|")
print("\n".join(rows))
if os.path.exists(load_path):
    env = {}
    for line in open(load_path):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            env[k] = v.strip("'")
    g = env.get
    print(f"\nLoad ({g('LOAD_DATE')}, bench/load_reliability.sh, {g('LOAD_SECONDS')} s wall including the last uploads' finish, "
          f"load average after {g('LOAD_AVG_AFTER')}): {g('LOAD_UPLOADERS')} uploaders of mixed sizes and "
          f"{g('LOAD_QUERY_CLIENTS')} wrk query connections at once.\n")
    print("| figure | value |")
    print("|---|---|")
    print(f"| query requests | {g('LOAD_REQUESTS')} ({g('LOAD_RPS')} req/s, p50 {g('LOAD_P50_MS')} ms, p99 {g('LOAD_P99_MS')} ms) |")
    print(f"| query answers 4xx / 503 / other 5xx | {g('LOAD_QUERY_4XX')} / {g('LOAD_QUERY_503')} / {g('LOAD_QUERY_5XX')} |")
    print(f"| healthz after the run | {g('LOAD_HEALTHZ_AFTER')} |")
    print(f"| uploads (201 / 5xx / other) | {g('LOAD_UPLOADS')} ({g('LOAD_UPLOADS_201')} / {g('LOAD_UPLOADS_5XX')} / {g('LOAD_UPLOADS_OTHER')}), {g('LOAD_UPLOADED_MB')} MB |")
    print(f"| 503 busy (max_concurrent_uploads, or no room in memory_budget in time; retried) | {g('LOAD_UPLOAD_503_RETRIES')} |")
    print(f"| tables verified (rows + checksum + sha256) | {g('LOAD_VERIFIED_OK')} ok, {g('LOAD_VERIFIED_BAD')} bad |")
    print(f"| error lines in sluice's log (besides the intended 503s') | {g('LOAD_LOG_ERRORS')} ({g('LOAD_LOG_503_LINES')}) |")
    if 'LOAD_RSS_MIDDLE_THIRD_MB' in env:
        print(f"| RSS first / middle / last third, peak, idle after | {g('LOAD_RSS_FIRST_THIRD_MB')} / {g('LOAD_RSS_MIDDLE_THIRD_MB')} / {g('LOAD_RSS_LAST_THIRD_MB')}, {g('LOAD_RSS_PEAK_MB')}, {g('LOAD_RSS_IDLE_AFTER_MB')} MB |")
        print(f"| memory budget used, peak (of memory_budget) | {g('LOAD_BUDGET_USED_PEAK_MIB')} MiB (of {g('LOAD_MEMORY_BUDGET_MIB')} MiB) |")
    else:
        print(f"| RSS first third / last third / peak | {g('LOAD_RSS_FIRST_THIRD_MB')} / {g('LOAD_RSS_LAST_THIRD_MB')} / {g('LOAD_RSS_PEAK_MB')} MB |")
else:
    print("\nLoad: no summary at " + load_path + " (run bench/load_reliability.sh).")
PY
cat "$OUT"
