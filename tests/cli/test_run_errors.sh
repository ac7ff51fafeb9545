# test_run_errors.sh — how `stackheap run` reports a bad scenario: status 2
# for one it cannot read or compile, 1 for one that raises, with file:line.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

sh_run run nope.lua
expect_status 2
expect_eq err "stackheap: cannot open nope.lua: No such file or directory"
expect_eq out ""

sh_run run "$FIX/syntax_error.lua"
expect_status 2
expect_has err "stackheap: $FIX/syntax_error.lua:3: "
expect_eq out ""

sh_run run "$FIX/runtime_error.lua"
expect_status 1
expect_eq err "stackheap: $FIX/runtime_error.lua:5: table 7 is taken"
expect_lacks err "stack traceback"
# What the script printed comes first, even through a single pipe.
expect_eq both $'seating the party\nstackheap: '"$FIX"'/runtime_error.lua:5: table 7 is taken'

sh_run run --traceback "$FIX/runtime_error.lua"
expect_status 1
expect_has err "stackheap: $FIX/runtime_error.lua:5: table 7 is taken"
expect_has err "stack traceback:"
expect_has err "runtime_error.lua:8: in "
expect_has err "runtime_error.lua:10: in main chunk"
# Frames below the script (the CLI's own) are noise and are cut.
expect_lacks err "xpcall"

sh_run run "$FIX/error_object.lua" table
expect_status 1
expect_eq err "stackheap: (error object is a table value)"

sh_run run "$FIX/error_object.lua" tostring
expect_status 1
expect_eq err "stackheap: a custom error"

# Misuse a checker recorded fails the run, after the script's own output,
# as a compiler's diagnostic: the line, the kind, the machine, then notes at
# the lines that allocated and freed the block, and why it matters.
sh_run run "$FIX/double_free.lua"
expect_status 1
expect_eq out "done"
expect_eq err "$FIX/double_free.lua:8: error: double_free: free: 0x1010 is not the start of a live block (freed at op 1) [machine 2]
$FIX/double_free.lua:6: note: the 24-byte block at 0x1010 was allocated here (op 0)
$FIX/double_free.lua:7: note: and freed here (op 1)
    The block was already given back to the allocator. Freeing it a second
    time makes the allocator record the same memory as free twice, so two
    later allocations can be handed the same bytes and overwrite each other.
    Free each block exactly once, and forget (or null) the pointer after
    freeing it.
stackheap: the checker found 1 error"

finish
