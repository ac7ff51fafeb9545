# test_layout.sh — `stackheap layout`: Rust and C layouts as text and JSON, both
# word sizes, and bad input (exit 2 with the column) without a traceback.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

sh_run layout 'struct P { a: u8, b: u32, c: u16 }'
expect_status 0
expect_has out "P: size 8, align 4"
expect_has out "     0     4      4  b          u32"
expect_has out "     7     1         (padding)"

sh_run layout --json 'Option<Box<u64>>'
expect_status 0
expect_has out '"size":8'
expect_has out '"encoding":"niche"'
printf '%s\n' "$out" | lua5.4 -e 'local t = require("cjson").decode(io.read("a")); assert(t.align == 8 and #t.variants == 2)' \
  && _ok "the JSON parses" || _not_ok "the JSON should parse"

sh_run layout --lang c --word 4 'struct S { char c; double d; };'
expect_status 0
expect_has out "struct S: size 12, align 4"

sh_run layout --lang c 'struct F { int n; char d[]; };'
expect_status 0
expect_has out "unsized (sizeof counts 4)"
expect_has out "flexible array member d"

sh_run layout 'str'
expect_status 0
expect_has out "str is unsized"

sh_run layout 'struct L { v: u8, next: L }'
expect_status 2
expect_has err "stackheap: layout: column 25: recursive type L contains itself without indirection"
expect_has err "Box<L>"
expect_lacks err "traceback"

sh_run layout 'struct P { a: u8 b: u8 }'
expect_status 2
expect_has err "column 18: expected '}' to close the fields"

sh_run layout --lang c 'struct S { int x : 3; };'
expect_status 2
expect_has err "column 18: bit-fields are not supported"

sh_run layout --lang go 'u8'
expect_status 2

sh_run layout --help
expect_status 0
expect_has out "--lang"

finish
