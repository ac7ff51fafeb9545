#!/usr/bin/env bash
# replay.sh — the trace benchmarks: records a real program (lua5.4 running a
# mixed workload of tables, strings and garbage), then times text parsing, the
# native replay through glibc's malloc and the engine's replays (bench_replay),
# policies written in Lua against built-in ones (lua_policy.lua), and `stackheap replay`
# itself from text and from its cache.
# Usage: tests/bench/replay.sh STACKHEAP BENCH_REPLAY  (cmake --build build --target bench_trace)
set -euo pipefail
SH=$1
BENCH=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

cat >"$TMP/work.lua" <<'LUA'
local t = {}
for i = 1, 40000 do
  t[i] = { i, tostring(i) .. "x", {} }
  if i % 3 == 0 then t[i - 1] = nil end
end
local s = {}
for i = 1, 20000 do s[#s + 1] = ("%d:%s"):format(i, ("y"):rep(i % 40)) end
collectgarbage()
print(#table.concat(s, ","))
LUA

# Recording overhead: the same program with and without mtrace.
t0=$(date +%s.%N); lua5.4 "$TMP/work.lua" >/dev/null; t1=$(date +%s.%N)
"$SH" record -o "$TMP/lua.mtrace" -- lua5.4 "$TMP/work.lua" >/dev/null 2>&1
t2=$(date +%s.%N)
echo "record: lua5.4 alone $(secs "$t0" "$t1") s, recorded $(secs "$t1" "$t2") s," \
  "$(wc -c <"$TMP/lua.mtrace") bytes of trace"

"$BENCH" "$TMP/lua.mtrace" first_fit best_fit segregated
# tlsf apart: a policy that never finishes must not take the other figures with it.
"$BENCH" "$TMP/lua.mtrace" tlsf | tail -n 3 || echo "tlsf: did not finish"

echo
"$SH" run tests/bench/lua_policy.lua "$TMP/lua.mtrace"

echo
echo "stackheap replay (the whole command, one policy, checks on):"
for p in first_fit segregated; do
  t0=$(date +%s.%N); "$SH" replay "$TMP/lua.mtrace" --policy $p >/dev/null 2>&1 || true; t1=$(date +%s.%N)
  "$SH" replay "$TMP/lua.mtrace" --policy $p --cache >/dev/null 2>&1 || true; t2=$(date +%s.%N)
  "$SH" replay "$TMP/lua.mtrace" --policy $p --cache >/dev/null 2>&1 || true; t3=$(date +%s.%N)
  echo "  $p: from text $(secs "$t0" "$t1") s, writing the cache $(secs "$t1" "$t2") s," \
    "from the cache $(secs "$t2" "$t3") s"
  rm -f "$TMP/lua.mtrace.shbin"
done
