#!/usr/bin/env bash
# tests/fuzz/run.sh — builds the libFuzzer targets (clang, build-fuzz/) and
# runs each for a while, then records what it did. Long runs are local work,
# not CI (CI replays the committed corpora through ctest: fuzz_replay.*).
#
#   tests/fuzz/run.sh [-t SECONDS] [-j PARALLEL] [TARGET…]   (default: 600 s, 1 at a time, all)
#
# Each target starts from its committed corpus (tests/fuzz/corpus/<target>/)
# plus what earlier runs found (build-fuzz/fuzz-work/<target>/, not
# committed), under `nice -n 10`. Crashes land in
# build-fuzz/fuzz-artifacts/<target>/ (replay one with
# build-fuzz/fuzz/fuzz_<target> FILE, or add it to the corpus with a unit
# test reproducing it once fixed). One row per run is appended to
# var/reliability/fuzz.tsv (date, target, runs, seconds, execs/s, corpus
# files, coverage, result); tests/reliability_report.sh turns it into the
# README's table.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
SECONDS_PER=600
PARALLEL=1
while getopts "t:j:" opt; do
  case $opt in
    t) SECONDS_PER=$OPTARG ;;
    j) PARALLEL=$OPTARG ;;
    *) echo "usage: $0 [-t SECONDS] [-j PARALLEL] [TARGET…]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
TARGETS=("$@")
(( ${#TARGETS[@]} )) || TARGETS=(csv multipart http_request query conf jsonl)

BUILD=$ROOT/build-fuzz
if [[ ! -x $BUILD/fuzz/fuzz_${TARGETS[0]} || ${SLUICE_FUZZ_REBUILD:-1} == 1 ]]; then
  CC=clang CXX=clang++ nice -n 10 cmake -S . -B "$BUILD" -DSLUICE_FUZZ=ON -DSLUICE_BUILD_TESTS=OFF \
    -DSLUICE_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  nice -n 10 cmake --build "$BUILD" -j2 --target fuzzers
fi
RESULTS=$ROOT/var/reliability
mkdir -p "$RESULTS"
[[ -s $RESULTS/fuzz.tsv ]] || printf 'date\ttarget\truns\tseconds\texecs/s\tcorpus\tcoverage\tresult\n' >"$RESULTS/fuzz.tsv"

run_one() {
  local t=$1 work=$BUILD/fuzz-work/$1 art=$BUILD/fuzz-artifacts/$1 log=$BUILD/fuzz-logs/$1.log
  mkdir -p "$work" "$art" "$(dirname "$log")"
  local extra=()
  [[ -f $ROOT/tests/fuzz/$t.dict ]] && extra+=(-dict="$ROOT/tests/fuzz/$t.dict")
  local rc=0 t0 t1
  t0=$(date +%s)
  nice -n 10 "$BUILD/fuzz/fuzz_$t" -max_total_time="$SECONDS_PER" -print_final_stats=1 -max_len=8192 \
    -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$art/" "${extra[@]}" \
    "$work" "$ROOT/tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  t1=$(date +%s)
  local runs cov files result
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n1 | cut -d' ' -f2)
  files=$(find "$work" -type f | wc -l)
  if (( rc == 0 )); then result=ok; else result="FINDING (exit $rc): $(grep -m1 -oE 'ERROR: [A-Za-z]+: [a-z-]+|FUZZ_CHECK\([^)]*\)[^:]*|deadly signal|timeout' "$log" || echo see log)"; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "${runs:-?}" "$((t1 - t0))" \
    "$(( ${runs:-0} / ( (t1 - t0) > 0 ? (t1 - t0) : 1 ) ))" "$files" "${cov:-?}" "$result" >>"$RESULTS/fuzz.tsv"
  echo "$t: ${runs:-?} runs in $((t1 - t0)) s, $result (log $log)"
}

running=0
for t in "${TARGETS[@]}"; do
  run_one "$t" &
  if (( ++running >= PARALLEL )); then wait -n || true; running=$((running - 1)); fi
done
wait
