-- values_spec.lua -- frames laid out by declarations, paths into struct slots, and the
-- owning values (String, Vec<T>, Box<T>) with their heap traffic and drops.
local sh = require "stackheap"

local THIS = debug.getinfo(1, "S").short_src

local function raised(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error")
  return tostring(err)
end

local function live_blocks(m)
  local n = 0
  for b in m:blocks() do if b.state == "used" then n = n + 1 end end
  return n
end

describe("frames laid out by declarations", function()
  it("place a struct slot with its layout and expose its fields", function()
    local m = sh.machine()
    local f <close> = m:call("main", "struct P { a: u8, b: u32, c: u16 } p: P, n: u8")
    local p = f:addr("p")
    assert.equal(0, p % 4)
    local l = sh.layout("struct P { a: u8, b: u32, c: u16 }")
    for _, fld in ipairs(l.fields) do assert.equal(p + fld.offset, f:addr("p." .. fld.name)) end
    f["p.a"], f["p.b"], f["p.c"] = 1, 70000, 3
    assert.same({1, 70000, 3}, {f.p.a, f.p.b, f.p.c})
    assert.equal(70000, f["p.b"])
    f:set("p.c", 9)
    assert.equal(9, f:get("p.c"))
    f.p = {a = 5, b = 6, c = 7}
    assert.same({a = 5, b = 6, c = 7}, f.p)
  end)

  it("reach array elements and nested fields", function()
    local m = sh.machine()
    local f <close> = m:call("main", "struct In { x: u16, y: u16 } struct Out { i: [In; 3], z: u8 } o: Out")
    f["o.i[2].y"] = 44
    assert.equal(44, f.o.i[3].y)
    assert.equal(f:addr("o") + sh.layout("struct In { x: u16, y: u16 } struct Out { i: [In; 3], z: u8 }")
      .fields[1].offset + 2 * 4 + 2, f:addr("o.i[2].y"))
  end)

  it("name a bad path and where it is", function()
    local m = sh.machine()
    local f <close> = m:call("main", "struct P { x: i32 } p: P, a: [u8; 2]")
    local err = raised(function() return f:addr("p.q") end)
    assert.matches("frame 'main': 'p.q': P has no field 'q' %(its fields: x%)", err)
    assert.matches("^" .. THIS:gsub("%p", "%%%0") .. ":%d+:", err)
    assert.matches("'a%[5%]': %[5%] is out of bounds", raised(function() return f["a[5]"] end))
    assert.matches("has no slot 'z'", raised(function() f["z.x"] = 1 end))
  end)

  it("use C declarations with struct definitions", function()
    local m = sh.machine()
    local f <close> = m:call("main", "struct pt { char c; double d; }; struct pt p; int n;", {lang = "c"})
    assert.equal(8, f:addr("p.d") - f:addr("p"))
    f["p.d"] = 2.5
    assert.equal(2.5, f.p.d)
    local g <close> = m:call("g", "char c; _Alignas(64) int x;", {lang = "c"})
    assert.equal(0, g:addr("x") % 64, "_Alignas on a slot")
  end)

  it("refuse unsized and recursive types with what to write instead", function()
    local m = sh.machine()
    assert.matches("x: str is unsized.*%(&str, Box<str>, String%)", raised(function() m:call("f", "x: str") end))
    assert.matches("recursive type L contains itself.*Box<L>",
      raised(function() m:call("f", "struct L { v: u8, next: L } l: L") end))
    assert.matches("struct F ends in the flexible array member",
      raised(function() m:call("f", "struct F { int n; int d[]; }; struct F x;", {lang = "c"}) end))
  end)
end)

describe("String", function()
  it("keeps its header in the slot and its bytes on the heap", function()
    local m = sh.machine()
    local f <close> = m:call("main", "s: String")
    local s = m:string(f, "s", "hello")
    local l = sh.layout("String")
    local off = {}
    for _, fl in ipairs(l.fields) do off[fl.name] = fl.offset end
    assert.equal(s:ptr(), m:load(f:addr("s") + off.ptr))
    assert.equal(5, m:load(f:addr("s") + off.len))
    assert.equal(5, m:load(f:addr("s") + off.cap))
    assert.equal("hello", m:read(s:ptr(), 5))
    assert.equal(1, m:stats().heap.allocs)
  end)

  it("grows by Rust's rule with realloc, the header staying put", function()
    local m = sh.machine()
    local f <close> = m:call("main", "s: String")
    local s = m:string(f, "s")
    assert.same({0, 0, 1}, {s:len(), s:capacity(), s:ptr()})   -- String::new: no allocation, dangling
    local caps = {}
    for i = 1, 20 do s:push("x"); caps[i] = s:capacity() end
    assert.same({8, 8, 8, 8, 8, 8, 8, 8, 16, 16, 16, 16, 16, 16, 16, 16, 32, 32, 32, 32}, caps)
    s:push_str(("y"):rep(100))
    assert.equal(120, s:capacity(), "max(2 * cap, needed)")
    assert.equal(("x"):rep(20) .. ("y"):rep(100), s:as_str())
    local st = m:stats().heap
    assert.same({1, 3}, {st.allocs, st.reallocs})
  end)

  it("shows the buffer move while the header does not", function()
    local m = sh.machine()
    local f <close> = m:call("main", "s: String")
    local s = m:string(f, "s", "abc")
    local first, header = s:ptr(), f:addr("s")
    m:alloc(8)                                    -- a neighbour: no room to grow in place
    s:push_str(("z"):rep(64))
    assert.not_equal(first, s:ptr())
    assert.equal(header, f:addr("s"))
    assert.equal("abc" .. ("z"):rep(64), s:as_str())
  end)
end)

describe("Vec and Box", function()
  it("push, pop and index through the pointer", function()
    local m = sh.machine()
    local f <close> = m:call("main", "v: Vec<u32>")
    local v = m:vec(f, "v", {1, 2, 3})
    assert.same({3, 3}, {v:len(), v:capacity()})
    v:push(4)
    assert.same({4, 6}, {v:len(), v:capacity()})
    assert.equal(4, v:get(3))
    v:set(0, 10)
    assert.equal(10, m:load(v:ptr(), 4))
    assert.equal(4, v:pop())
    assert.same({3, 6}, {v:len(), v:capacity()})
    assert.matches("index 3 is out of bounds: the len is 3", raised(function() v:get(3) end))
    local before = m:stats().loads
    v:get(1)
    assert.is_true(m:stats().loads > before, "indexing loads through the pointer")
  end)

  it("start empty Vecs at four elements", function()
    local m = sh.machine()
    local f <close> = m:call("main", "v: Vec<u64>")
    local v = m:vec(f, "v")
    v:push(1)
    assert.equal(4, v:capacity())
  end)

  it("box a value in a block of its size", function()
    local m = sh.machine()
    local f <close> = m:call("main", "b: Box<(u8, u64)>")
    local b = m:box(f, "b", {["0"] = 7, ["1"] = 9})
    assert.equal(b:ptr(), f.b)
    assert.same({["0"] = 7, ["1"] = 9}, b:get())
    local found
    for blk in m:blocks() do if blk.payload == b:ptr() then found = blk end end
    assert.equal(16, found.requested)
  end)

  it("refuse a slot of the wrong type", function()
    local m = sh.machine()
    local f <close> = m:call("main", "n: u64, p: *mut u8")
    assert.matches("'n' is a u64, not a String", raised(function() m:string(f, "n", "x") end))
    assert.matches("'p' is a %*mut u8, not a Box<T>", raised(function() m:box(f, "p", 1) end))
  end)
end)

describe("drops", function()
  it("free owners in reverse declaration order when the frame is popped", function()
    local m = sh.machine()
    local f = m:call("main", "a: String, b: Vec<u8>, c: Box<u64>, raw: *mut u8, n: u64")
    local a = m:string(f, "a", "first")
    local b = m:vec(f, "b", {1})
    local c = m:box(f, "c", 5)
    f.raw = m:alloc(32)                           -- a raw pointer owns nothing
    local order = {}
    local pa, pb, pc = a:ptr(), b:ptr(), c:ptr()
    local mt = getmetatable(m).__index
    local saved = mt.free
    mt.free = function(self, p) order[#order + 1] = p; return saved(self, p) end
    m:ret()
    mt.free = saved
    assert.same({pc, pb, pa}, order)
    assert.equal(1, live_blocks(m), "the raw pointer's block leaks")
    assert.matches("String 'a' was dropped", raised(function() return a:len() end))
  end)

  it("drop struct fields in declaration order, and on frame:close and <close>", function()
    local m = sh.machine()
    do
      local f <close> = m:call("main", "struct Two { x: String, y: String } t: Two")
      local x = m:string(f, "t.x", "xx")
      local y = m:string(f, "t.y", "yy")
      assert.equal(2, live_blocks(m))
      assert.is_true(x:ptr() ~= y:ptr())
    end
    assert.equal(0, live_blocks(m))
    local f = m:call("g", "s: String")
    m:string(f, "s", "q")
    f:close()
    assert.equal(0, live_blocks(m))
  end)

  it("drop the old value on reassignment, and nothing twice after a move", function()
    local m = sh.machine()
    local caller = m:call("caller", "s: String")
    local callee = m:call("callee", "t: String")
    local t = m:string(callee, "t", "made here")
    local s = t:move_to(caller, "s")               -- returned to the caller
    callee:close()
    assert.equal(1, live_blocks(m))
    assert.equal("made here", s:as_str())
    assert.matches("was moved to caller's s", raised(function() t:push_str("x") end))
    m:string(caller, "s", "replaced")             -- the old String is dropped
    assert.equal(1, live_blocks(m))
    caller:close()
    assert.equal(0, live_blocks(m))
  end)

  it("happen when an error unwinds a <close> frame", function()
    local m = sh.machine()
    pcall(function()
      local f <close> = m:call("main", "s: String")
      m:string(f, "s", "lost?")
      error("boom")
    end)
    assert.equal(0, m:depth())
    assert.equal(0, live_blocks(m))
  end)
end)

describe("snapshots", function()
  it("find the pointers inside struct slots, a String's buffer among them", function()
    local m = sh.machine()
    local f <close> = m:call("main", "s: String, p: *mut u8")
    local s = m:string(f, "s", "hi there")
    f.p = m:alloc(8)
    local found = {}
    for _, p in ipairs(m:snapshot().pointers) do if p.frame then found[p.slot] = p.to end end
    assert.same({["s.ptr"] = s:ptr(), p = f.p}, found)
  end)
end)
