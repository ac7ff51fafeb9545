#!/usr/bin/env bash
# report.sh — what a step-through report costs: report_long.lua (N operations)
# run plain, then with --html; prints the time ratio (same run), the steps
# recorded per second and the page's size in bytes per step.
# Usage: tests/bench/report.sh STACKHEAP [N]  (cmake --build build --target bench)
set -euo pipefail
SH=$1
N=${2:-100000}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
now() { date +%s.%N; }
t0=$(now); "$SH" run tests/bench/report_long.lua "$N" >/dev/null; t1=$(now)
"$SH" run tests/bench/report_long.lua --html "$TMP/r.html" "$N" >/dev/null; t2=$(now)
"$SH" run tests/bench/report_long.lua --svg "$TMP/r.svg" "$N" >/dev/null; t3=$(now)
size=$(wc -c <"$TMP/r.html")
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v n="$N" -v s="$size" 'BEGIN {
  plain = b - a; html = c - b; svg = d - c
  printf "report of %d operations: plain %.2f s, --html %.2f s (%.1fx), --svg %.2f s (%.1fx)\n", n, plain, html, html / plain, svg, svg / plain
  printf "recording and writing: %.0f steps/s; page %d bytes, %.1f bytes per step\n", n / (html - plain), s, s / n
}'
