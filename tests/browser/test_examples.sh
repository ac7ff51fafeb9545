#!/bin/bash
# test_examples.sh -- every example scenario's report in headless Chromium:
# it loads, steps forward and back, jumps, filters (the page's self-test),
# logs no console error, and a step's screenshot is not blank.
. "$(dirname "$0")/lib.sh"

# Small runs of the examples: the page is the same kind at any length.
declare -A ARGS=([stack_vs_heap]=20 [locality]=2000 [restaurant]="")
for ex in scripts/examples/*.lua; do
  name=$(basename "$ex" .lua)
  # shellcheck disable=SC2086 # the arguments are words
  "$STACKHEAP" run "$ex" --html "$TMP/$name.html" ${ARGS[$name]:-} >/dev/null
  selftest "$TMP/$name.html" "step=2" at.step=2
done
screenshot "$TMP/restaurant.html" "step=40" "$TMP/restaurant.png"
