# test_ostep_malloc.sh — `stackheap ostep-malloc` end to end: a few cases of the table
# (fixtures/ostep_malloc/cases.txt, all of which tests/spec/ostep_malloc_spec.lua runs in
# one process) through the executable, byte for byte; --html/--svg; then the error paths
# (malformed -A items, bad flags): a clear message on stderr, nothing on stdout, status 2.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

DIR=$FIX/ostep_malloc

# Byte-exact: the files are compared, so trailing spaces and blank lines count.
expect_file() {
  if cmp -s "$1" "$2"; then _ok "$3 matches $2"
  else _not_ok "$3 differs from $2: $(diff "$2" "$1" | head -5 | tr '\n' '|')"; fi
}

# One run of the executable per case, so a slow (sanitizer) build stays quick.
once() {
  set +e
  "$STACKHEAP" ostep-malloc "$@" >"$TMP/out" 2>"$TMP/err"
  status=$?
  set -e
  out=$(cat "$TMP/out"); err=$(cat "$TMP/err")
  last="stackheap ostep-malloc $*"
}

for name in defaults explicit_homework long_prefixes seed_big zero_size_collision ext_buddy; do
  line=$(grep "^$name|" "$DIR/cases.txt")
  IFS='|' read -r _ _ want args <<<"$line"
  eval "set -- $args"
  once "$@"
  expect_status "$want"
  expect_file "$TMP/out" "$DIR/$name.out" stdout
  if [ -f "$DIR/$name.err" ]; then expect_file "$TMP/err" "$DIR/$name.err" stderr; else expect_eq err ""; fi
done

# Same seed, same bytes: a long random run twice.
"$STACKHEAP" ostep-malloc -s 99 -n 500 -r 30 -S 300 -C -c >"$TMP/run1"
"$STACKHEAP" ostep-malloc -s 99 -n 500 -r 30 -S 300 -C -c >"$TMP/run2"
last="ostep-malloc -s 99 -n 500 twice"
expect_file "$TMP/run2" "$TMP/run1" "the second run"

# ---- errors: nothing on stdout, the reason on stderr, status 2 ----
bad() {
  local want=$1
  shift
  once "$@"
  expect_status 2
  expect_eq out ""
  expect_has err "$want"
}
bad "-A item 1 '+x': expected +SIZE or -INDEX, each a whole number from 0" -A +x
bad "-A item 2 '': an empty item" -A +5,,-0
bad "-A item 2 '': an empty item" -A +5,
bad "-A item 1 '*3': expected +SIZE or -INDEX" -A '*3'
bad "-A item 1 '+5+3': expected +SIZE or -INDEX" -A +5+3
bad "-A item 1 '+-5': expected +SIZE or -INDEX" -A +-5
bad "-A item 3 '-': expected +SIZE or -INDEX" -A +5,-0,-
bad "-A item 1 '+': expected +SIZE or -INDEX" -A +
bad "-A item 1 ' +5': expected +SIZE or -INDEX" -A ' +5'
bad "option -s: invalid integer value: 'abc'" -s abc
bad "option -s: invalid integer value: '08'" -s 08
bad "option -n: invalid integer value: '1.5'" -n 1.5
bad "option -S: invalid integer value: ''" -S ''
bad "option -S: 100000000000000000000 is beyond what stackheap simulates" -S 100000000000000000000
bad "-p: policy must be BEST, WORST or FIRST" -p best
bad "-l: list order must be one of ADDRSORT, SIZESORT+, SIZESORT-, INSERT-FRONT, INSERT-BACK, got 'FOO'" -l FOO
bad "-a: alignment must be -1 (none) or positive, got 0" -a 0
bad "-a: alignment must be -1 (none) or positive, got -2" -a -2
bad "-S: heap size must not be negative, got -1" -S -1
bad "-H: header size must not be negative, got -1" -H -1
bad "-P: percent of allocations must be above 0 (malloc.py asserts it), got 0" -P 0
bad "-r: range must not be negative" -r -1
bad "unexpected argument 'extra'" -n 3 extra
bad "ambiguous option: --s (--seed, --size, --step, --svg?)" --s 5
bad "option '-s' requires an argument" -s
bad "option '-A' requires an argument" -A
bad "unknown option '--bogus'" --bogus
bad "--explain follows malloc.py's own search" -p next_fit --explain
bad "--policy buddy: the heap is one buddy block, so -S must be a power of two (say -S 128), got 100" -p buddy
bad "-a: a stackheap policy needs a power-of-two alignment, got 3" -p first_fit -a 3

# -P is only checked where it is used: an -A run ignores it.
once -P 0 -A +5 -c
expect_status 0
expect_has out "ptr[0] = Alloc(5) returned 1000 (searched 1 elements)"

# ---- the pictures: each step's heap and free list, through the report writer ----
once -A +10,+20,-0,+5,-1,+8,+99,-9 -H 2 -a 4 -c --html "$TMP/r.html" --svg "$TMP/s.svg" --step 4
expect_status 0
"$STACKHEAP" ostep-malloc -A +10,+20,-0,+5,-1,+8,+99,-9 -H 2 -a 4 -c >"$TMP/plain"
expect_file "$TMP/out" "$TMP/plain" "stdout with --html/--svg"
svg=$(cat "$TMP/s.svg")
html=$(cat "$TMP/r.html")
expect_has svg "Step 4 of 8: ptr[2] = Alloc(5) returned 1000 (searched 2 elements)"
expect_has svg "ptr[2]"
expect_has svg "Heap — 100 bytes"
expect_has html "Free(ptr[0]) returned 0"
expect_has html "out of memory"
expect_has html "Invalid Free: Skipping"
# A stopped exercise still gets its report: the steps before the stop.
once -A +0,+5 --html "$TMP/stop.html"
expect_status 2
html=$(cat "$TMP/stop.html")
expect_has html "ptr[0] = Alloc(0) returned 1000"
bad "--step needs --svg" --step 3 -n 2
bad "--step must be 1 or more, got 0" -n 2 --svg "$TMP/x.svg" --step 0
# Known only once the exercise ran: its text is printed, then the error.
late() {
  local want=$1
  shift
  once "$@"
  expect_status 2
  expect_has out "compute False"
  expect_has err "$want"
}
late "--step 30: the exercise has 2 operations" -n 2 --svg "$TMP/x.svg" --step 30
late "--svg: the exercise performed no operation to draw" -n 0 --svg "$TMP/x.svg"
late "cannot write the report: /nonexistent/dir/r.html" -n 2 --html /nonexistent/dir/r.html

once --help
expect_status 0
expect_has out "Usage: stackheap ostep-malloc"
expect_has out "--allocList"

finish
