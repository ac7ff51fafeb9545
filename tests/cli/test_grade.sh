# test_grade.sh — `stackheap grade`: the reference policies under the malloc-lab suite, hostile
# and broken submissions (each a clear failure within its limit, the grader going on),
# determinism across two runs, and every output format validated.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

G=$FIX/grade
SUBS=$TMP/subs
mkdir -p "$SUBS" "$TMP/slow"

# sub NAME TOP BODY [EXTRA] — a bump allocator (correct on its own) with TOP run when the
# submission loads and BODY at the start of every alloc; EXTRA goes into the policy table.
sub() {
  cat >"$SUBS/$1.lua" <<LUA
local sh = require "stackheap"
$2
local function alloc(heap, n, align)
  $3
  local _, brk = heap:bounds()
  local p = (brk + 8 + align - 1) // align * align
  if not heap:sbrk(p + n - brk) then return nil end
  heap:store(p - 8, n, 8)
  return p
end
return sh.policy{ name = "$1", alloc = alloc, free = function() end, ${4:-} }
LUA
}

sub good "" ""
sub loop "" "while true do end"
sub loop_pcall "" "while true do pcall(function() while true do end end) end"
sub loop_load "while true do end" ""
sub bomb "" "local t = {} while true do t[#t + 1] = ('x'):rep(1 << 16) .. #t end"
sub bomb_pcall "" "for _ = 1, 1e9 do pcall(function() local t = {} while true do t[#t + 1] = ('x'):rep(1 << 16) .. #t end end) end"
sub gc "setmetatable({}, { __gc = function() while true do end end })" ""
sub rep "" "local s = string.rep('x', 1 << 30)"
sub os "os.execute('true')" ""
sub io "io.open('/etc/passwd')" ""
sub debug "debug.sethook()" ""
sub loadlib "package.loadlib('libc.so.6', 'system')" ""
sub bytecode "assert(load('\\27LuaT\\0\\25\\147\\13\\10\\26\\10'))" ""
sub require_os "require 'os'" ""
sub recursion "" "local function f(k) return 1 + f(k + 1) end f(1)"
sub readonly "sh.machine = nil" ""
sub strmeta "getmetatable('').__index = {}" ""
sub overlap "" "do local b, brk = heap:bounds(); if brk == b then heap:sbrk(4096) end; return b + 16 end"
sub misaligned "" "do local _, brk = heap:bounds(); heap:sbrk(64); return brk + 9 end"
sub outside "" "do return 0x100000 end"
sub nonint "" "do return 4096.5 end"
sub corrupt "" "local _, brk = heap:bounds(); if brk > 0x1020 then heap:store(brk - 8, 0, 8) end"
sub nocopy "" "" "realloc = function(heap, addr, n) return alloc(heap, n, 8) end"
printf 'return function(m) return 42 end\n' >"$SUBS/scenario.lua"
sub noisy "for i = 1, 5000 do print('line', i) end" ""
sub binary "print('\\255\\254 not UTF-8')" ""
# A catastrophic pattern: one C call, no hook sees it; the CPU limit (and the
# wall clock) must. Graded apart, since each test it is in burns its CPU limit.
sub pattern "" "string.find(('a'):rep(5000), '.-.-.-.-.-.-.-.-b')"
mv "$SUBS/pattern.lua" "$TMP/slow/"

# run_once ARG... — sh_run, but running the command once (grading can take a while).
run_once() {
  set +e
  "$STACKHEAP" "$@" >"$TMP/out" 2>"$TMP/err"
  status=$?
  set -e
  out=$(cat "$TMP/out")
  err=$(cat "$TMP/err")
  last="stackheap $*"
}

# Each hostile submission: a failure whose message says what happened.
check_fail() { # NAME TEXT
  local f=$TMP/out1/$1.json
  last="grade $1"
  if [ ! -s "$f" ]; then _not_ok "no result file"; return; fi
  out=$(cat "$f")
  expect_has out '"passed":false'
  expect_has out "$2"
}

t0=$(date +%s)
set +e
"$STACKHEAP" grade "$G/suite.lua" "$SUBS" --format json --out "$TMP/out1" --jobs 2 >"$TMP/csv1" 2>"$TMP/err1"
status=$?
set -e
t1=$(date +%s)
last="grade DIR"
out=$(cat "$TMP/csv1")
err=$(cat "$TMP/err1")
expect_status 1
expect_eq err ""
expect_has out "submission,score,max_score,passed,tests"
expect_has out "good,3.5,3.5,3,3"
expect_has out "noisy,3.5,3.5,3,3"
expect_has out "loop,0,3.5,0,3"
if [ $((t1 - t0)) -lt 120 ]; then _ok "a class of hostile submissions graded in $((t1 - t0)) s"; else _not_ok "took $((t1 - t0)) s"; fi

check_fail loop "exceeded the limit of 2000000 instructions"
check_fail loop "trace classic, line 5: alloc of 512 bytes for id 0 failed: alloc: policy 'loop' failed for 512 bytes aligned to 8 (op 0)"
check_fail loop_pcall "exceeded the limit of 2000000 instructions"
check_fail loop_load "exceeded the limit of 2000000 instructions"
check_fail bomb "exceeded the memory limit of 33554432 bytes"
check_fail bomb_pcall "exceeded the memory limit of 33554432 bytes"
check_fail gc "setmetatable: __gc is not allowed in a submission"
check_fail rep "exceeded the memory limit of 33554432 bytes"
check_fail os "attempt to index a nil value (global 'os')"
check_fail io "attempt to index a nil value (global 'io')"
check_fail debug "attempt to index a nil value (global 'debug')"
check_fail loadlib "attempt to index a nil value (global 'package')"
check_fail bytecode "attempt to load a binary chunk"
check_fail require_os "require: 'os' is not on the allow-list (stackheap)"
check_fail recursion "exceeded the memory limit of 33554432 bytes"
check_fail readonly "stackheap is read-only (assigning machine)"
check_fail strmeta "attempt to index a nil value"
check_fail overlap "which overlaps a live block"
check_fail misaligned "which is not aligned"
check_fail outside "which is outside the heap"
check_fail nonint "alloc answered 4096.5, which is not an integer address"
check_fail corrupt "is not what was written"
check_fail nocopy "changed across its realloc"
check_fail scenario "the submission must return sh.policy{...}, got a function value"
last="grade scenario"
out=$(cat "$TMP/out1/scenario.json")
expect_has out '"message":"the scenario'"'"'s block","name":"scenario","output":"the scenario'"'"'s block","passed":true'


last="grade good"
out=$(cat "$TMP/out1/good.json")
expect_lacks out '"passed":false'
expect_has out '"visibility":"hidden"'
expect_has out '"visibility":"after_due_date"'
out=$(cat "$TMP/out1/noisy.json")
expect_has out "[output cut at 16384 bytes]"
out=$(cat "$TMP/out1/binary.json")
expect_has out '"output":"?? not UTF-8"'

# The CPU limit, then (another suite: a long CPU limit) the wall clock; the
# grader goes on to the next test each time.
run_once grade "$G/suite.lua" "$TMP/slow/pattern.lua" --format json
expect_status 1
expect_has out "exceeded the CPU time limit of 1 s in test 'classic'"
expect_has out "exceeded the CPU time limit of 1 s in test 'small-lifo'"

# Determinism: a second run gives the same bytes, file by file.
"$STACKHEAP" grade "$G/suite.lua" "$SUBS" --format json --out "$TMP/out2" --jobs 2 >"$TMP/csv2" 2>/dev/null || true
last="grade DIR, twice"
if diff -r "$TMP/out1" "$TMP/out2" >"$TMP/diff" && cmp -s "$TMP/csv1" "$TMP/csv2"; then
  _ok "identical results"
else
  _not_ok "results differ: $(head -c 600 "$TMP/diff")"
fi

# The wall clock: a long CPU limit, a short wall clock.
run_once grade "$G/wall.lua" "$TMP/slow/pattern.lua"
expect_status 1
expect_has out "exceeded the wall-clock limit of 2 s in test 'classic'"
expect_has out "ok   small"

# ---- the reference policies under the malloc-lab suite: every trace correct ----
for p in implicit explicit segregated; do
  run_once grade scripts/grading/malloclab.lua "scripts/policies/$p.lua" --jobs 2
  expect_status 0
  expect_lacks out "FAIL"
  expect_has out "score: "
done
expect_has out "utilization 83.0% (weight 60%), performance 100.0% of 400 cycles/op (weight 40%)"
expect_has out "score: 89.79 / 100"

# ---- formats ----
for fmt in json gradescope tap junit text; do
  "$STACKHEAP" grade "$G/suite.lua" "$SUBS/loop.lua" --format $fmt --out "$TMP/r.$fmt" || true
done
cat >"$TMP/validate.lua" <<'LUA'
local cjson = require "cjson"
local what, path = ...
local f = assert(io.open(path)); local text = f:read("a"); f:close()
if what == "json" or what == "gradescope" then
  local d = cjson.decode(text)
  assert(type(d.score) == "number" and type(d.max_score) == "number", "score and max_score")
  assert(#d.tests == 3, "three tests")
  for _, t in ipairs(d.tests) do
    assert(type(t.name) == "string" and type(t.score) == "number" and type(t.max_score) == "number")
    assert(type(t.output) == "string")
    if what == "gradescope" then assert(({ visible = 1, hidden = 1, after_due_date = 1 })[t.visibility]) end
  end
  if what == "gradescope" then assert(d.stdout_visibility and d.output, "top-level output") end
elseif what == "tap" then
  local lines = {}
  for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
  assert(lines[1] == "TAP version 13", "version line")
  local n = tonumber(lines[2]:match("^1%.%.(%d+)$"))
  assert(n == 3, "plan 1..3")
  local seen = 0
  for _, l in ipairs(lines) do
    local k = l:match("^ok (%d+)") or l:match("^not ok (%d+)")
    if k then seen = seen + 1; assert(tonumber(k) == seen, "numbered in order") end
  end
  assert(seen == n, "as many test lines as the plan says")
elseif what == "junit" then
  -- well-formed: one root, tags nested and closed, attributes quoted, only the five entities
  local body = text:gsub("^<%?xml[^>]*%?>%s*", "")
  local stack, roots = {}, 0
  for slash, name, attrs, selfclose in body:gmatch("<(/?)([%w_:-]+)(.-)(/?)>") do
    assert(attrs:gsub('%s+[%w_:-]+="[^"<]*"', ""):match("^%s*$"), "attributes: " .. attrs)
    if slash == "/" then assert(table.remove(stack) == name, "closing " .. name)
    elseif selfclose == "" then
      if #stack == 0 then roots = roots + 1 end
      stack[#stack + 1] = name
    end
  end
  assert(#stack == 0 and roots == 1, "balanced, one root")
  for ent in body:gmatch("&([^;%s]*);") do assert(({ amp = 1, lt = 1, gt = 1, quot = 1, apos = 1 })[ent], ent) end
  assert(not body:gsub("<[^>]*>", ""):find("[<&][^%w#]"), "no bare < or &")
  assert(text:find('<testsuite name="loop" tests="3" failures="3"', 1, true), "counts")
end
print("valid " .. what)
LUA
for fmt in json gradescope tap junit; do
  last="format $fmt"
  if out=$(lua5.4 "$TMP/validate.lua" $fmt "$TMP/r.$fmt" 2>&1); then _ok "$out"; else _not_ok "$out"; fi
done
if command -v xmllint >/dev/null; then
  last="format junit (xmllint)"
  if xmllint --noout "$TMP/r.junit" 2>"$TMP/xerr"; then _ok "well-formed"; else _not_ok "$(cat "$TMP/xerr")"; fi
fi
last="format text"
out=$(cat "$TMP/r.text")
expect_has out "sandbox: loop"
expect_has out "score: 0 / 3.5"

# ---- bad usage ----
sh_run grade "$TMP/nosuite.lua" "$SUBS/good.lua"
expect_status 2
expect_has err "cannot open the suite"
printf 'return { name = "x", tests = { { name = "a" } } }\n' >"$TMP/badsuite.lua"
sh_run grade "$TMP/badsuite.lua" "$SUBS/good.lua"
expect_status 2
expect_has err "badsuite.lua: test 'a': needs exactly one of trace and run"
sh_run grade "$G/suite.lua" "$SUBS/good.lua" --jobs=-1
expect_status 2
expect_has err "--jobs must be 0 (every core) or more"

finish
