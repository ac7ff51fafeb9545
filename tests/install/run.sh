# run.sh — the install test: installs into a scratch prefix under the build
# dir and uses the result the way outsiders do (C, CMake, lua5.4, the host).
#
# ctest sets SH_* (see cmake/StackheapTests.cmake): the build and source
# dirs, the tools to use, the install layout and the expected version.
set -euo pipefail

for v in SH_BUILD_DIR SH_SOURCE_DIR SH_VERSION SH_CMAKE SH_CC SH_LUA SH_PKG_CONFIG \
         SH_LIBDIR SH_LUA_LDIR SH_LUA_CDIR SH_DATADIR SH_BINDIR; do
  : "${!v:?$v must be set (ctest sets it)}"
done
SH_CFLAGS=${SH_CFLAGS:-}
SH_SANITIZE=${SH_SANITIZE:-0}

work="$SH_BUILD_DIR/install-test"
prefix="$work/prefix"
rm -rf "$work"
mkdir -p "$work"
libdir="$prefix/$SH_LIBDIR"
# The host must find its scripts by its own location, not by a variable.
unset STACKHEAP_SCRIPTS LUA_PATH LUA_PATH_5_4 LUA_CPATH LUA_CPATH_5_4

step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_match TEXT REGEX WHAT / expect_eq TEXT EXPECTED WHAT / expect_has TEXT PART WHAT
expect_match() { [[ $1 =~ $2 ]] || fail "$3: got '$1', expected to match '$2'"; echo "ok - $3"; }
expect_eq() { [[ $1 == "$2" ]] || fail "$3: got '$1', expected '$2'"; echo "ok - $3"; }
expect_has() { [[ $1 == *"$2"* ]] || fail "$3: got '$1', expected it to contain '$2'"; echo "ok - $3"; }
version_re=${SH_VERSION//./\\.}

step "cmake --install --prefix $prefix"
"$SH_CMAKE" --install "$SH_BUILD_DIR" --prefix "$prefix" >"$work/install.log" \
  || { cat "$work/install.log"; fail "cmake --install"; }
for f in "include/stackheap.h" "$SH_LIBDIR/libstackheap.a" "$SH_LIBDIR/libstackheap.so" \
         "$SH_LIBDIR/libstackheap.so.0" "$SH_LIBDIR/pkgconfig/stackheap.pc" \
         "$SH_LIBDIR/cmake/stackheap/stackheapConfig.cmake" "$SH_LUA_CDIR/stackheap/core.so" \
         "$SH_LUA_LDIR/stackheap/init.lua" "$SH_LUA_LDIR/stackheap/cli.lua" "$SH_BINDIR/stackheap"; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
echo "ok - installed files in place"

# --- C through pkg-config ------------------------------------------------------
step "pkg-config"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
expect_eq "$("$SH_PKG_CONFIG" --modversion stackheap)" "$SH_VERSION" "pkg-config --modversion"
cflags=$("$SH_PKG_CONFIG" --cflags stackheap)
libs=$("$SH_PKG_CONFIG" --libs stackheap)
expect_has "$cflags" "-I$prefix/" "pkg-config --cflags names the scratch prefix"
# shellcheck disable=SC2086 # the flags are meant to split into words
"$SH_CC" $SH_CFLAGS "$SH_SOURCE_DIR/tests/install/hello.c" $cflags $libs -o "$work/hello-pc"
hello_re="^hello from libstackheap $version_re: alloc 24 -> 0x[0-9a-f]+\$"
expect_match "$(LD_LIBRARY_PATH="$libdir" "$work/hello-pc")" "$hello_re" "hello built with pkg-config runs"

# --- C through find_package(stackheap) -----------------------------------------
step "find_package(stackheap)"
"$SH_CMAKE" -S "$SH_SOURCE_DIR/tests/install/consumer" -B "$work/consumer" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$SH_CC" \
  -DCMAKE_C_FLAGS="$SH_CFLAGS" -DCMAKE_BUILD_TYPE=Release >"$work/consumer.log" \
  || { cat "$work/consumer.log"; fail "configuring the find_package consumer"; }
"$SH_CMAKE" --build "$work/consumer" >>"$work/consumer.log" \
  || { cat "$work/consumer.log"; fail "building the find_package consumer"; }
expect_match "$(LD_LIBRARY_PATH="$libdir" "$work/consumer/hello_shared")" "$hello_re" \
  "hello linked to stackheap::stackheap runs"
expect_match "$("$work/consumer/hello_static")" "$hello_re" \
  "hello linked to stackheap::stackheap_static runs"

# --- Lua: a stock lua5.4 loads the installed module ------------------------------
step "lua5.4 require 'stackheap'"
lua_env=(
  "LUA_PATH=$prefix/$SH_LUA_LDIR/?.lua;$prefix/$SH_LUA_LDIR/?/init.lua;;"
  "LUA_CPATH=$prefix/$SH_LUA_CDIR/?.so;;"
)
if [ "$SH_SANITIZE" = 1 ]; then
  # A sanitized core.so needs the sanitizer runtime loaded before anything
  # else, which an uninstrumented lua5.4 does not do by itself.
  lua_env+=("LD_PRELOAD=$("$SH_CC" -print-file-name=libasan.so)")
fi
where=$(env "${lua_env[@]}" "$SH_LUA" -e '
  local sh = require "stackheap"
  assert(sh._VERSION:match("^stackheap 0%."), "bad _VERSION: " .. tostring(sh._VERSION))
  print(package.searchpath("stackheap.core", package.cpath))')
expect_eq "$where" "$prefix/$SH_LUA_CDIR/stackheap/core.so" "lua5.4 loads the installed stackheap.core"

# --- the installed host finds the installed scripts -----------------------------
step "installed bin/stackheap"
host="$prefix/$SH_BINDIR/stackheap"
expect_eq "$("$host" --version)" "stackheap $SH_VERSION" "stackheap --version"
printf '%s\n' 'print(package.searchpath("stackheap.cli", package.path))' >"$work/where.lua"
expect_eq "$("$host" run "$work/where.lua")" "$prefix/$SH_LUA_LDIR/stackheap/cli.lua" \
  "the installed host uses the installed scripts"
shopt -s nullglob
examples=("$prefix/$SH_DATADIR/stackheap/examples/"*.lua)
for ex in "${examples[@]}"; do
  "$host" run "$ex" >"$work/example.out" || fail "stackheap run $ex"
  echo "ok - stackheap run ${ex#"$prefix/"}"
done
[ ${#examples[@]} -gt 0 ] || echo "note: no examples installed yet"

echo "install test passed"
