-- machine_spec.lua -- the Lua API of API.md section 1: machines, frames, heap, memory, stats.
-- Error messages are checked for what they name and for pointing at the caller's line.
local sh = require "stackheap"

-- The error fn raises, and the file and line it names (the caller's line).
local function raised_at(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error")
  local file, line = tostring(err):match("^([^:]+):(%d+): ")
  return tostring(err), file, tonumber(line)
end

local function raised(fn)
  return (raised_at(fn))
end

local THIS = debug.getinfo(1, "S").short_src

describe("sh", function()
  it("has a version", function()
    assert.matches("^stackheap 0%.%d+%.%d+$", sh._VERSION)
  end)
end)

describe("sh.machine", function()
  it("takes no options", function()
    local m = sh.machine()
    assert.equals(8, m:word())
    assert.equals(0, m:depth())
  end)

  it("takes every documented option", function()
    local m = sh.machine{ word = 4, stack = { size = 1 << 16 }, cache = "default", check = true,
                          seed = 7, heap = { policy = "first_fit", size = 8192, max = 1 << 20,
                          extend = 4096, align = 8, header = 4, footer = 4, min_block = 16,
                          split_min = 16, order = "address", coalesce = "immediate" } }
    assert.equals(4, m:word())
    local a = m:alloc(10)
    assert.equals(0, a % 8)
    m:free(a)               -- a checked machine reports a block left live as a leak
  end)

  it("names unknown options and bad values, at the caller's line", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local err, file, at = raised_at(function() sh.machine{ wrod = 8 } end)
    assert.matches("unknown option 'wrod'", err)
    assert.equals(THIS, file)
    assert.equals(line, at)
    assert.matches("option 'word' must be 4 or 8, got 6", raised(function() sh.machine{ word = 6 } end))
    assert.matches("heap: unknown option 'sise'", raised(function() sh.machine{ heap = { sise = 1 } } end))
    assert.matches("option 'size' must be an integer, got string",
                   raised(function() sh.machine{ heap = { size = "big" } } end))
    assert.matches("option 'policy' is quick; this build knows: first_fit", raised(function() sh.machine{ heap = { policy = "quick" } } end))
    assert.matches("'check' must be true, false, \"raise\" or a table", raised(function() sh.machine{ check = 1 } end))
    assert.matches("option 'heap' must be a table", raised(function() sh.machine{ heap = 5 } end))
  end)

  it("keeps two machines independent", function()
    local a, b = sh.machine(), sh.machine()
    local p = a:alloc(100)
    local f = a:call("main", "x: i64")
    f.x = 5
    assert.equals(0, b:depth())
    assert.equals(0, b:stats().heap.allocs)
    assert.equals(p, b:alloc(100))          -- same inputs, same answers
    assert.equals(1, a:stats().heap.allocs)
    a:close()
    assert.equals(1, b:stats().heap.allocs)
    assert.matches("closed", raised(function() a:alloc(1) end))
  end)
end)

describe("frames", function()
  local m
  before_each(function() m = sh.machine() end)

  it("grow down: a callee's slots sit below its caller's, aligned, not overlapping", function()
    local main = m:call("main", "a: u8, b: u64, c: [u16; 3], d: i32")
    local f = m:call("f", "x: i128")
    local prev = math.huge
    for _, s in ipairs(main:slots()) do
      assert.equals(0, s.addr % s.align)
      assert.is_true(s.addr + s.size <= prev)
      prev = s.addr
    end
    assert.is_true(f:addr("x") + 16 <= main:addr("d"))
    assert.equals(0, f:addr("x") % 16)
    local sp, fp, top = main:bounds()
    assert.equals(top - sp, main:size())
    assert.is_true(main:addr("d") >= sp and main:addr("a") < fp)
    assert.equals(2, m:depth())
  end)

  it("read and write typed slot values", function()
    local f = m:call("main", "i: i8, u: u32, x: f64, b: bool, c: char, p: *const u8, v: [i16; 3], s: String, q: &str, w: u128")
    f.i = -5; f.u = 4000000000; f.x = 1.5; f.b = true; f.c = "λ"; f.p = 0x1010
    f.v = { 1, -2, 3 }
    f.s = { ptr = 0x2000, cap = 8, len = 5 }
    f.q = { ptr = 0x3000, len = 3 }
    f.w = 12345
    assert.equals(-5, f.i)
    assert.equals(4000000000, f.u)
    assert.equals(1.5, f.x)
    assert.is_true(f.b)
    assert.equals("λ", f.c)
    assert.equals(0x1010, f.p)
    assert.same({ 1, -2, 3 }, f.v)
    assert.same({ ptr = 0x2000, cap = 8, len = 5 }, f.s)
    assert.same({ ptr = 0x3000, len = 3 }, f.q)
    assert.equals(12345, f.w)
    assert.equals("main", f.name)
    f:set("i", 7)
    assert.equals(7, f:get("i"))
    f.p = nil
    assert.equals(0, f.p)
  end)

  it("accept C declarations", function()
    local f = m:call("main", "int x; char *s; long n[2];", { lang = "c" })
    f.x = -1; f.s = 0x1010
    assert.equals(-1, f.x)
    assert.equals(0x1010, f.s)
    assert.equals(0, f:addr("x") % 4)
    assert.equals(0, f:addr("n") % 8)
  end)

  it("refuse unsized types, saying they belong on the heap", function()
    local err = raised_at(function() m:call("f", "s: str") end)
    assert.matches("s: str is unsized", err)
    assert.matches("heap", err)
    assert.matches("%[u8%] is unsized", raised(function() m:call("f", "b: [u8]") end))
    assert.matches("dyn", raised(function() m:call("f", "t: dyn Display") end))
    assert.equals(0, m:depth())
  end)

  it("name bad slots, values and declarations at the caller's line", function()
    local f = m:call("main", "x: u8, y: bool")
    local line = debug.getinfo(1, "l").currentline + 1
    local err, file, at = raised_at(function() return f.nope end)
    assert.matches("frame 'main' has no slot 'nope' %(its slots: x, y%)", err)
    assert.equals(THIS, file)
    assert.equals(line, at)
    assert.matches("no slot 'nope'", raised(function() return f:addr("nope") end))
    assert.matches("300 does not fit in u8 %(0%.%.255%)", raised(function() f.x = 300 end))
    assert.matches("cannot store a string in bool", raised(function() f.y = "yes" end))
    assert.matches("cannot store a number in u8", raised(function() f.x = 1.5 end))
    line = debug.getinfo(1, "l").currentline + 1
    err, file, at = raised_at(function() m:call("g", "x: i33") end)
    assert.matches("call: column 4: unknown type 'i33'", err)
    assert.equals(line, at)
    assert.matches("frame name must be a string", raised(function() m:call(5, "") end))
    assert.matches("lang must be", raised(function() m:call("g", "", { lang = "go" }) end))
  end)

  it("pop last in, first out", function()
    local a = m:call("a", "x: i32")
    local b = m:call("b", "y: i32")
    assert.matches("close: frame 'a' is not on top of the stack %('b' is", raised(function() a:close() end))
    b:close()
    assert.matches("close: frame 'b' was already popped", raised(function() b:close() end))
    assert.matches("frame 'b' was popped: its slot 'y' no longer exists",
                   raised(function() return b.y end))
    assert.is_false(b:alive())
    m:ret()
    assert.equals(0, m:depth())
    assert.matches("ret: the stack is empty", raised(function() m:ret() end))
  end)

  it("pop at scope end with <close>", function()
    do
      local f <close> = m:call("scoped", "x: i32")
      f.x = 1
      assert.equals(1, m:depth())
    end
    assert.equals(0, m:depth())
    -- an error unwinding through the scope pops the frames above it too
    local outer = m:call("outer", "")
    pcall(function()
      local f <close> = m:call("f", "")
      m:call("g", "")
      error("boom")
    end)
    assert.equals(1, m:depth())
    assert.is_true(outer:alive())
  end)

  it("iterate top first", function()
    m:call("main", ""); m:call("f", ""); m:call("g", "")
    local names = {}
    for f in m:frames() do names[#names + 1] = f.name end
    assert.same({ "g", "f", "main" }, names)
  end)

  it("overflow at the limit with a message naming it, and stay usable", function()
    local m2 = sh.machine{ stack = { size = 64 * 1024 } }
    local depth = 0
    local err = raised_at(function()
      while true do m2:call("recurse", "buf: [u8; 1000]"); depth = depth + 1 end
    end)
    assert.matches("stack overflow", err)
    assert.matches("65536", err)
    assert.equals(depth, m2:depth())
    assert.is_true(depth > 50 and depth < 66)
    m2:ret()
    m2:call("again", "x: i32")
    assert.equals(depth, m2:depth())
  end)

  it("show stale values: a new frame's slots hold what was there before", function()
    local f = m:call("f", "x: i64")
    f.x = 99
    f:close()
    local g = m:call("g", "y: i64")
    assert.equals(99, g.y)
  end)
end)

describe("heap", function()
  local m
  before_each(function() m = sh.machine() end)

  it("allocates aligned payloads and lists blocks in address order", function()
    local a, b = m:alloc(24), m:alloc(100, 64)
    assert.equals(0x1010, a)
    assert.equals(0, b % 64)
    local last, used = 0, 0
    for blk in m:blocks() do
      assert.is_true(blk.addr >= last)
      last = blk.addr + blk.size
      if blk.state == "used" then
        used = used + 1
        assert.is_true(blk.payload >= blk.addr and blk.payload + blk.requested <= blk.addr + blk.size)
      else
        assert.equals("free", blk.state)
        assert.is_nil(blk.payload)
      end
    end
    assert.equals(2, used)
  end)

  it("frees, coalesces and reuses", function()
    local a = m:alloc(40)
    local b = m:alloc(40)
    m:free(a); m:free(b)
    local n = 0
    for _ in m:blocks() do n = n + 1 end
    assert.equals(1, n)
    assert.equals(a, m:alloc(80))
  end)

  it("treats max as a hard limit: nil, \"out of memory\", nothing changed", function()
    local m2 = sh.machine{ heap = { size = 4096, max = 16384 } }
    local a = assert(m2:alloc(10000))
    local before = m2:stats().heap
    local p, err = m2:alloc(10000)
    assert.is_nil(p)
    assert.equals("out of memory", err)
    local after = m2:stats().heap
    assert.equals(before.heap_bytes, after.heap_bytes)
    assert.equals(before.live_blocks, after.live_blocks)
    assert.equals(1, after.failed)
    assert.is_nil((m2:realloc(a, 20000)))
    assert.equals(before.live_bytes, m2:stats().heap.live_bytes)
  end)

  it("reallocates, keeping the bytes", function()
    local a = m:alloc(8)
    m:write(a, "abcdefgh")
    local b = m:realloc(a, 5000)
    assert.equals("abcdefgh", m:read(b, 8))
    assert.equals(1, m:stats().heap.reallocs)
    assert.is_nil(m:realloc(b, 0))
    assert.equals(0, m:stats().heap.live_blocks)
  end)

  it("remembers the last 4096 frees without the checker, every block's with it", function()
    for _, check in ipairs { false, true } do
      local c = sh.machine{ check = check and { quarantine = 0 } or false, heap = { size = 1 << 20 } }
      local ps = {}
      for i = 1, 5000 do ps[i] = c:alloc(16) end
      for i = 1, 5000 do c:free(ps[i]) end
      local function why(p)
        if check then c:free(p); local e = c:errors(); return e[#e].message end
        return raised(function() c:free(p) end)
      end
      assert.matches("%(freed at op 9999%)", why(ps[5000]))
      if check then
        assert.matches("%(freed at op 5000%)", why(ps[1]))
      else
        assert.matches("never allocated, or not among the last 4096 frees; check = true keeps",
          why(ps[1]), 1, true)
      end
      -- Allocated again, an address is live, not freed.
      local q = c:alloc(16)
      assert.is_nil(select(2, pcall(c.free, c, q)))
      c:close()
    end
  end)

  it("raises a double free unless the checker records it", function()
    local a = m:alloc(8)
    m:free(a)
    local line = debug.getinfo(1, "l").currentline + 1
    local err, file, at = raised_at(function() m:free(a) end)
    assert.matches("free: 0x1010 is not the start of a live block %(freed at op %d+%)", err)
    assert.equals(line, at)
    assert.matches("never allocated", raised(function() m:free(0x5000) end))

    local c = sh.machine{ check = true }
    local p = c:alloc(8)
    c:free(p)
    c:free(p)
    local errs = c:errors()
    assert.equals(1, #errs)
    assert.equals("double_free", errs[1].kind)
    assert.equals(p, errs[1].addr)
    assert.matches("freed at op", errs[1].message)

    local r = sh.machine{ check = "raise" }
    p = r:alloc(8)
    r:free(p)
    assert.matches("freed at op", raised(function() r:free(p) end))
    assert.equals(1, #r:errors())
    -- closed: `stackheap run` reports the findings of machines still open
    c:close()
    r:close()
  end)

  it("checks its arguments", function()
    assert.matches("alloc: the size must not be negative, got %-1", raised(function() m:alloc(-1) end))
    assert.matches("alloc: the size must be an integer, got string", raised(function() m:alloc("x") end))
    assert.matches("power of two, got 3", raised(function() m:alloc(8, 3) end))
    assert.matches("free: the address must be an integer", raised(function() m:free(nil) end))
  end)
end)

describe("memory", function()
  local m
  before_each(function() m = sh.machine() end)

  it("stores and loads little-endian integers of 1, 2, 4 and 8 bytes", function()
    local a = m:alloc(16)
    m:store(a, 0x1122334455667788, 8)
    assert.equals(0x88, m:load(a, 1))
    assert.equals(0x7788, m:load(a, 2))
    assert.equals(0x55667788, m:load(a, 4))
    assert.equals(0x1122334455667788, m:load(a))
    m:store(a + 8, -1, 1)
    assert.equals(255, m:load(a + 8, 1))
    assert.equals("\x88\x77", m:read(a, 2))
  end)

  it("refuses bad widths, values that do not fit, and wild addresses", function()
    local a = m:alloc(16)
    assert.matches("width must be 1, 2, 4 or 8, got 3", raised(function() m:load(a, 3) end))
    assert.matches("256 does not fit in 1 byte", raised(function() m:store(a, 256, 1) end))
    local line = debug.getinfo(1, "l").currentline + 1
    local err, _, at = raised_at(function() m:load(0, 8) end)
    assert.matches("load: 0x0 %(8 bytes%) is in the null page: segmentation fault", err)
    assert.equals(line, at)
    assert.matches("past the heap's break", raised(function() m:store(0x1000 + (1 << 20), 1) end))
  end)
end)

describe("stats", function()
  it("has every field API.md names", function()
    local m = sh.machine()
    local s = m:stats()
    assert.is_number(s.cycles)
    for _, k in ipairs{ "pushes", "pops", "depth", "peak_depth", "peak_bytes" } do
      assert.is_number(s.stack[k], k)
    end
    for _, k in ipairs{ "allocs", "frees", "reallocs", "failed", "live_bytes", "live_blocks",
                        "heap_bytes", "peak_live_bytes", "peak_heap_bytes", "utilization",
                        "searched", "splits", "coalesces" } do
      assert.is_number(s.heap[k], k)
    end
    for _, k in ipairs{ "internal", "external", "jw3", "jw4" } do
      assert.is_number(s.heap.frag[k], k)
    end
    assert.is_table(s.cache)
  end)

  it("counts and prices what happens", function()
    local m = sh.machine{ cache = false }     -- the flat model: every access costs the same
    local cost = m:measure(function()
      local f = m:call("f", "x: i64")
      f.x = 1
      m:ret()
    end)
    assert.equals(1, cost.stack.pushes)
    assert.equals(1, cost.stack.pops)
    assert.equals(1, cost.stores - 2)        -- the slot, besides return address and fp
    local heap = m:measure(function() m:free(m:alloc(24)) end)
    assert.equals(1, heap.heap.allocs)
    assert.equals(1, heap.heap.frees)
    assert.is_true(heap.cycles > cost.cycles / 2)
    local s = m:stats()
    assert.equals(s.cycles, s.cost.stack + s.cost.memory + s.cost.alloc + s.cost.meta)
  end)

  it("computes utilization and fragmentation", function()
    local m = sh.machine{ heap = { size = 0, extend = 4096 } }
    local ps = {}
    for i = 1, 10 do ps[i] = m:alloc(1000) end
    for i = 1, 10, 2 do m:free(ps[i]) end
    local h = m:stats().heap
    assert.equals(10000, h.peak_live_bytes)
    assert.near(10000 / h.peak_heap_bytes, h.utilization, 1e-12)
    assert.is_true(h.frag.external > 0 and h.frag.external < 1)
    assert.near(h.peak_heap_bytes / 10000 - 1, h.frag.jw4, 1e-12)
    assert.is_true(h.frag.internal >= 0 and h.frag.internal < 0.1)
    m:reset_stats()
    local r = m:stats()
    assert.equals(0, r.heap.allocs)
    assert.equals(h.live_bytes, r.heap.live_bytes)
  end)

  it("are deterministic", function()
    local function run()
      local m = sh.machine{ seed = 3 }
      local f = m:call("main", "p: *mut u8, n: usize")
      for i = 1, 200 do
        local p = m:alloc((i * 37) % 500 + 1)
        if i % 3 == 0 then m:free(p) else f.p = p end
      end
      local s = m:stats()
      return table.concat({ s.cycles, s.heap.heap_bytes, s.heap.searched, f.p }, ",")
    end
    assert.equals(run(), run())
  end)
end)

describe("snapshot", function()
  it("shows frames, slot values, blocks and pointers without costing anything", function()
    local m = sh.machine()
    local f = m:call("main", "n: i32, p: *mut u8")
    f.n = 3
    local a = m:alloc(16)
    local b = m:alloc(16)
    f.p = a
    m:store(a, b)                -- a points at b
    local before = m:stats()
    local s = m:snapshot()
    assert.same(before, m:stats())
    assert.equals("main", s.frames[1].name)
    assert.equals(3, s.frames[1].slots[1].value)
    assert.equals(a, s.frames[1].slots[2].value)
    local found = {}
    for _, p in ipairs(s.pointers) do found[#found + 1] = p end
    assert.equals(2, #found)
    assert.equals("p", found[1].slot)
    assert.equals(b, found[2].to)
    assert.equals(3, #s.blocks)
  end)
end)

describe("sh.layout", function()
  it("describes sized and unsized types", function()
    local l = sh.layout("String")
    assert.equals(24, l.size)
    assert.equals(8, l.align)
    assert.is_true(l.sized)
    assert.equals(3, #l.fields)
    local u = sh.layout("str")
    assert.is_false(u.sized)
    assert.matches("heap", u.why)
    assert.equals(4, sh.layout("int", { lang = "c" }).size)
    assert.equals(4, sh.layout("usize", { word = 4 }).size)
    assert.matches("layout: column 1: unknown type", raised(function() sh.layout("i33") end))
  end)
end)
