#!/usr/bin/env bash
# ostep_malloc.sh — what `stackheap ostep-malloc` costs: N random operations printed,
# then with --html; and, when OSTEP_MALLOC_PY names a copy of OSTEP's malloc.py and
# python3 is there, malloc.py itself on the same flags (its output compared byte for byte).
# Usage: tests/bench/ostep_malloc.sh STACKHEAP [N]  (cmake --build build --target bench)
set -euo pipefail
SH=$1
N=${2:-20000}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
now() { date +%s.%N; }
FLAGS=(-s 1 -n "$N" -S 5000 -r 50 -C -c)
t0=$(now); "$SH" ostep-malloc "${FLAGS[@]}" >"$TMP/sh.out"; t1=$(now)
"$SH" ostep-malloc "${FLAGS[@]}" --html "$TMP/r.html" >/dev/null; t2=$(now)
size=$(wc -c <"$TMP/r.html")
awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$N" -v s="$size" 'BEGIN {
  plain = b - a; html = c - b
  printf "ostep-malloc, %d operations: %.2f s, with --html %.2f s (%.1fx); page %d bytes, %.0f per step\n", n, plain, html, html / plain, s, s / n
}'
if [ -n "${OSTEP_MALLOC_PY:-}" ] && command -v python3 >/dev/null; then
  t3=$(now); python3 "$OSTEP_MALLOC_PY" "${FLAGS[@]}" >"$TMP/py.out"; t4=$(now)
  same=differs; cmp -s "$TMP/sh.out" "$TMP/py.out" && same="the same bytes"
  awk -v a="$t0" -v b="$t1" -v c="$t3" -v d="$t4" -v same="$same" 'BEGIN {
    printf "malloc.py on the same flags: %.2f s (stackheap takes %.2fx its time); output: %s\n", d - c, (b - a) / (d - c), same
  }'
fi
