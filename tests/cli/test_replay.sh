# test_replay.sh — `stackheap replay` and `stackheap gen` end to end: reports, --json,
# --log as a replayable trace (the round trips), caches, exit statuses, bad input.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

T=tests/traces

# json_stats FILE — the --json output without what names the input.
json_stats() {
  sed -e 's/"format":"[a-z]*",//' -e 's/,"trace":"[^"]*"//' -e 's/,"warnings":[0-9]*//' "$1"
}

sh_run replay "$T/sample.mtrace"
expect_status 0
expect_has out "$T/sample.mtrace: mtrace, 10 operations, 1 warning"
expect_has out "first_fit"
expect_eq err "stackheap: $T/sample.mtrace:15: warning: free of 0x7f3a5c000b20, which the trace never allocated (ignored)"

sh_run replay "$T/sample.mtrace" --json
expect_status 0
expect_has out '"warnings":1'
expect_has out '"ops":10,'
expect_has out '"errors":0,'
expect_has out '"heap":{"allocs":4,'
expect_has out '"utilization":'

# Round trip: mtrace -> JSONL (the log) -> replay gives the same statistics.
for trace in sample.mtrace classic.rep newer.rep sample.jsonl; do
  "$STACKHEAP" replay "$T/$trace" --json --log "$TMP/log.jsonl" >"$TMP/a.json" 2>/dev/null
  "$STACKHEAP" replay "$TMP/log.jsonl" --json >"$TMP/b.json"
  last="replay $trace, then its log"
  if [ "$(json_stats "$TMP/a.json")" = "$(json_stats "$TMP/b.json")" ] && [ -s "$TMP/a.json" ]; then
    _ok "same statistics"
  else
    status=1 out="$(cat "$TMP/a.json" "$TMP/b.json")" err=""
    _not_ok "same statistics"
  fi
done
head -1 "$TMP/log.jsonl" >"$TMP/line"
sh_run run /dev/null
last="the log's first line"
line=$(cat "$TMP/line")
[ "$line" = '{"i":0,"op":"alloc","id":1,"size":24,"addr":4112,"searched":1}' ] && _ok "is as API.md shows" || { out=$line; _not_ok "is as API.md shows"; }

# Every built-in policy in one pass, and a table row for each.
policies=$("$STACKHEAP" run /dev/stdin <<<'io.write(table.concat(require("stackheap.core").policies(), ","))')
sh_run replay "$T/classic.rep" --policy "$policies"
expect_status 0
for p in ${policies//,/ }; do expect_has out "$p "; done
sh_run replay "$T/classic.rep" --policy "first_fit,best_fit" --json --log "$TMP/multi"
expect_status 0
expect_has out '"policies":[{'
[ -s "$TMP/multi.first_fit" ] && [ -s "$TMP/multi.best_fit" ] && _ok "one log per policy" || _not_ok "one log per policy"

sh_run replay "$T/classic.rep" --every 3
expect_status 0
expect_has out "heap over time, first_fit:"
expect_has out "live bytes"

# --set reaches the machine's option parser; its refusals are bad usage.
sh_run replay "$T/classic.rep" --set size=8K --set split_min=0x20 --json
expect_status 0
sh_run replay "$T/classic.rep" --set nonsense=1
expect_status 2
expect_has err "unknown option 'nonsense'"
sh_run replay "$T/classic.rep" --set size
expect_status 2
expect_has err "--set expects key=value"
sh_run replay "$T/classic.rep" --policy no_such_policy
expect_status 2
expect_has err "no_such_policy"

# A failed check (here an allocation the heap cannot hold) is exit status 1.
printf '{"op":"alloc","id":1,"size":100000}\n{"op":"free","id":1}\n' >"$TMP/big.jsonl"
sh_run replay "$TMP/big.jsonl" --set max=8192
expect_status 1
expect_has err "stackheap: first_fit: $TMP/big.jsonl:1: alloc of 100000 bytes for id 1 failed: out of memory"

# Bad input: exit status 2, the file and the line named.
printf '1 2 2 1\na 0 8\nf 1\n' >"$TMP/bad.rep"
sh_run replay "$TMP/bad.rep"
expect_status 2
expect_eq err "stackheap: $TMP/bad.rep:3: free of id 1, which is not live (never allocated, or freed already)"
printf '1 2 2 1\na 0 8\nq 1\n' >"$TMP/bad2.rep"
sh_run replay "$TMP/bad2.rep"
expect_status 2
expect_eq err "stackheap: $TMP/bad2.rep:3: expected an operation 'a ID SIZE', 'r ID SIZE' or 'f ID', got 'q 1'"
printf '+ 0x10 0x8\n+ 0x20\n' >"$TMP/bad.mtrace"
sh_run replay "$TMP/bad.mtrace"
expect_status 2
expect_has err "$TMP/bad.mtrace:2: expected a space before the size"
head -c 3000 /dev/urandom >"$TMP/garbage"
sh_run replay "$TMP/garbage" --format mtrace
expect_status 2
expect_has err "$TMP/garbage:"
sh_run replay "$TMP/garbage" --format rep
expect_status 2
sh_run replay "$TMP/garbage" --format jsonl
expect_status 2
sh_run replay "$TMP/garbage" --format bin
expect_status 2
expect_has err "the parsed trace is damaged"
sh_run replay "$TMP/no-such-file"
expect_status 2
expect_eq err "stackheap: $TMP/no-such-file: cannot open: No such file or directory"

# The cache: written beside the trace on the first run, read on the next.
cp "$T/sample.mtrace" "$TMP/c.mtrace"
sh_run replay "$TMP/c.mtrace" --json --cache
expect_status 0
cp "$TMP/out" "$TMP/first.json"
[ -s "$TMP/c.mtrace.shbin" ] && _ok "the cache is written" || _not_ok "the cache is written"
sh_run replay "$TMP/c.mtrace" --json --cache
expect_eq out "$(cat "$TMP/first.json")"
expect_has err "never allocated (ignored)"
sh_run replay "$TMP/c.mtrace.shbin" --json
expect_status 0
sh_run replay "$TMP/c.mtrace" --cache "$TMP/elsewhere.bin"
expect_status 0
[ -s "$TMP/elsewhere.bin" ] && _ok "--cache FILE" || _not_ok "--cache FILE"

# gen: the same seed gives the same bytes in every format, and they replay.
for f in jsonl rep mtrace bin; do
  "$STACKHEAP" gen -n 2000 --seed 9 --realloc 0.2 --sizes exp:64 --format "$f" -o "$TMP/g1.$f"
  "$STACKHEAP" gen -n 2000 --seed 9 --realloc 0.2 --sizes exp:64 --format "$f" -o "$TMP/g2.$f"
  last="gen --format $f"
  cmp -s "$TMP/g1.$f" "$TMP/g2.$f" && _ok "reproducible" || _not_ok "reproducible"
  sh_run replay "$TMP/g1.$f" --json
  expect_status 0
  expect_has out '"errors":0,'
done
sh_run gen -n 5 --seed 2
expect_status 0
expect_eq out $'{"op":"alloc","id":0,"size":174}\n{"op":"alloc","id":1,"size":128}\n{"op":"alloc","id":2,"size":24}\n{"op":"free","id":0}\n{"op":"alloc","id":3,"size":243}'
sh_run gen --sizes lognormal:x
expect_status 2
expect_has err "--sizes lognormal:x: 'x' is not a number"

finish
