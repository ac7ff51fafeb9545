# test_cache_valgrind.sh — `stackheap cache --profile cachegrind` against valgrind itself:
# a C program is compiled, traced with lackey and run under cachegrind; all nine counters
# must be equal, for several cache configurations. Skipped (exit 77) without valgrind or cc.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

CC=${CC:-cc}
if ! command -v valgrind >/dev/null 2>&1 || ! command -v "$CC" >/dev/null 2>&1; then
  echo "SKIP: valgrind or a C compiler is not installed (apt-get install valgrind gcc)"
  exit 77
fi

"$CC" -O1 -o "$TMP/walk" "$FIX/cache/walk.c"
# The same program, arguments and environment for both tools.
valgrind --tool=lackey --trace-mem=yes --log-file="$TMP/walk.lackey" "$TMP/walk" 3000 >/dev/null

# size,ways,line for I1, D1 and LL: a common shape, 12-way, fully associative
# I1 with D1 and LL of other line sizes, and a last level smaller than I1.
configs=(
  "32768,8,64 32768,8,64 262144,8,64"
  "49152,12,64 49152,12,64 393216,12,64"
  "4096,64,64 8192,2,32 65536,16,128"
  "32768,4,64 2048,2,64 16384,256,64"
)
for cfg in "${configs[@]}"; do
  read -r i1 d1 ll <<<"$cfg"
  rm -f "$TMP/cg.out"
  valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file="$TMP/cg.out" \
    --I1="$i1" --D1="$d1" --LL="$ll" "$TMP/walk" 3000 >/dev/null 2>"$TMP/cg.err"
  want=$(sed -n 's/^summary: //p' "$TMP/cg.out" | tr -s ' ' | sed 's/ $//')
  sh_run cache "$TMP/walk.lackey" --profile cachegrind --I1 "$i1" --D1 "$d1" --LL "$ll" --json
  expect_status 0
  # One JSON object (cjson must parse it whole) whose counters are written as integers.
  got=$(printf '%s' "$out" | lua5.4 -e '
    local text = io.read("a")
    assert(type(require("cjson").decode(text)) == "table")
    local t = {}
    for _, k in ipairs{"Ir","I1mr","ILmr","Dr","D1mr","DLmr","Dw","D1mw","DLmw"} do
      t[#t + 1] = assert(text:match("\"" .. k .. "\":(%d+)[,}]"), k)
    end
    io.write(table.concat(t, " "))')
  last="cache --profile cachegrind --I1 $i1 --D1 $d1 --LL $ll"
  if [ -n "$want" ] && [ "$got" = "$want" ]; then
    _ok "counters equal cachegrind's ($want)"
  else
    _not_ok "counters '$got' differ from cachegrind's '$want'"
  fi
done

finish
