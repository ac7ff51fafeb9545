# test_replay_policies.sh — a generated 100,000-operation workload (reallocs, phases,
# log-normal sizes) replayed through every built-in policy, with the malloc-lab
# driver's checks: no policy may misplace or corrupt a payload, or fail to finish.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

"$STACKHEAP" gen -n 100000 --seed 7 --sizes lognormal:5,1.2 --realloc 0.15 --alloc 0.55 \
  --phases 4 --lifetime random --format rep -o "$TMP/w.rep"
policies=$("$STACKHEAP" run /dev/stdin <<<'io.write(table.concat(require("stackheap.core").policies(), " "))')

for p in $policies; do
  # One run each, with a limit, so a policy that loops is named, not a hung suite.
  set +e
  timeout 90 "$STACKHEAP" replay "$TMP/w.rep" --policy "$p" --json >"$TMP/out" 2>"$TMP/err"
  status=$?
  set -e
  out=$(cat "$TMP/out")
  err=$(cat "$TMP/err")
  last="replay a generated 100,000-op workload --policy $p"
  [ "$status" -ne 124 ] || err="it did not finish in 90 s"
  expect_status 0
  expect_has out "\"errors\":0,"
  expect_has out "\"ops\":100000,\"policy\":\"$p\""
  expect_eq err ""
done
finish
