# test_checker_memcheck.sh — the checker against Memcheck: each C program in
# fixtures/memcheck/ runs under valgrind, its stackheap equivalent (same name, .lua)
# under `stackheap run`; the kinds of error found, and the bytes and blocks of each
# class of leak, must be the same. Skipped (exit 77) without valgrind or cc.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

CC=${CC:-cc}
if ! command -v valgrind >/dev/null 2>&1 || ! command -v "$CC" >/dev/null 2>&1; then
  echo "SKIP: valgrind or a C compiler is not installed (apt-get install valgrind gcc)"
  exit 77
fi

# Memcheck's report as one line per finding: a kind, or "leak CLASS BYTES BLOCKS".
memcheck_kinds() {
  awk '
    /Invalid (read|write) of size/ { what = "access"; next }
    /Invalid free\(\)/ { what = "free"; next }
    /depends on uninitialised value|Use of uninitialised value|uninitialised byte/ {
      print "uninitialised"; next }
    / Address 0x[0-9a-f]+ is / {
      if (what == "access") print (/free.d/ ? "use_after_free" : "out_of_bounds")
      else if (what == "free") print (/free.d/ ? "double_free" : "invalid_free")
      what = ""; next }
    /(definitely|indirectly|possibly) lost: [1-9]/ {
      gsub(/,/, ""); for (i = 1; i <= NF; i++) if ($i == "lost:") print "leak", $(i - 1), $(i + 1), $(i + 4)
    }' "$1" | sort -u
}

# stackheap's diagnostics the same way (leak records of one class summed).
stackheap_kinds() {
  awk '
    / error: leak \((definitely|indirectly|possibly) lost\): / {
      for (i = 1; i <= NF; i++) if ($i == "lost):") { c = $(i - 1); sub(/\(/, "", c)
        bytes[c] += $(i + 1); blocks[c] += $(i + 4) }
      next }
    / error: [a-z_]+: / { for (i = 1; i <= NF; i++) if ($i == "error:") { k = $(i + 1); sub(/:$/, "", k); print k } }
    END { for (c in bytes) print "leak", c, bytes[c], blocks[c] }' "$1" | sort -u
}

for src in "$FIX"/memcheck/*.c; do
  name=$(basename "$src" .c)
  "$CC" -g -O0 -w -o "$TMP/$name" "$src"     # the programs are wrong on purpose
  valgrind --leak-check=full --log-file="$TMP/$name.vg" "$TMP/$name" >/dev/null
  want=$(memcheck_kinds "$TMP/$name.vg")
  sh_run run "$FIX/memcheck/$name.lua"
  expect_status 1
  printf '%s\n' "$err" >"$TMP/$name.sh"
  got=$(stackheap_kinds "$TMP/$name.sh")
  last="$name: memcheck found [$(echo $want)], stackheap [$(echo $got)]"
  if [ -n "$want" ] && [ "$want" = "$got" ]; then _ok "the same findings"; else _not_ok "the same findings"; fi
done

finish
