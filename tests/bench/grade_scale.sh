#!/usr/bin/env bash
# grade_scale.sh — how long a class takes: N submissions (copies of the three reference
# policies, each a different file) graded by the malloc-lab suite (12 traces) with --jobs,
# and the time extrapolated to 500.  Run by hand: tests/bench/grade_scale.sh STACKHEAP [N] [JOBS]
set -euo pipefail
SH=$1
N=${2:-100}
JOBS=${3:-$(nproc)}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir "$TMP/class"
policies=(implicit explicit segregated)
for i in $(seq 1 "$N"); do
  p=${policies[$((i % 3))]}
  # a comment makes each file its own submission, as students' are
  { echo "-- student $i"; cat "scripts/policies/$p.lua"; } >"$TMP/class/s$(printf %03d "$i").lua"
done
t0=$(date +%s.%N)
"$SH" grade scripts/grading/malloclab.lua "$TMP/class" --jobs "$JOBS" --format json --out "$TMP/out" >"$TMP/summary.csv" || true
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v n="$N" -v j="$JOBS" 'BEGIN {
  t = b - a
  printf "%d submissions x 12 traces, --jobs %d: %.1f s (%.2f s each); 500 would take %.1f min\n",
    n, j, t, t / n, t / n * 500 / 60 }'
echo "$(($(wc -l <"$TMP/summary.csv") - 1)) result rows; failed tests: $(grep -c '"passed":false' "$TMP"/out/*.json | awk -F: '{s += $2} END {print s + 0}')"
