# test_cache.sh — `stackheap cache` and `stackheap csim` on small traces worked out by hand,
# and what they say about bad input: status 2 and a message naming the file and line.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

C=$FIX/cache
CG=(--profile cachegrind --I1 256,2,64 --D1 256,2,64 --LL 1024,4,64)

# The cache lab's own example (yi.trace, -s 4 -E 1 -b 4), verdicts as csim-ref prints them.
sh_run csim -s 4 -E 1 -b 4 -t "$C/yi.trace"
expect_status 0
expect_eq out "hits:4 misses:5 evictions:3"
sh_run csim -v -s 4 -E 1 -b 4 -t "$C/yi.trace"
expect_status 0
expect_eq out $'L 10,1 miss\nM 20,1 miss hit\nL 22,1 hit\nS 18,1 hit\nL 110,1 miss eviction\nL 210,1 miss eviction\nM 12,1 miss eviction hit\nhits:4 misses:5 evictions:3'
# Two lines a set: 10, 110 and 210 all map to set 1, so only 210 and the last
# M 12 (its line was the least recent) evict.
sh_run csim -s 4 -E 2 -b 4 -t "$C/yi.trace"
expect_eq out "hits:4 misses:5 evictions:2"
sh_run csim -s 4 -E 0 -b 4 -t "$C/yi.trace"
expect_status 2
expect_has err "-E must be an integer from 1 to 16777216, got '0'"
sh_run csim -s 4 -E 1 -b 4
expect_status 2
sh_run csim -s 4 -E 1 -b 4 -t "$C/nope.trace"
expect_status 2
expect_eq err "stackheap: cannot open $C/nope.trace: No such file or directory"

# small.lackey with a 2-set I1 and D1 and a 4-set LL (64-byte lines), by hand:
#   I 400000 miss (LL miss); I 400004 hit; L 1000 miss (LL miss); S 1008 hit; M 1010 hit,
#   a read; L 103c straddles 1000/1040: one access, one miss (1040), LL sees both lines:
#   miss; S 2000 miss (LL miss); L 3000 miss, evicts 1000 from D1 set 0 (LL miss);
#   L 1000 miss, LL hit; I 400040 miss (LL miss).  Banner lines are skipped.
sh_run cache "$C/small.lackey" "${CG[@]}" --json
expect_status 0
expect_has out '{"Ir":3,"I1mr":2,"ILmr":2,"Dr":5,"D1mr":4,"DLmr":3,"Dw":2,"D1mw":1,"DLmw":1,'
expect_eq err ""
# din: fetch, read, write, read (size 8), flush, read again: the flush empties all.
sh_run cache --format din "$C/small.din" "${CG[@]}" --json
expect_status 0
expect_has out '{"Ir":1,"I1mr":1,"ILmr":1,"Dr":3,"D1mr":3,"DLmr":3,"Dw":1,"D1mw":0,"DLmw":0,'
# Without --json: cachegrind's summary lines and a table of levels.
sh_run cache "$C/small.lackey" "${CG[@]}"
expect_status 0
expect_has out "I   refs:                   3"
expect_has out "D1  misses:                 5  (             4 rd   +              1 wr)"
# The default hierarchy (a unified 32 KiB L1, then L2): 400004, 1008, 1010 and the
# second L 1000 hit; the six others miss in both and come from memory (200 cycles).
sh_run cache "$C/small.lackey" --json
expect_status 0
expect_has out '"levels":[{"name":"L1","accesses":10,"hits":4,"misses":6,'

# Bad input: status 2, file and line, nothing on stdout.
sh_run cache "$C/bad.lackey"
expect_status 2
expect_eq err "stackheap: $C/bad.lackey:3: expected a hexadecimal address then ',size', got ' L zz,8'"
expect_eq out ""
sh_run cache --format din "$C/bad.din"
expect_status 2
expect_eq err "stackheap: $C/bad.din:2: expected a label 0-4 then an address, got '7 2000'"
head -c 4000 /dev/urandom >"$TMP/garbage"
printf 'I  0400000,4\n\0\1\2 L\n' >"$TMP/nul"
sh_run cache "$TMP/garbage"
expect_status 2
expect_has err "stackheap: $TMP/garbage:"
sh_run cache "$C/garbage.bin"
expect_status 2
expect_eq err "stackheap: $C/garbage.bin:1: a NUL byte: this is not a text trace"
sh_run cache "$TMP/nul"
expect_status 2
expect_eq err "stackheap: $TMP/nul:2: a NUL byte: this is not a text trace"
sh_run cache --format din "$TMP/garbage"
expect_status 2
printf 'I  0400000,4\n L 12345678901234567,8\n' >"$TMP/big"
sh_run cache "$TMP/big"
expect_status 2
expect_has err "$TMP/big:2: expected a hexadecimal address"
sh_run cache nope.trace
expect_status 2
expect_eq err "stackheap: cannot open nope.trace: No such file or directory"
sh_run cache --profile cachegrind --I1 1000,2,64 "$C/yi.trace"
expect_status 2
expect_eq err "stackheap: cache: I1: cache set count is not a power of two (size 1000, ways 2, line 64)"
sh_run cache --D1 32k "$C/yi.trace"
expect_status 2
expect_has err "--D1 must be size,ways,line"
sh_run cache --format mtrace "$C/yi.trace"
expect_status 2

finish
