# test_version.sh — `stackheap --version` prints the module's version, and
# that version agrees with the one CMake builds and installs.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

sh_run --version
expect_status 0
expect_eq out "stackheap $SH_VERSION"
expect_eq err ""

# The same text as the module's own _VERSION: --version falls back to a
# constant when the module cannot load, which must not hide a broken module.
printf '%s\n' 'print(require("stackheap")._VERSION)' >"$TMP/version.lua"
sh_run run "$TMP/version.lua"
expect_status 0
expect_eq out "stackheap $SH_VERSION"

finish
