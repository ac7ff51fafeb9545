-- layout_compilers_spec.lua -- sh.layout against the compilers on this machine: a Rust
-- program printing size_of/align_of/offset_of!, a C file's sizeof/_Alignof/offsetof.
local sh = require "stackheap"
local layout = require "stackheap.layout"
local decl = require "stackheap.decl"

-- Each case: declarations (may be empty), the type to measure, field paths.
local RUST = {
  {"", "u8"}, {"", "i128"}, {"", "u128"}, {"", "f64"}, {"", "char"}, {"", "bool"}, {"", "()"},
  {"", "&u8"}, {"", "&str"}, {"", "&[u64]"}, {"", "&dyn std::fmt::Debug"}, {"", "*const u8"}, {"", "Box<[u8]>"},
  {"", "Box<str>"}, {"", "String"}, {"", "Vec<u16>"}, {"", "std::rc::Rc<u8>"}, {"", "std::sync::Arc<str>"},
  {"", "Option<&u8>"}, {"", "Option<Box<u64>>"}, {"", "Option<std::num::NonZeroU32>"}, {"", "Option<bool>"},
  {"", "Option<char>"}, {"", "Option<u8>"}, {"", "Option<u64>"}, {"", "Option<String>"},
  {"", "Option<Option<String>>"}, {"", "Option<Option<bool>>"}, {"", "Option<(u8, bool)>"},
  {"", "Option<Vec<u8>>"}, {"", "Result<u32, String>"}, {"", "Result<u8, u8>"}, {"", "Result<(), Box<u8>>"},
  {"", "Option<fn(u8) -> u8>"}, {"", "Option<f64>"}, {"", "Option<u128>"}, {"", "Option<[u8; 0]>"},
  {"", "[u32; 5]"}, {"", "[u8; 0]"}, {"", "(u8, u32, u16)", {"0", "1", "2"}}, {"", "(u8, u64)", {"0", "1"}},
  {"", "(bool, u32, u8)", {"0", "1", "2"}}, {"", "(u8, [u8; 16])", {"0", "1"}}, {"", "(u16, [u8; 6], u32)", {"0", "1", "2"}},
  {"", "Option<(u64, bool, u16)>"}, {"", "std::marker::PhantomData<u64>"}, {"", "(u8, (), u32)", {"0", "1", "2"}},
  {"struct P { a: u8, b: u32, c: u16 }", "P", {"a", "b", "c"}},
  {"#[repr(C)] struct P { a: u8, b: u32, c: u16 }", "P", {"a", "b", "c"}},
  {"#[repr(packed)] struct P { a: u8, b: u32, c: u16 }", "P", {"a", "b", "c"}},
  {"#[repr(C, packed(2))] struct P { a: u8, b: u32, c: u16 }", "P", {"a", "b", "c"}},
  {"#[repr(align(16))] struct P { a: u8, b: u16 }", "P", {"a", "b"}},
  {"#[repr(C, align(8))] struct P { a: u8, b: u16 }", "P", {"a", "b"}},
  {"struct U;", "U"}, {"struct T(u8, u64, u8);", "T", {"0", "1", "2"}},
  {"struct S { a: bool, b: u64, c: u8 }", "S", {"a", "b", "c"}},
  {"struct S { a: u8, b: bool, c: u64, d: char }", "S", {"a", "b", "c", "d"}},
  {"struct S { a: u16, b: [u8; 3], c: u32, d: bool }", "S", {"a", "b", "c", "d"}},
  {"struct S { a: u8, b: u64, c: Option<u8> }", "S", {"a", "b", "c"}},
  {"struct S { a: String, b: u8 }", "S", {"a", "b"}}, {"struct S { a: u8, b: String }", "Option<S>"},
  {"struct S { x: u8, y: &'static u32, z: u16 }", "S", {"x", "y", "z"}},
  {"struct In { a: u8, b: u32 } struct Out { c: u8, i: In, d: u16 }", "Out", {"c", "i", "d", "i.a", "i.b"}},
  {"struct S { a: (u8, bool, u8), b: u32, c: (u8, u8) }", "S", {"a", "b", "c"}},
  {"struct S { a: u8, b: char, c: bool }", "S", {"a", "b", "c"}},
  {"struct S { a: u32, b: bool, c: [u8; 5] }", "S", {"a", "b", "c"}},
  {"struct S { a: u64, b: u8, c: bool, d: u16 }", "S", {"a", "b", "c", "d"}},
  {"struct S { a: u64, b: u8, c: bool, d: u16 }", "Option<S>"},
  {"struct List { v: i32, next: Option<Box<List>> }", "List", {"v", "next"}},
  {"enum E { A, B, C }", "E"}, {"enum E { A = 300, B }", "E"}, {"enum E { A = -1, B = 200 }", "E"},
  {"#[repr(u32)] enum E { A, B }", "E"}, {"#[repr(C)] enum E { A, B }", "E"}, {"enum E { A }", "E"},
  {"enum E {}", "E"}, {"enum E { A(u32), B(u8), C }", "E"}, {"enum E { A(u64), B(u8) }", "E"},
  {"enum E { A(String), B }", "E"}, {"enum E { A(String), B(u8) }", "E"}, {"enum E { A(String), B(u64) }", "E"},
  {"enum E { A(String), B(u32), C(u16) }", "E"}, {"enum E { A(u8, u32), B(u16) }", "E"},
  {"enum E { A { x: u8, y: u64 }, B }", "E"}, {"enum E { A(bool), B(u8) }", "E"}, {"enum E { A(bool, u8), B(u8) }", "E"},
  {"enum E { A(bool), B }", "Option<E>"}, {"enum E { A, B, C }", "Option<Option<E>>"},
  {"#[repr(u8)] enum E { A(u32), B(u16) }", "E"}, {"#[repr(C)] enum E { A(u8), B(u64) }", "E"},
  {"#[repr(C, u8)] enum E { A(u8), B(u16) }", "E"}, {"#[repr(i64)] enum E { A(u8), B }", "E"},
  {"enum E { A(u128), B }", "E"}, {"enum E { A(Box<u8>), B(u32) }", "E"}, {"enum E { A(&'static u8), B, C }", "E"},
  {"enum E { A([u8; 3], bool), B(u16) }", "E"}, {"enum E { A(u8, bool, u8), B(u8, u8) }", "E"},
  {"enum E { A((u8, u8, u8, bool), (u8, bool, u8)), B(u8) }", "E"},
  {"#[repr(align(8))] enum E { A(u8), B }", "E"},
  {"union U { a: u8, b: u32, c: [u8; 7] }", "U", {"a", "b", "c"}}, {"#[repr(C)] union U { a: u16, b: f64 }", "U"},
  {"#[repr(packed)] union U { a: u16, b: f64 }", "U"},
  {"type Pair = (u8, u16); struct S { p: Pair, q: u32 }", "S", {"p", "q"}},
}

local C_CASES = {
  {"", "char"}, {"", "short"}, {"", "long"}, {"", "long long"}, {"", "double"}, {"", "long double"},
  {"", "_Bool"}, {"", "float _Complex"}, {"", "double _Complex"}, {"", "void *"}, {"", "int (*)[4]"},
  {"", "char *[3]"}, {"", "unsigned long long[2]"}, {"", "int (*)(int)"},
  {"struct S { char c; int i; short s; };", "struct S", {"c", "i", "s"}},
  {"struct S { char c; double d; char e; };", "struct S", {"c", "d", "e"}},
  {"struct S { char c; long long d; };", "struct S", {"c", "d"}},
  {"struct S { char c; long double d; };", "struct S", {"c", "d"}},
  {"struct S { char a; _Alignas(16) int x; char b; };", "struct S", {"a", "x", "b"}},
  {"struct S { char a; _Alignas(double) char x; };", "struct S", {"a", "x"}},
  {"union U { char c; int i; double d; char s[13]; };", "union U", {"c", "i", "d", "s"}},
  {"struct In { char a; int b; }; struct Out { char c; struct In in; short d; };", "struct Out", {"c", "in", "d", "in.b"}},
  {"enum E { A, B, C };", "enum E"}, {"enum E { A = -1, B = 3000000000 };", "enum E"},
  {"enum E { A = 4000000000 };", "enum E"},
  {"struct N { int v; struct N *next; };", "struct N", {"v", "next"}},
  {"typedef struct { char a; double b; } T;", "T", {"a", "b"}},
  {"struct F { int n; char data[]; };", "struct F", {"n", "data"}},
  {"struct F { char n; double data[]; };", "struct F", {"n", "data"}},
  {"struct S { struct { char a; int b; }; union { short c; double d; }; char e; };", "struct S",
    {"a", "b", "c", "d", "e"}},
  {"struct S { int a[3]; char b; };", "struct S", {"a", "b"}},
  {"struct S { char a; struct { char b; long c; } in; };", "struct S", {"a", "in", "in.c"}},
  {"struct S { unsigned char a; unsigned short b; unsigned c; };", "struct S", {"a", "b", "c"}},
  {"struct S { char a; int (*f)(int); };", "struct S", {"a", "f"}},
}

-- Random declarations besides the chosen ones, the same on every run: the
-- field orders and enum layouts nobody thought to write down.
local function random_cases(seed, n, lang)
  local rng = {seed = seed}
  local function random(lo, hi) -- a 31-bit LCG, so the cases do not depend on Lua's generator
    rng.seed = (rng.seed * 1103515245 + 12345) % 2147483648
    return lo + rng.seed % (hi - lo + 1)
  end
  local function pick(list) return list[random(1, #list)] end
  local out = {}
  if lang == "rust" then
    local leaves = {"u8", "u16", "u32", "u64", "u128", "bool", "char", "f32", "f64", "i8", "[u8; 3]", "[u16; 3]",
      "&u8", "Box<u32>", "String", "()", "[u8; 0]", "std::num::NonZeroU8", "[bool; 2]", "Option<u16>"}
    local function ty(depth)
      local r = random(1, 100)
      if depth > 0 and r <= 15 then return "Option<" .. ty(depth - 1) .. ">" end
      if depth > 0 and r <= 25 then
        local k, t = random(1, 3), {}
        for i = 1, k do t[i] = ty(depth - 1) end
        return "(" .. table.concat(t, ", ") .. (k == 1 and ",)" or ")")
      end
      return pick(leaves)
    end
    for i = 1, n do
      local text, paths = nil, {}
      if random(0, 1) == 0 then
        local f = {}
        for j = 1, random(1, 5) do f[j] = "f" .. j .. ": " .. ty(2); paths[j] = "f" .. j end
        text = pick{"", "", "", "#[repr(C)] ", "#[repr(packed)] ", "#[repr(align(8))] "}
          .. "struct R" .. i .. " { " .. table.concat(f, ", ") .. " }"
      else
        local v = {}
        for j = 1, random(1, 4) do
          local f = {}
          for k = 1, random(0, 3) do f[k] = ty(1) end
          v[j] = "V" .. j .. (#f > 0 and "(" .. table.concat(f, ", ") .. ")" or "")
        end
        text = pick{"", "", "", "#[repr(u8)] ", "#[repr(C)] ", "#[repr(u16)] "}
          .. "enum R" .. i .. " { " .. table.concat(v, ", ") .. " }"
      end
      out[i] = random(1, 10) <= 3 and {text, "Option<R" .. i .. ">"} or {text, "R" .. i, paths}
    end
  else
    local leaves = {"char", "short", "int", "long", "long long", "float", "double", "long double", "_Bool",
      "void *", "unsigned char", "char *"}
    for i = 1, n do
      local m, paths = {}, {}
      for j = 1, random(1, 6) do
        local r, name = random(1, 100), "m" .. j
        local decl = pick(leaves) .. " " .. name
        if r <= 15 then decl = pick(leaves) .. " " .. name .. "[" .. random(1, 5) .. "]"
        elseif r <= 25 then decl = "struct { " .. pick(leaves) .. " a; " .. pick(leaves) .. " b; } " .. name
        elseif r <= 32 then decl = "union { " .. pick(leaves) .. " a; " .. pick(leaves) .. " b; } " .. name
        elseif r <= 38 then decl = "_Alignas(" .. pick{8, 16, 32} .. ") " .. pick(leaves) .. " " .. name end
        m[j], paths[j] = decl .. ";", name
      end
      out[i] = {"struct C" .. i .. " { " .. table.concat(m, " ") .. " };", "struct C" .. i, paths}
    end
  end
  return out
end

for _, c in ipairs(random_cases(5, 150, "rust")) do RUST[#RUST + 1] = c end
for _, c in ipairs(random_cases(7, 100, "c")) do C_CASES[#C_CASES + 1] = c end

local function exists(cmd)
  local ok = os.execute(cmd .. " >/dev/null 2>&1")
  return ok == true or ok == 0
end

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p " .. d))
  return d
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function read(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  p:close()
  return out
end

-- What stackheap says for one case: {size, align, offsets...}.
local function ours(case, opts)
  local text = case[1] .. "\n" .. case[2]
  local t, err = decl.type(text, opts)
  assert(t, text .. ": " .. tostring(err))
  local got = {t.size, t.align}
  for i, path in ipairs(case[3] or {}) do
    got[2 + i] = assert(layout.field(t, path))
  end
  return got
end

local function compare(cases, answers, opts)
  assert.equal(#cases, #answers, "one answer per case")
  for i, case in ipairs(cases) do
    assert.same(answers[i], ours(case, opts), ("%s %s (word %d)"):format(case[1], case[2], opts.word or 8))
  end
end

describe("Rust layouts match rustc", function()
  local rustc = exists("rustc --version")
  if not rustc then
    it("needs rustc", function()
      io.stderr:write("SKIPPED: rustc not found; Rust layouts are not compared with the compiler\n")
      pending("rustc not found on this machine: Rust layouts not checked against the compiler")
    end)
    return
  end

  it("for " .. #RUST .. " types on x86_64", function()
    local dir = tmpdir()
    local src = {"#![allow(dead_code, unused_imports)]", "use std::mem::{size_of, align_of, offset_of};"}
    for i, case in ipairs(RUST) do
      local offs = {}
      for _, path in ipairs(case[3] or {}) do
        offs[#offs + 1] = (", offset_of!(Measured, %s)"):format(path)
      end
      -- a type alias needs its references' lifetimes spelled out
      local function static(text) return (text:gsub("&(%s*[^'%s])", "&'static %1")) end
      src[#src + 1] = ("mod m%d { use super::*; use std::num::NonZeroU32; %s\n type Measured = %s;\n"
        .. "pub fn run() { println!(\"%s\", size_of::<Measured>(), align_of::<Measured>()%s); } }")
        :format(i, static(case[1]), static(case[2]), ("{} "):rep(2 + #offs), table.concat(offs))
    end
    src[#src + 1] = "fn main() {"
    for i = 1, #RUST do src[#src + 1] = ("  m%d::run();"):format(i) end
    src[#src + 1] = "}"
    write(dir .. "/layouts.rs", table.concat(src, "\n"))
    local out = read(("cd %s && rustc --edition 2021 -o layouts layouts.rs 2>&1 && ./layouts"):format(dir))
    os.execute("rm -rf " .. dir)
    local answers = {}
    for line in out:gmatch("[^\n]+") do
      local nums = {}
      for n in line:gmatch("%S+") do nums[#nums + 1] = math.tointeger(tonumber(n)) end
      answers[#answers + 1] = nums
    end
    assert(#answers == #RUST, "rustc failed:\n" .. out)
    compare(RUST, answers, {})
  end)

  -- i686: rustup's i686 standard library is rarely installed, but rustc
  -- itself can target i686. A #![no_core] crate (RUSTC_BOOTSTRAP: the lang
  -- items are unstable) defines Option, Result, NonNull and Vec's parts as
  -- std does, and rustc computes the layouts into statics read from the
  -- LLVM IR. When the probe cannot be built (another rustc's lang items),
  -- the comparison is skipped, visibly; when it builds, every number counts.
  it("for the same types on i686 (word = 4), through a no_core probe", function()
    local prelude = [[
#![feature(no_core, lang_items, intrinsics, rustc_attrs, auto_traits, builtin_syntax)]
#![no_core]
#![crate_type = "lib"]
#![allow(internal_features, dead_code, unused_imports)]
#[lang = "pointee_sized"] pub trait PointeeSized {}
#[lang = "meta_sized"] pub trait MetaSized: PointeeSized {}
#[lang = "sized"] pub trait Sized: MetaSized {}
#[lang = "copy"] pub trait Copy {}
#[lang = "sync"] pub unsafe auto trait Sync {}
#[lang = "drop_in_place"] pub unsafe fn drop_in_place<T: PointeeSized>(_p: *mut T) {}
#[lang = "phantom_data"] pub struct PhantomData<T: PointeeSized>;
#[rustc_intrinsic] pub const fn size_of<T>() -> usize;
#[rustc_intrinsic] pub const fn align_of<T>() -> usize;
#[lang = "offset_of"] #[rustc_intrinsic] pub const fn offset_of<T: PointeeSized>(variant: u32, field: u32) -> usize;
impl Copy for u8 {} impl Copy for u16 {} impl Copy for u32 {} impl Copy for u64 {} impl Copy for u128 {}
impl Copy for i8 {} impl Copy for f32 {} impl Copy for f64 {} impl Copy for bool {} impl Copy for char {}
#[lang = "neg"] pub trait Neg { type Output; fn neg(self) -> Self::Output; }
impl Neg for isize { type Output = isize; fn neg(self) -> isize { -self } }
pub trait Debug {}
pub enum Option<T> { None, Some(T) }
pub enum Result<T, E> { Ok(T), Err(E) }
#[rustc_layout_scalar_valid_range_start(1)] #[repr(transparent)]
pub struct NonNull<T: PointeeSized> { p: *const T }
pub type Box<T> = NonNull<T>;
pub type Rc<T> = NonNull<T>;
pub type Arc<T> = NonNull<T>;
#[rustc_layout_scalar_valid_range_end(0x7fff_ffff)] pub struct Cap(usize);
struct RawVecInner { ptr: NonNull<u8>, cap: Cap, alloc: () }
pub struct Vec<T> { buf: RawVecInner, len: usize, m: PhantomData<T> }
pub struct String { vec: Vec<u8> }
#[rustc_layout_scalar_valid_range_start(1)] #[repr(transparent)] pub struct NonZeroU32(u32);
#[rustc_layout_scalar_valid_range_start(1)] #[repr(transparent)] pub struct NonZeroU8(u8);
]]
    local function local_names(text)
      return (text:gsub("std::%w+::", ""):gsub("&(%s*[^'%s])", "&'static %1"))
    end
    -- nested offset_of! paths crash rustc without core: top-level fields only
    local cases = {}
    for i, case in ipairs(RUST) do
      local paths = {}
      for _, path in ipairs(case[3] or {}) do if not path:find(".", 1, true) then paths[#paths + 1] = path end end
      cases[i] = {case[1], case[2], paths}
    end
    local src = {prelude}
    for i, case in ipairs(cases) do
      local vals = {"size_of::<Measured>()", "align_of::<Measured>()"}
      for _, path in ipairs(case[3] or {}) do vals[#vals + 1] = ("builtin # offset_of(Measured, %s)"):format(path) end
      src[#src + 1] = ("mod m%d { use super::*; %s\n type Measured = %s;\n"
        .. "#[no_mangle] pub static V%d: [usize; %d] = [%s]; }")
        :format(i, local_names(case[1]), local_names(case[2]), i, #vals, table.concat(vals, ", "))
    end
    local dir = tmpdir()
    write(dir .. "/probe.rs", table.concat(src, "\n"))
    local log = read(("cd %s && RUSTC_BOOTSTRAP=1 rustc --target i686-unknown-linux-gnu --emit=llvm-ir -O"
      .. " -o probe.ll probe.rs 2>&1"):format(dir))
    local f = io.open(dir .. "/probe.ll")
    local ir = f and f:read("a")
    if f then f:close() end
    os.execute("rm -rf " .. dir)
    if not ir then
      io.stderr:write("SKIPPED: this rustc cannot build the i686 no_core probe; word = 4 Rust layouts are"
        .. " checked by the unit specs only\n" .. log:sub(1, 400) .. "\n")
      pending("the i686 no_core probe does not build with this rustc")
      return
    end
    local answers = {}
    for i = 1, #cases do
      local init = assert(ir:match("\n@V" .. i .. " = [^\n]-constant ([^\n]*)"), "no V" .. i)
      local bytes = {}
      -- pieces "[N x i8] c"..."" (printable bytes as themselves) or "[N x i8] zeroinitializer"
      local at = 1
      while true do
        local s1, e1, n = init:find("%[(%d+) x i8%] ", at)
        if not s1 then break end
        if init:find("^zeroinitializer", e1 + 1) then
          for _ = 1, tonumber(n) do bytes[#bytes + 1] = 0 end
          at = e1 + 1
        else
          local str = assert(init:match('^c"([^"]*)"', e1 + 1), init)
          local k = 1
          while k <= #str do
            local hex = str:match("^\\(%x%x)", k)
            if hex then bytes[#bytes + 1], k = tonumber(hex, 16), k + 3
            else bytes[#bytes + 1], k = str:byte(k), k + 1 end
          end
          at = e1 + #str + 3
        end
      end
      local nums = {}
      for j = 1, #bytes, 4 do
        nums[#nums + 1] = bytes[j] | bytes[j + 1] << 8 | bytes[j + 2] << 16 | bytes[j + 3] << 24
      end
      answers[i] = nums
    end
    compare(cases, answers, {word = 4})
  end)
end)

-- Answers from gcc without running anything: the numbers are an array of
-- constants in the assembly, so a -m32 build needs no 32-bit libc.
local function gcc_answers(cases, flags)
  local dir = tmpdir()
  local src, counts = {}, {}
  for i, case in ipairs(cases) do
    local vals = {"sizeof(T)", "_Alignof(T)"}
    for _, path in ipairs(case[3] or {}) do vals[#vals + 1] = ("__builtin_offsetof(T, %s)"):format(path) end
    counts[i] = #vals
    -- each case in its own block, so its tags and typedefs are its own
    src[#src + 1] = ("void case%d(void) { %s typedef __typeof__(%s) T;\n"
      .. "  static unsigned int answer%d[] __attribute__((used)) = {%s}; }")
      :format(i, case[1], case[2], i, table.concat(vals, ", "))
  end
  write(dir .. "/layouts.c", table.concat(src, "\n") .. "\n")
  local asm = read(("cc -std=gnu11 %s -S -o - %s/layouts.c 2>&1"):format(flags, dir))
  os.execute("rm -rf " .. dir)
  local answers = {}
  for i = 1, #cases do
    local at = select(2, asm:find("\nanswer" .. i .. "%.%d+:\n"))
    assert(at, "cc failed:\n" .. asm)
    local nums = {}
    for line in asm:sub(at + 1):gmatch("[^\n]+") do
      local n = line:match("^%s*%.long%s+(%d+)")
      if not n then break end
      nums[#nums + 1] = math.tointeger(tonumber(n))
    end
    assert.equal(counts[i], #nums, "answer " .. i)
    answers[i] = nums
  end
  return answers
end

describe("C layouts match gcc", function()
  if not exists("cc --version") then
    it("needs a C compiler", function() pending("cc not found") end)
    return
  end

  it("for " .. #C_CASES .. " types on x86-64", function()
    compare(C_CASES, gcc_answers(C_CASES, "-m64"), {lang = "c"})
  end)

  it("for the same types on i386 (word = 4)", function()
    if not exists("echo 'int x;' | cc -m32 -S -o /dev/null -x c -") then
      io.stderr:write("SKIPPED: cc -m32 does not work here; i386 C layouts not compared\n")
      pending("cc -m32 does not work here")
      return
    end
    compare(C_CASES, gcc_answers(C_CASES, "-m32"), {lang = "c", word = 4})
  end)
end)

describe("sh.layout", function()
  it("reports a field's given alignment", function()
    local l = sh.layout("struct S { char a; _Alignas(16) int x; };", {lang = "c"})
    assert.same({16, 32}, {l.fields[2].align, l.size})
  end)
end)
