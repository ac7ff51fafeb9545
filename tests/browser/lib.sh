# lib.sh -- shared by the browser tests (sourced): headless Chromium, driven
# by the report page's own self-test (#selftest), and screenshots.
set -euo pipefail
: "${STACKHEAP:?STACKHEAP must name the stackheap executable (ctest sets it)}"
: "${SH_SOURCE_DIR:?SH_SOURCE_DIR must name the source root (ctest sets it)}"
cd "$SH_SOURCE_DIR"
unset STACKHEAP_SCRIPTS
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
  echo "chromium not found: the browser tests need Debian's chromium (apt-get install chromium)" >&2
  exit 1
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# browse ARG... -- one headless Chromium run; its log (console messages
# included) goes to $TMP/log.
browse() {
  timeout 240 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --no-first-run --user-data-dir="$TMP/profile" --enable-logging=stderr --v=0 "$@" \
    2>"$TMP/log"
}

# selftest HTML FRAGMENT KEY=VALUE... -- load the page with #selftest&FRAGMENT,
# let it drive itself, and check what it saw.
selftest() {
  local html=$1 frag=$2
  shift 2
  browse --dump-dom "file://$html#selftest&$frag" >"$TMP/dom"
  lua5.4 tests/browser/check.lua "$TMP/dom" "$TMP/log" "$@"
}

# png_size FILE -- width and height from a PNG's header.
png_size() {
  od -An -tu1 -j16 -N8 "$1" | awk '{ print $1*16777216+$2*65536+$3*256+$4 "x" $5*16777216+$6*65536+$7*256+$8 }'
}

# screenshot HTML FRAGMENT OUT -- a 1280x900 picture of the page at a step;
# fails when it is no bigger than a blank page's (a blank page compresses
# to almost nothing, a drawn one does not).
screenshot() {
  local html=$1 frag=$2 out=$3
  browse --window-size=1280,900 --screenshot="$out" "file://$html#$frag" >/dev/null
  echo '<!DOCTYPE html><html><body></body></html>' >"$TMP/blank.html"
  browse --window-size=1280,900 --screenshot="$TMP/blank.png" "file://$TMP/blank.html" >/dev/null
  local size blank dims
  size=$(stat -c %s "$out")
  blank=$(stat -c %s "$TMP/blank.png")
  dims=$(png_size "$out")
  if [ "$dims" != "1280x900" ]; then echo "FAIL: screenshot is $dims, not 1280x900" >&2; return 1; fi
  if [ "$size" -le $((blank * 5)) ]; then
    echo "FAIL: the screenshot ($size bytes) is about as empty as a blank page ($blank bytes)" >&2
    return 1
  fi
  echo "ok: screenshot $out, $size bytes (a blank page: $blank)"
}
