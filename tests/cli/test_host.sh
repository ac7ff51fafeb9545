# test_host.sh — the embedding host: Debian's Lua modules load inside it, a
# #! script (busted) runs, STACKHEAP_SCRIPTS overrides where scripts are found.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

sh_run run "$FIX/modules.lua"
expect_status 0
expect_eq out $'lpeg ok\ncjson ok\nargparse ok\nstackheap.core ok\nstackheap ok'
expect_eq err ""

# busted's runner starts with "#!/usr/bin/env lua"; the specs run this way.
sh_run run /usr/bin/busted --version
expect_status 0
expect_eq err ""

# The override wins over the source tree; the host exits with main's status.
STACKHEAP_SCRIPTS="$SH_SOURCE_DIR/$FIX/scripts" sh_run alpha -beta
expect_status 7
expect_eq out "fixture cli: alpha -beta"

# A Lua error escaping cli.main is one line, no C or Lua traceback.
STACKHEAP_SCRIPTS="$TMP/nowhere" sh_run --version
expect_status 1
expect_has err "stackheap: module 'stackheap.cli' not found"
expect_lacks err "stack traceback"

finish
