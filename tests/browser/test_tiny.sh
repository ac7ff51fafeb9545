#!/bin/bash
# test_tiny.sh -- the report of tiny.lua, whose every operation is known,
# driven in headless Chromium: what each step shows, the finding, a screenshot.
. "$(dirname "$0")/lib.sh"

set +e
"$STACKHEAP" run tests/browser/tiny.lua --html "$TMP/tiny.html" >"$TMP/out" 2>"$TMP/err"
status=$?
set -e
# the double free is a finding: exit 1, the report written all the same
[ "$status" -eq 1 ] || { echo "FAIL: exit $status, want 1"; cat "$TMP/err"; exit 1; }
grep -q "double_free" "$TMP/err"

# 20 steps: call; n=41; alloc p; p read twice around store; ... (tiny.lua, line by line)
# step 15 is the first free(f.q): slot q now dangles, r's block was freed at step 13
selftest "$TMP/tiny.html" "step=15" \
  steps=20 kinds.alloc=3 kinds.free=3 kinds.call=1 kinds.ret=1 kinds.store=2 kinds.load=1 \
  kinds.set=3 kinds.get=6 findings.1.kind=double_free findings.1.step=17 \
  at.text="free(0x1030)" at.line=L12 at.frames=1 at.dangling=1 at.used=1 at.free=1 \
  at.slots="n,p,q" at.pointers=1 at.l1_stack=3 \
  last.frames=0 last.used=1 last.unreachable=1 last.text="return from main"
# step 12 stores r's address into q's block: a heap-to-heap pointer besides the two slots'
selftest "$TMP/tiny.html" "step=12" at.text="store(0x1030, 4176)" at.pointers=3 at.used=3 \
  at.dangling=0 at.unreachable=0
screenshot "$TMP/tiny.html" "step=15" "$TMP/tiny.png"
