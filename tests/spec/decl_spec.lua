local decl = require "stackheap.decl"

local function slots(text, opts)
  local s, err = decl.parse(text, opts)
  assert(s, err)
  return s
end

local function ty(text, opts)
  local t, err = decl.type(text, opts)
  assert(t, err)
  return t
end

local function refused(text, opts)
  local s, err = decl.parse(text, opts)
  assert.is_nil(s)
  assert.is_string(err)
  assert.is_nil(err:find("\n"), "one line: " .. err)
  return err
end

local function has(err, part)
  assert(err:find(part, 1, true), ("expected %q in %q"):format(part, err))
end

local C = {lang = "c"}
local C4 = {lang = "c", word = 4}
local R4 = {word = 4}

describe("decl.parse, Rust", function()
  it("lays out the example frame", function()
    local s = slots("x: i32, s: String, v: [u8; 16]")
    assert.same({"x", "s", "v"}, {s[1].name, s[2].name, s[3].name})
    assert.same({4, 24, 16}, {s[1].type.size, s[2].type.size, s[3].type.size})
    assert.same({4, 8, 1}, {s[1].type.align, s[2].type.align, s[3].type.align})
    assert.same({"int", "struct", "array"}, {s[1].type.kind, s[2].type.kind, s[3].type.kind})
    assert.same({"i32", "String", "[u8; 16]"}, {s[1].type.text, s[2].type.text, s[3].type.text})
    assert.is_true(s[1].type.signed)
    assert.is_true(s[1].type.sized)
  end)

  it("halves words on a 32-bit machine", function()
    local s = slots("x: i32, s: String, n: usize, p: &u8", R4)
    assert.same({4, 12, 4, 4}, {s[1].type.size, s[2].type.size, s[3].type.size, s[4].type.size})
  end)

  it("accepts empty text, whitespace, comments, mut and a trailing comma", function()
    assert.same({}, slots(""))
    assert.same({}, slots("  \n\t "))
    local s = slots("mut x: i32, // the counter\n  y :u8 ,\n")
    assert.equal(2, #s)
    assert.equal("x", s[1].name)
    assert.equal("y", s[2].name)
    assert.equal(1, s[2].type.size)
  end)

  it("keeps declaration order", function()
    local s = slots("c: u8, b: u16, a: u32")
    assert.same({"c", "b", "a"}, {s[1].name, s[2].name, s[3].name})
  end)
end)

describe("decl.type, Rust scalars", function()
  it("knows the integer widths", function()
    for name, size in pairs{i8 = 1, u8 = 1, i16 = 2, u16 = 2, i32 = 4, u32 = 4, i64 = 8, u64 = 8} do
      local t = ty(name)
      assert.equal(size, t.size)
      assert.equal(size, t.align)
      assert.equal("int", t.kind)
      assert.equal(name:sub(1, 1) == "i", t.signed)
    end
    assert.equal(8, ty("usize").size)
    assert.equal(4, ty("isize", R4).size)
    assert.is_false(ty("usize").signed)
  end)

  it("aligns 128-bit integers to 16 on both word sizes", function()
    for _, w in ipairs{8, 4} do
      local t = ty("u128", {word = w})
      assert.equal(16, t.size)
      assert.equal(16, t.align)
      assert.equal(16, ty("i128", {word = w}).align)
    end
  end)

  it("aligns 64-bit scalars to 4 on word 4, as i686-unknown-linux-gnu does", function()
    assert.equal(8, ty("u64", R4).size)
    assert.equal(4, ty("u64", R4).align)
    assert.equal(4, ty("i64", R4).align)
    assert.equal(4, ty("f64", R4).align)
    assert.equal(8, ty("f64").align)
  end)

  it("has float, bool and char kinds", function()
    assert.same({"float", 4, 4}, {ty("f32").kind, ty("f32").size, ty("f32").align})
    assert.same({"float", 8}, {ty("f64").kind, ty("f64").size})
    assert.same({"bool", 1, 1}, {ty("bool").kind, ty("bool").size, ty("bool").align})
    assert.same({"char", 4, 4}, {ty("char").kind, ty("char").size, ty("char").align})
  end)
end)

describe("decl.type, Rust pointers", function()
  it("makes thin pointers a word", function()
    for _, text in ipairs{"&u8", "&mut u8", "*const u8", "*mut u8", "Box<i32>", "Rc<i32>", "Arc<i32>", "NonNull<u8>"} do
      local t = ty(text)
      assert.equal("ptr", t.kind, text)
      assert.equal(8, t.size)
      assert.equal(8, t.align)
      assert.equal(text, t.text)
      assert.equal(4, ty(text, R4).size)
    end
    assert.equal("u8", ty("&mut u8").to)
    assert.equal("i32", ty("Box<i32>").to)
  end)

  it("normalises the text and drops lifetimes", function()
    assert.equal("&mut u8", ty("&  mut   u8").text)
    assert.equal("&str", ty("&'static str").text)
    assert.equal("&&u8", ty("& &u8").text)
    assert.equal("&u8", ty("& &u8").pointee.text)
  end)

  it("makes pointers to unsized types fat", function()
    local cases = {
      ["&str"] = {"str", "len"}, ["&[u8]"] = {"[u8]", "len"}, ["&mut [u32]"] = {"[u32]", "len"},
      ["Box<str>"] = {"str", "len"}, ["Box<[u8]>"] = {"[u8]", "len"}, ["Rc<str>"] = {"str", "len"},
      ["&dyn Display"] = {"dyn Display", "vtable"}, ["Box<dyn Display>"] = {"dyn Display", "vtable"},
      ["*const [u8]"] = {"[u8]", "len"},
    }
    for text, want in pairs(cases) do
      local t = ty(text)
      assert.equal("fatptr", t.kind, text)
      assert.equal(16, t.size)
      assert.equal(8, t.align)
      assert.equal(want[1], t.to)
      assert.equal(want[2], t.meta)
      assert.equal(8, ty(text, R4).size)
      assert.equal(4, ty(text, R4).align)
    end
  end)

  it("reads trait objects with several bounds and arguments", function()
    assert.equal("dyn Display + Send", ty("Box<dyn Display+Send>").to)
    assert.equal("fatptr", ty("&dyn Fn(u8) -> u8").kind)
    assert.equal("fatptr", ty("&mut dyn Iterator<Item = u8>").kind)
    assert.equal("fatptr", ty("Box<dyn Error + 'static>").kind)
  end)
end)

describe("decl.type, Rust compound types", function()
  it("lays out arrays", function()
    local t = ty("[u8; 16]")
    assert.same({"array", 16, 1, 16}, {t.kind, t.size, t.align, t.count})
    assert.equal("u8", t.elem.text)
    local n = ty("[[u16; 3]; 2]")
    assert.same({12, 2, 2, "[[u16; 3]; 2]"}, {n.size, n.align, n.count, n.text})
    assert.same({"array", 6, 3}, {n.elem.kind, n.elem.size, n.elem.count})
  end)

  it("allows zero-length arrays and underscores in lengths", function()
    local t = ty("[u64; 0]")
    assert.same({0, 8, true}, {t.size, t.align, t.sized})
    assert.equal(1000, ty("[u8; 1_000]").size)
  end)

  it("gives String and Vec their three words", function()
    for _, w in ipairs{8, 4} do
      for _, text in ipairs{"String", "Vec<u64>"} do
        local t = ty(text, {word = w})
        assert.same({"struct", 3 * w, w}, {t.kind, t.size, t.align})
        local f = t.fields
        assert.same({"ptr", "cap", "len"}, {f[1].name, f[2].name, f[3].name})
        -- rustc puts RawVec's capacity first, for its niche
        assert.same({w, 0, 2 * w}, {f[1].offset, f[2].offset, f[3].offset})
        assert.equal("ptr", f[1].type.kind)
        assert.equal("usize", f[2].type.text)
      end
    end
    assert.equal("*mut u8", ty("String").fields[1].type.text)
    assert.equal("*mut u64", ty("Vec<u64>").fields[1].type.text)
    assert.equal("Vec<Box<str>>", ty("Vec<Box<str>>").text)
  end)

  it("reorders tuples as rustc does, the last element kept last", function()
    local t = ty("(u8, u32, u16)")
    assert.same({"struct", 8, 4}, {t.kind, t.size, t.align})
    assert.same({4, 0, 6}, {t.fields[1].offset, t.fields[2].offset, t.fields[3].offset})
    assert.same({"0", "1", "2"}, {t.fields[1].name, t.fields[2].name, t.fields[3].name})
    local unit = ty("()")
    assert.same({"struct", 0, 1, "()"}, {unit.kind, unit.size, unit.align, unit.text})
    assert.equal("(u8,)", ty("(u8,)").text)
    assert.equal("int", ty("(u8)").kind, "parentheses alone make no tuple")
  end)
end)

describe("unsized types", function()
  local why = "is unsized: its size is not known at compile time, so it cannot live in a stack slot; "
    .. "keep it on the heap behind a pointer"

  it("are refused as slots, naming the slot and where to keep them", function()
    assert.equal("s: str " .. why .. " (&str, Box<str>, String)", refused("x: i32, s: str"))
    has(refused("b: [u8]"), "b: [u8] " .. why .. " (&[u8], Box<[u8]>, Vec<u8>)")
    has(refused("d: dyn Display"), "d: dyn Display " .. why .. " (&dyn Display, Box<dyn Display>)")
  end)

  it("are described by decl.type", function()
    for text, kind in pairs{str = "str", ["[u8]"] = "slice", ["dyn Display"] = "dyn"} do
      local t = ty(text)
      assert.is_false(t.sized)
      assert.is_nil(t.size)
      assert.equal(kind, t.kind)
      assert.equal(text .. " " .. why, t.why:sub(1, #text + 1 + #why))
    end
    assert.equal("str " .. why .. " (&str, Box<str>, String)", ty("str").why)
  end)

  it("may only be the last element of a tuple", function()
    assert.is_false(ty("(u32, [u8])").sized)
    assert.equal("fatptr", ty("&(u32, [u8])").kind)
    local _, err = decl.type("(str, u8)")
    has(err, "column 2: str is unsized, so it cannot be a tuple element")
  end)

  it("cannot be array or Vec elements", function()
    has(refused("a: [str; 2]"), "column 5: str is unsized, so it cannot be an array element")
    has(refused("v: Vec<[u8]>"), "column 8: [u8] is unsized, so it cannot be a Vec element")
  end)
end)

describe("Rust syntax errors", function()
  it("name the column and what was expected", function()
    has(refused("x: "), "column 4: expected a type after 'x:'")
    has(refused("x: ,"), "column 4: expected a type after 'x:'")
    has(refused("x: i32, y: i33"), "column 12: unknown type 'i33'")
    has(refused("v: [u8; 16 ,"), "column 12: expected ']' to close the array type")
    has(refused(": i32"), "column 1: expected a slot name")
    has(refused("1x: i32"), "column 1: expected a slot name")
    has(refused("x i32"), "column 3: expected ':' after the slot name 'x'")
    has(refused("x: i32 y: u8"), "column 8: expected ',' or the end of the declarations")
    has(refused("x: [u8 4]"), "column 8: expected ';' or ']' after the element type")
    has(refused("x: Box<u8"), "column 10: expected '>' to close the type arguments")
    has(refused("x: (u8, u16"), "column 12: expected ')' to close the tuple type")
    has(refused("x: &"), "column 5: expected a type after '&'")
    has(refused("x: *u8"), "column 5: expected 'const' or 'mut' after '*'")
    has(refused("x: i32,,"), "column 8: expected a slot name")
    has(refused("x: /* open"), "expected '*/' to close the comment")
  end)

  it("count lines in multi-line text", function()
    has(refused("x: i32,\n  y: i33"), "line 2, column 6: unknown type 'i33'")
  end)

  it("refuse duplicate names", function()
    has(refused("x: i32, x: u8"), "duplicate slot name 'x'")
    has(refused("x: i32, x: u8"), "column 9")
  end)

  it("check generic arguments", function()
    has(refused("b: Box<u8, u16>"), "column 4: Box takes exactly one type argument")
    has(refused("s: String<u8>"), "String takes no type arguments")
    has(refused("n: u8<u8>"), "u8 takes no type arguments")
    has(refused("m: HashMap<u8, u8>"), "column 4: unknown type 'HashMap'")
  end)

  it("refuse bad array lengths without raising", function()
    has(refused("a: [u8; -1]"), "column 9: expected an array length")
    has(refused("a: [u8; 99999999999999999999999]"), "column 9: array length 99999999999999999999999 is too large")
    has(refused("a: [u8; 9007199254740993]"), "array length 9007199254740993 is too large")
    has(refused("a: [u64; 4503599627370496]"), "[u64; 4503599627370496] is too large (more than 2^53 bytes)")
    assert.equal(1 << 53, ty("[u8; 9007199254740992]").size)
  end)

  it("refuse deep nesting without raising", function()
    local t, err = decl.type(("&"):rep(100000) .. "u8")
    assert.is_nil(t)
    has(err, "nested too deeply")
  end)
end)

describe("decl.parse, C", function()
  it("lays out the example frame on both word sizes", function()
    local s = slots("int x; char *s;", C)
    assert.same({"x", "s"}, {s[1].name, s[2].name})
    assert.same({4, 8}, {s[1].type.size, s[2].type.size})
    assert.same({"int", "ptr"}, {s[1].type.kind, s[2].type.kind})
    assert.same({"int", "char *"}, {s[1].type.text, s[2].type.text})
    assert.equal("char", s[2].type.to)
    local s4 = slots("int x; char *s;", C4)
    assert.same({4, 4}, {s4[1].type.size, s4[2].type.size})
    assert.equal(4, s4[2].type.align)
  end)

  it("splits declarators that share a base type", function()
    local s = slots("int a, *b, c[4];", C)
    assert.same({"a", "b", "c"}, {s[1].name, s[2].name, s[3].name})
    assert.same({"int", "int *", "int[4]"}, {s[1].type.text, s[2].type.text, s[3].type.text})
    assert.same({4, 8, 16}, {s[1].type.size, s[2].type.size, s[3].type.size})
  end)

  it("reads arrays of pointers, pointers to arrays and many dimensions", function()
    local s = slots("char *argv[3]; int (*row)[4]; int m[2][3]; char **pp", C)
    assert.same({"array", 24, 3}, {s[1].type.kind, s[1].type.size, s[1].type.count})
    assert.equal("char *[3]", s[1].type.text)
    assert.same({"ptr", 8, "int[4]", "int (*)[4]"}, {s[2].type.kind, s[2].type.size, s[2].type.to, s[2].type.text})
    assert.same({24, 4, 2, 3}, {s[3].type.size, s[3].type.align, s[3].type.count, s[3].type.elem.count})
    assert.equal("int[2][3]", s[3].type.text)
    assert.same({"ptr", "char *", "char **"}, {s[4].type.kind, s[4].type.to, s[4].type.text})
  end)

  it("accepts qualifiers, comments, any specifier order and a missing last ';'", function()
    local s = slots("const char *const p; /* note */ volatile int v; // x\n long unsigned int n; unsigned u", C)
    assert.same({"char *", "int", "unsigned long", "unsigned int"},
      {s[1].type.text, s[2].type.text, s[3].type.text, s[4].type.text})
    assert.same({}, slots("", C))
  end)

  it("knows the scalar sizes on LP64 and i386", function()
    local want = {
      {"char", 1, 1, true}, {"signed char", 1, 1, true}, {"unsigned char", 1, 1, false},
      {"short", 2, 2, true}, {"unsigned short", 2, 2, false}, {"int", 4, 4, true},
      {"unsigned int", 4, 4, false}, {"long", 8, 4}, {"unsigned long", 8, 4},
      {"long long", 8, 8}, {"unsigned long long", 8, 8}, {"size_t", 8, 4, false},
      {"ptrdiff_t", 8, 4, true}, {"intptr_t", 8, 4, true}, {"int8_t", 1, 1, true},
      {"uint16_t", 2, 2, false}, {"int32_t", 4, 4, true}, {"uint64_t", 8, 8, false},
    }
    for _, w in ipairs(want) do
      local t8, t4 = ty(w[1], C), ty(w[1], C4)
      assert.equal("int", t8.kind, w[1])
      assert.equal(w[2], t8.size, w[1])
      assert.equal(w[3], t4.size, w[1])
      if w[4] ~= nil then assert.equal(w[4], t8.signed, w[1]) end
    end
    assert.same({"bool", 1}, {ty("_Bool", C).kind, ty("_Bool", C).size})
    assert.same({"float", 4}, {ty("float", C).kind, ty("float", C).size})
  end)

  it("aligns 8-byte scalars to 4 on i386", function()
    assert.same({8, 8}, {ty("double", C).size, ty("double", C).align})
    assert.same({8, 4}, {ty("double", C4).size, ty("double", C4).align})
    assert.equal(4, ty("long long", C4).align)
    assert.equal(4, ty("int64_t", C4).align)
    assert.equal(4, ty("long", C4).size)
    assert.equal(8, ty("long", C).size)
  end)

  it("reads abstract type names", function()
    assert.equal("char *", ty("char *", C).text)
    assert.equal("void *", ty("void*", C).text)
    assert.equal("void", ty("void *", C).to)
    assert.same({"array", 40, "int[10]"}, {ty("int[10]", C).kind, ty("int[10]", C).size, ty("int[10]", C).text})
    assert.equal("int (*)[4]", ty("int (*)[4]", C).text)
  end)

  it("refuses void slots, long double and unknown types", function()
    has(refused("void x;", C), "x: void has no size")
    has(refused("void a[2];", C), "column 1: void has no size, so it cannot be an array element")
    assert.same({16, 16}, {ty("long double", C).size, ty("long double", C).align})
    assert.same({12, 4}, {ty("long double", C4).size, ty("long double", C4).align})
    has(refused("__int128 d;", C4), "column 1: __int128 exists only on 64-bit targets")
    has(refused("int x; foo_t y;", C), "column 8: unknown type 'foo_t'")
    has(refused("short char c;", C), "unknown type 'short char'")
    assert.equal(8, slots("struct node *n;", C)[1].type.size, "a pointer to an incomplete struct")
    has(refused("struct node n;", C), "n: struct node is an incomplete type")
    assert.is_false(ty("void", C).sized)
  end)

  it("reports syntax errors with their column", function()
    has(refused("int ;", C), "column 5: expected a slot name")
    has(refused("int x int y;", C), "column 7: expected ';' after the declaration")
    has(refused("int a[];", C), "a: int[] has no length")
    has(refused("int a[4;", C), "column 8: expected ']' to close the array")
    has(refused("int x; int x;", C), "column 12: duplicate slot name 'x'")
    has(refused("; int x;", C), "column 1: expected a declaration")
    has(refused("int a[99999999999999999999];", C), "column 7: array length 99999999999999999999 is too large")
  end)
end)

describe("bad arguments", function()
  it("return nil and a message instead of raising", function()
    for _, call in ipairs{
      function() return decl.parse(nil) end,
      function() return decl.parse(42) end,
      function() return decl.type({}) end,
      function() return decl.parse("x: i32", {word = 16}) end,
      function() return decl.parse("x: i32", {lang = "go"}) end,
      function() return decl.parse("x: i32", "rust") end,
    } do
      local ok, res, err = pcall(call)
      assert.is_true(ok)
      assert.is_nil(res)
      assert.is_string(err)
    end
    local _, err = decl.parse("x: i32", {word = 16})
    has(err, "word must be 4 or 8")
  end)

  it("never raise on junk", function()
    for _, text in ipairs{"\0", "x: [", "x: [u8;", "x: (", "x: <", "x: dyn", "x: dyn +", "x: Box<>",
        "int (*", "int (x", "int [3]", "*", "x: &'", "x: [u8; 1_]", "))))", "x: ()()"} do
      for _, lang in ipairs{"rust", "c"} do
        local ok, res, err = pcall(decl.parse, text, {lang = lang})
        assert.is_true(ok, text)
        if res == nil then assert.is_string(err) end
      end
    end
  end)
end)

-- decl.type's message for text it refuses
local function bad(text, opts)
  local t, err = decl.type(text, opts)
  assert.is_nil(t)
  assert.is_string(err)
  return err
end

describe("Rust declarations", function()
  it("follow the i686 ABI with word = 4", function()
    -- what rustc's i686-unknown-linux-gnu gives (64-bit values 4-aligned, i128 16-aligned)
    assert.same({12, 4}, {ty("(u8, u64)", R4).size, ty("(u8, u64)", R4).align})
    assert.same({12, 4}, {ty("Option<u64>", R4).size, ty("Option<u64>", R4).align})
    assert.same({12, 12}, {ty("String", R4).size, ty("Option<String>", R4).size})
    assert.same({8, 8}, {ty("&str", R4).size, ty("Option<&[u8]>", R4).size})
    assert.same({32, 16}, {ty("(u8, u128)", R4).size, ty("(u8, u128)", R4).align})
    assert.equal(4, ty("enum E { A(u64), B }", R4).align)
  end)

  it("see each other in any order and through aliases", function()
    local t = ty("struct A { b: B, n: u8 } struct B { x: u64 } type C = A; C")
    assert.same({16, 8, "A"}, {t.size, t.align, t.text})
  end)

  it("give enums their variants and tag", function()
    local t = ty("enum Shape { Circle(f64), Rect { w: u32, h: u32 }, Empty }")
    assert.same({16, 8}, {t.size, t.align})
    assert.same({"Circle", "Rect", "Empty"}, {t.variants[1].name, t.variants[2].name, t.variants[3].name})
    -- the tag is widened to the smallest first-field alignment (Rect's u32) at no cost
    assert.same({"direct", 4}, {t.tag.encoding, t.tag.size})
    assert.equal(4, t.variants[2].fields[1].offset)
    local o = ty("Option<&u8>")
    assert.same({"niche", "Some"}, {o.tag.encoding, o.tag.variant})
  end)

  it("refuse what rustc refuses, saying what to write", function()
    has(bad("#[repr(packed, align(4))] struct S { a: u8 }"), "repr(packed) and repr(align) cannot be combined")
    has(bad("#[repr(align(3))] struct S { a: u8 }"), "the alignment must be a power of two")
    has(bad("#[repr(u8)] struct S { a: u8 }"), "repr(u8) applies only to enums")
    has(bad("#[repr(Rust2)] struct S { a: u8 }"), "unknown representation 'Rust2'")
    has(bad("#[repr(u8)] enum E { A = 300 }"), "a discriminant does not fit in #[repr(u8)]")
    has(bad("#[repr(packed)] enum E { A }"), "#[repr(packed)] is not allowed on an enum")
    has(bad("union U {}"), "union U has no fields")
    has(bad("struct S<T> { a: T }"), "column 9: generic declarations are not supported")
    has(bad("struct S { a: u8, a: u8 }"), "duplicate field name 'a'")
    has(bad("struct S { a: u8 } struct S { b: u8 }"), "the name S is declared twice")
    has(bad("struct S { a: str, b: u8 }"), "str is unsized, so it cannot be a field other than the last")
    has(bad("struct S { a: u8 b: u8 }"), "column 18: expected '}' to close the fields")
    has(bad("struct A { b: B } struct B { a: A }"), "recursive type")
    has(bad("enum E { A(!) }"), "the never type ! is not modelled")
  end)
end)

describe("C declarations", function()
  it("define structs, unions, enums and typedefs in order", function()
    local t = ty("typedef unsigned long size; struct S { size n; union { int i; float f; } u; enum { X, Y } e; };", C)
    assert.same({16, 8}, {t.size, t.align})
    assert.same({"n", "u", "e"}, {t.fields[1].name, t.fields[2].name, t.fields[3].name})
    assert.same({0, 8, 12}, {t.fields[1].offset, t.fields[2].offset, t.fields[3].offset})
  end)

  it("refuse what gcc refuses or stackheap does not model", function()
    has(bad("struct S { int x : 3; };", C), "column 18: bit-fields are not supported")
    has(bad("struct S { char c; _Alignas(1) int x; };", C), "_Alignas(1) is less than the natural alignment 4")
    has(bad("struct S { int a; }; struct S { int b; };", C), "redefinition of struct S")
    has(bad("struct S { int a; int a; };", C), "duplicate member 'a'")
    has(bad("struct S { char d[]; int n; };", C), "a flexible array member must be the last member")
    has(bad("struct S __attribute__((packed)) { int a; };", C), "__attribute__ is not supported")
  end)
end)

describe("unknown types", function()
  it("suggest the other language's name or a declaration", function()
    has(bad("struct S { a: int }"), "column 15: unknown type 'int' (did you mean i32?)")
    has(bad("Foo"), "unknown type 'Foo' (declare it in the text first: struct Foo { ... })")
    has(bad("u32", C), "unknown type 'u32' (did you mean uint32_t?)")
  end)
end)

describe("mangled declarations", function()
  -- Every prefix, and each text with one character dropped or repeated, of
  -- valid declarations: answered with a layout or one line, never an
  -- internal error or a raise.
  local texts = {
    {"#[repr(C, align(8))] struct P { a: u8, b: Option<Box<P>>, c: [u16; 3] } enum E { A(u8), B { x: P } = 5 }", {}},
    {"union U { a: u32, b: f32 } type T = (U, &'static str); T", {}},
    {"typedef struct node { int v; struct node *next; _Alignas(8) char c[]; } node_t; union { node_t *p; long l; };",
      {lang = "c"}},
    {"enum color { RED = -1, GREEN, BLUE = 0x10 }; int (*fns[3])(int, char *); struct { struct { int a; }; } s;",
      {lang = "c"}},
  }
  it("never raise and never fail inside", function()
    local n = 0
    for _, case in ipairs(texts) do
      local text, opts = case[1], case[2]
      local variants = {}
      for i = 0, #text do variants[#variants + 1] = text:sub(1, i) end
      for i = 1, #text do
        variants[#variants + 1] = text:sub(1, i - 1) .. text:sub(i + 1)
        variants[#variants + 1] = text:sub(1, i) .. text:sub(i)
      end
      for _, v in ipairs(variants) do
        for _, fn in ipairs{decl.type, decl.parse} do
          local ok, res, err = pcall(fn, v, opts)
          assert.is_true(ok, v)
          if res == nil then
            assert.is_string(err, v)
            assert.is_nil(err:find("internal error", 1, true), v .. " -> " .. err)
            assert.is_nil(err:find("\n"), err)
          end
          n = n + 1
        end
      end
    end
    assert.is_true(n > 1000)
  end)
end)
