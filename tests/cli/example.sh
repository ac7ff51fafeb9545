# example.sh EXAMPLE.lua — an example scenario must succeed and be
# deterministic: two runs print byte-identical stdout and stderr.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

example=${1:?usage: example.sh EXAMPLE.lua}
set +e
"$STACKHEAP" run "$example" >"$TMP/out1" 2>"$TMP/err1"
status=$?
"$STACKHEAP" run "$example" >"$TMP/out2" 2>"$TMP/err2"
status2=$?
set -e
out=$(cat "$TMP/out1")
err=$(cat "$TMP/err1")
last="stackheap run $example"

expect_status 0
status=$status2
expect_status 0
if [ -s "$TMP/out1" ]; then _ok "prints something"; else _not_ok "prints nothing"; fi
if cmp -s "$TMP/out1" "$TMP/out2" && cmp -s "$TMP/err1" "$TMP/err2"; then
  _ok "two runs print the same bytes"
else
  _not_ok "two runs differ"
  diff "$TMP/out1" "$TMP/out2" | head -20 || true
fi

finish
