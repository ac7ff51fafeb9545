# test_help.sh — help and usage errors: --help goes to stdout with status 0,
# bad usage goes to stderr with the usage and status 2.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

sh_run --help
expect_status 0
expect_has out "Usage: stackheap"
expect_has out "run                   Run a scenario script."
expect_has out "--version"
expect_eq err ""

sh_run -h
expect_status 0
expect_has out "Usage: stackheap"

sh_run run --help
expect_status 0
expect_has out "Usage: stackheap run"
expect_has out "<script>"
expect_has out "--traceback"
expect_eq err ""

# --help after the script belongs to the script, not to run.
sh_run run "$FIX/args.lua" --help
expect_status 0
expect_eq out $'n=1\narg[0]=tests/cli/fixtures/args.lua\n1: [--help]'

sh_run
expect_status 2
expect_has err "Usage: stackheap"
expect_has err "stackheap: a command is required"
expect_eq out ""

sh_run frob
expect_status 2
expect_has err "Usage: stackheap"
expect_has err "stackheap: unknown command 'frob'"
expect_eq out ""

sh_run --bogus
expect_status 2
expect_has err "stackheap: unknown option '--bogus'"

sh_run run
expect_status 2
expect_has err "Usage: stackheap run"
expect_has err "stackheap: missing argument 'script'"

sh_run run --bogus "$FIX/args.lua"
expect_status 2
expect_has err "Usage: stackheap run"
expect_has err "stackheap: unknown option '--bogus'"

finish
