# test_run_exit.sh — a scenario's exit status and arguments: os.exit(n) is
# the status, a normal return is 0, arguments reach the script untouched.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

sh_run run "$FIX/exit.lua" 3
expect_status 3
expect_eq out "leaving with 3"

sh_run run "$FIX/exit.lua" 0
expect_status 0

sh_run run "$FIX/args.lua"
expect_status 0
expect_eq out $'n=0\narg[0]=tests/cli/fixtures/args.lua'
expect_eq err ""

# Option-like arguments after the script are the script's, even run's own
# --traceback and a second "--".
sh_run run --traceback "$FIX/args.lua" -x --traceback -- "two words" ""
expect_status 0
expect_eq out $'n=5\narg[0]=tests/cli/fixtures/args.lua\n1: [-x]\n2: [--traceback]\n3: [--]\n4: [two words]\n5: []'

# "--" before the script lets a script name start with '-'.
cp "$FIX/args.lua" "$TMP/-dash.lua"
sh_run_in "$TMP" run -- -dash.lua -y
expect_status 0
expect_eq out $'n=1\narg[0]=-dash.lua\n1: [-y]'

# stdout and stderr keep the order the script wrote them in.
sh_run run "$FIX/interleave.lua"
expect_status 0
expect_eq both $'out 1\nerr 2\nout 3\nerr 4'

finish
