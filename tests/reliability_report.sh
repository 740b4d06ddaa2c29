#!/usr/bin/env bash
# tests/reliability_report.sh — the reliability summary as markdown, for the
# README's "Reliability" section: one table per results file in
# var/reliability/ (or DIR). A results file is a TSV whose first line names
# the columns; each run appends a row. Writers: tests/fuzz/run.sh (fuzz.tsv:
# execs and time per target); the fault-injection and load runs add their
# own files the same way. For each file the latest row per key (the second
# column — the target, fault or scenario; the first is the date) is shown.
#
#   tests/reliability_report.sh [DIR]  > summary.md
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${1:-$ROOT/var/reliability}
shopt -s nullglob
files=("$DIR"/*.tsv)
if (( ${#files[@]} == 0 )); then
  echo "no results in $DIR (run tests/fuzz/run.sh first)" >&2
  exit 1
fi
echo "Load while measured: $(uptime | sed 's/.*load average: /load average /')"
for f in "${files[@]}"; do
  echo
  echo "### $(basename "$f" .tsv)"
  echo
  awk -F'\t' '
    NR == 1 { n = NF; for (i = 1; i <= NF; i++) head[i] = $i; next }
    { if (!($2 in row)) order[++k] = $2; row[$2] = $0 }
    END {
      line = "|"; sep = "|"
      for (i = 1; i <= n; i++) { line = line " " head[i] " |"; sep = sep "---|" }
      print line; print sep
      for (j = 1; j <= k; j++) {
        split(row[order[j]], c, "\t"); line = "|"
        for (i = 1; i <= n; i++) line = line " " c[i] " |"
        print line
      }
    }' "$f"
done
