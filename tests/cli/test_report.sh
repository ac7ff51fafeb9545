# test_report.sh — `run --html/--svg/--step/--steps` and `replay --svg`: the
# files they write, where the options may go, and the errors that name what
# is wrong.  (What the page shows is tested in a browser: tests/browser.)
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

data_of() {   # the page's data, decoded: prints "n=<steps> kinds=<list>"
  lua5.4 - "$1" <<'LUA'
local t = io.open(arg[1]):read("a")
local d = require("cjson").decode(t:match('<script id="data" type="application/json">(.-)</script>'))
print(("n=%d kinds=%s"):format(d.n, table.concat(d.kinds, ",")))
LUA
}

# After the script, as the issue writes it; the script's output is untouched.
sh_run run scripts/examples/stack_vs_heap.lua --html "$TMP/a.html" 5
expect_status 0
expect_has out "stack vs. heap, 5 calls each"
html=$(cat "$TMP/a.html")
expect_has html "<!DOCTYPE html>"
expect_lacks html "<script src"
summary=$(data_of "$TMP/a.html")
expect_has summary "kinds=call,set,get,ret,alloc,store,load,free"

# Before the script too, and the same bytes on every run.
sh_run run --html "$TMP/b.html" scripts/examples/stack_vs_heap.lua 5
expect_status 0
if cmp -s "$TMP/a.html" "$TMP/b.html"; then _ok "same report twice"; else _not_ok "reports differ"; fi

# "--" after the script ends run's options: the rest is the script's.
sh_run run "$FIX/args.lua" -- --html x
expect_status 0
expect_eq out $'n=2\narg[0]=tests/cli/fixtures/args.lua\n1: [--html]\n2: [x]'

# --steps caps the steps kept; the page says how many ran.
sh_run run scripts/examples/stack_vs_heap.lua --html "$TMP/c.html" --steps 10 5
expect_status 0
summary=$(data_of "$TMP/c.html")
expect_has summary "n=10 "
html=$(cat "$TMP/c.html")
expect_has html '"note":{"recorded":10,"total":'

# A script that fails still gets its report, of the steps before the error.
sh_run run "$FIX/report_fail.lua" --html "$TMP/d.html"
expect_status 1
expect_has err "report_fail.lua:6: free: 0x1011 is not the start of a live block"
summary=$(data_of "$TMP/d.html")
expect_eq summary "n=2 kinds=alloc,free"

# One step as SVG.
sh_run run "$FIX/report_fail.lua" --svg "$TMP/e.svg" --step 1
expect_status 1
svg=$(cat "$TMP/e.svg")
expect_has svg '<svg xmlns="http://www.w3.org/2000/svg"'
expect_has svg "Step 1 of 2: alloc(24"

# Bad options: exit 2, each naming what is wrong; the script's output kept.
sh_run run "$FIX/report_fail.lua" --svg "$TMP/f.svg" --step 9
expect_status 2
expect_has err "stackheap: --step 9: the run recorded 2 steps"
sh_run run "$FIX/args.lua" --svg "$TMP/f.svg" --step 0
expect_status 2
expect_eq err "stackheap: --step must be a positive integer, got '0'"
sh_run run "$FIX/args.lua" --step 2
expect_status 2
expect_eq err "stackheap: --step needs --svg"
sh_run run "$FIX/args.lua" --steps lots --html "$TMP/g.html"
expect_status 2
expect_eq err "stackheap: --steps must be a positive integer, got 'lots'"
sh_run run "$FIX/args.lua" --html
expect_status 2
expect_eq err "stackheap: option '--html' requires an argument"
sh_run run scripts/examples/stack_vs_heap.lua --html "$TMP/no/such/dir/x.html" 2
expect_status 2
expect_has out "stack vs. heap, 2 calls each"
expect_has err "stackheap: cannot write the report: $TMP/no/such/dir/x.html: No such file or directory"
sh_run run "$FIX/args.lua" --svg "$TMP/h.svg"
expect_status 2
expect_eq err "stackheap: --svg: the script performed no operation to draw"

# replay --svg: the heap at its fullest and the fragmentation plot; one file
# per policy when there are several.
sh_run replay tests/traces/classic.rep --policy first_fit,best_fit --svg "$TMP/r.svg"
expect_status 0
for p in first_fit best_fit; do
  svg=$(cat "$TMP/r.svg.$p")
  expect_has svg "classic.rep replayed by $p"
  expect_has svg "Heap when it held the most live bytes"
  expect_has svg 'class="l2"'
done
sh_run replay tests/traces/classic.rep --svg "$TMP/no/such/r.svg"
expect_status 2
expect_has out "first_fit"
expect_has err "stackheap: cannot write the picture: $TMP/no/such/r.svg: No such file or directory"

finish
