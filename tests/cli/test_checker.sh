# test_checker.sh — `stackheap run` with a checked machine: each finding is a
# compiler-style diagnostic with notes at the lines that allocated and freed the
# memory, leaks are found when the script ends, the run exits 1, and two runs print
# the same bytes.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

sh_run run "$FIX/checker_leak.lua"
expect_status 1
expect_eq out "done"
expect_eq err "$FIX/checker_leak.lua:9: error: use_after_free: store: write of 8 bytes at 0x1038, 8 bytes into the 24-byte block at 0x1030, which was freed at op 4
$FIX/checker_leak.lua:7: note: the 24-byte block at 0x1030 was allocated here (op 3)
$FIX/checker_leak.lua:8: note: and freed here (op 4)
    The block was freed: its memory belongs to the allocator again and may
    already hold somebody else's data. Reading gives whatever is there now;
    writing can destroy another allocation or the allocator's bookkeeping. The
    pointer still holds the old address, but nothing lives there any more.
$FIX/checker_leak.lua: error: leak (definitely lost): 20 bytes in 2 blocks definitely lost (the first at 0x1050, allocated at op 6)
$FIX/checker_leak.lua:10: note: the 10-byte block at 0x1050 was allocated here (op 6)
    No pointer to the block is left in a live slot or in a block reachable
    from one, so the program can never free it: the memory stays taken until
    the program ends.
stackheap: the checker found 2 errors"
first=$err
sh_run run "$FIX/checker_leak.lua"
expect_eq err "$first"

finish
