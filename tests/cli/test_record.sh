# test_record.sh — `stackheap record` on real programs (sort, lua5.4, a shell
# that forks): the trace is glibc's mtrace format, one section per process,
# and replays with the driver's checks passing.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

seq 1 3000 | sort -R --random-source=<(yes) >"$TMP/nums"

sh_run record -o "$TMP/sort.mtrace" -- sort -n "$TMP/nums"
expect_status 0
expect_eq err "stackheap: record: sort (1 process) -> $TMP/sort.mtrace"
expect_has out $'1\n2\n3\n4\n5\n'
head -1 "$TMP/sort.mtrace" >"$TMP/first"
first=$(cat "$TMP/first")
[ "$first" = "= Start" ] && _ok "the trace starts with '= Start'" || _not_ok "the trace starts with '= Start'"
grep -q '^@ .*\] + 0x[0-9a-f]* 0x[0-9a-f]*$' "$TMP/sort.mtrace" && _ok "it has glibc's '+' lines" || _not_ok "it has glibc's '+' lines"

sh_run replay "$TMP/sort.mtrace" --json
expect_status 0
expect_has out '"errors":0'
expect_has out '"format":"mtrace"'

# A Lua program: thousands of allocations, frees and reallocs.
sh_run record -o "$TMP/lua.mtrace" -- lua5.4 -e 'local t = {} for i = 1, 3000 do t[i] = {i, tostring(i)} end print(#t)'
expect_status 0
expect_eq out "3000"
n=$(grep -c '^@.* [-+<] ' "$TMP/lua.mtrace" || true)
[ "$n" -gt 5000 ] && _ok "lua5.4 made $n allocator calls" || _not_ok "lua5.4 made only $n allocator calls"
sh_run replay "$TMP/lua.mtrace" --policy first_fit,best_fit
expect_status 0
expect_has out "first_fit"

# Children, forked and exec'd, each get a section; the program's own exit
# status is reported, not taken.
sh_run record -o "$TMP/sh.mtrace" -- sh -c 'echo hi | cat; exit 3'
expect_status 0
expect_eq out "hi"
expect_has err "(3 processes) -> $TMP/sh.mtrace"
expect_has err "sh exited with status 3"
starts=$(grep -c '^= Start$' "$TMP/sh.mtrace")
[ "$starts" -eq 3 ] && _ok "three '= Start' sections" || _not_ok "three '= Start' sections, got $starts"
sh_run replay "$TMP/sh.mtrace"
expect_status 0

sh_run record --split -o "$TMP/split" -- sh -c 'echo hi | cat'
expect_status 0
# (sh_run runs the command twice, so count the files the last run named.)
count=0
for f in $(grep -o "$TMP/split\.[0-9]*" <<<"$err"); do [ -s "$f" ] && count=$((count + 1)); done
[ "$count" -eq 3 ] && _ok "--split wrote three files" || _not_ok "--split wrote $count files"

sh_run record -o "$TMP/none.mtrace" -- /nonexistent/program
expect_status 2
expect_has err "stackheap: record: cannot run /nonexistent/program"

sh_run record
expect_status 2

finish
