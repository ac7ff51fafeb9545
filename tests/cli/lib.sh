# lib.sh — shared by the CLI end-to-end tests (sourced, not run): runs the
# stackheap command and checks its exit status and output exactly.
#
# ctest sets STACKHEAP (the executable), SH_SOURCE_DIR and SH_VERSION, and
# runs each test from the source root so paths in messages are predictable.
set -euo pipefail

: "${STACKHEAP:?STACKHEAP must name the stackheap executable (ctest sets it)}"
: "${SH_SOURCE_DIR:?SH_SOURCE_DIR must name the source root (ctest sets it)}"
cd "$SH_SOURCE_DIR"
# The host's own lookup of its scripts is part of what is tested; a test that
# wants the override sets it itself.
unset STACKHEAP_SCRIPTS

# shellcheck disable=SC2034 # FIX and $both are for the tests that source this
FIX=tests/cli/fixtures
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0
shown=

# sh_run ARG... — runs stackheap; sets $status, $out and $err (each without
# its trailing newlines) and $both (stdout and stderr as interleaved).
sh_run() {
  set +e
  "$STACKHEAP" "$@" >"$TMP/out" 2>"$TMP/err"
  status=$?
  "$STACKHEAP" "$@" >"$TMP/both" 2>&1
  set -e
  out=$(cat "$TMP/out")
  err=$(cat "$TMP/err")
  # shellcheck disable=SC2034 # read through expect_eq both
  both=$(cat "$TMP/both")
  last="stackheap $*"
}

# sh_run_in DIR ARG... — sh_run from another working directory.
sh_run_in() {
  local dir=$1
  shift
  pushd "$dir" >/dev/null
  sh_run "$@"
  popd >/dev/null
}

_ok() { passed=$((passed + 1)); echo "ok - $last: $1"; }
# On a failure the command's status and output are shown once per run.
_not_ok() {
  failed=$((failed + 1))
  echo "not ok - $last: $1"
  if [ "$shown" != "$last" ]; then
    shown=$last
    echo "  status: $status"
    echo "  stdout:"; printf '%s\n' "$out" | sed 's/^/  | /'
    echo "  stderr:"; printf '%s\n' "$err" | sed 's/^/  | /'
  fi
}
expect_status() {
  if [ "$status" -eq "$1" ]; then _ok "exit status $1"; else _not_ok "exit status should be $1"; fi
}
# expect_eq WHAT TEXT — WHAT is out, err or both; the whole text must match.
expect_eq() {
  local actual=${!1}
  if [ "$actual" = "$2" ]; then _ok "$1 is '$2'"; else _not_ok "$1 should be '$2'"; fi
}
# expect_has / expect_lacks WHAT TEXT — a fixed substring (no patterns).
expect_has() {
  local actual=${!1}
  case "$actual" in *"$2"*) _ok "$1 has '$2'" ;; *) _not_ok "$1 should contain '$2'" ;; esac
}
expect_lacks() {
  local actual=${!1}
  case "$actual" in *"$2"*) _not_ok "$1 should not contain '$2'" ;; *) _ok "$1 lacks '$2'" ;; esac
}

# Ends the test: the closing line counts checks; non-zero exit on a failure.
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
