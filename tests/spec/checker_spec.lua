-- checker_spec.lua -- the checker of API.md section 5: one scenario per kind of misuse,
-- the subtle ones included, and clean scenarios on every policy that must report nothing.
local sh = require "stackheap"
local core = require "stackheap.core"

local THIS = debug.getinfo(1, "S").short_src

local function here()
  return debug.getinfo(2, "l").currentline
end

-- The kinds m:errors() lists, in order; the leaks a scan finds now only
-- when asked (most scenarios hold their blocks in Lua variables, no root).
local function kinds(m, leaks)
  local out = {}
  for _, e in ipairs(m:errors()) do
    if leaks or e.kind ~= "leak" then out[#out + 1] = e.kind .. (e.leak and ":" .. e.leak or "") end
  end
  return out
end

local function checked(opts)
  opts = opts or {}
  opts.check = opts.check or true
  return sh.machine(opts)
end

describe("the checker", function()
  it("reports a double free with the block's history", function()
    local m <close> = checked()
    local p = m:alloc(24)
    local at_alloc = here() - 1
    m:free(p)
    local at_free = here() - 1
    m:free(p)
    local at_again = here() - 1
    local e = m:errors()
    assert.same({ "double_free" }, kinds(m))
    e = e[1]
    assert.equals(p, e.addr)
    assert.equals(THIS .. ":" .. at_again, e.site)
    assert.equals(p, e.block.addr)
    assert.equals(24, e.block.size)
    assert.equals(THIS .. ":" .. at_alloc, e.block.alloc_site)
    assert.equals(THIS .. ":" .. at_free, e.block.free_site)
    assert.is_true(e.block.alloc_op < e.block.free_op and e.block.free_op < e.op)
    assert.matches("freed at op " .. e.block.free_op, e.message)
    assert.matches("free", e.explain)
  end)

  it("reports invalid frees: an interior pointer, a stack address, a wild one", function()
    local m <close> = checked()
    local p = m:alloc(32)
    m:free(p + 8)
    local f <close> = m:call("main", "x: i64")
    m:free(f:addr("x"))
    m:free(0x12340)
    local e = m:errors()
    assert.same({ "invalid_free", "invalid_free", "invalid_free" }, kinds(m))
    assert.matches("8 bytes into the block", e[1].message)
    assert.equals(p, e[1].block.addr)
    assert.equals("main", e[2].frame.name)
    assert.matches("never allocated", e[3].message)
    assert.is_nil(e[3].block)
    -- nothing was freed: the block is still there
    assert.equals(1, m:stats().heap.live_blocks)
    m:free(p)
  end)

  it("reports a use after free even when the policy would reuse the block", function()
    local m <close> = checked()
    local p = m:alloc(24)
    m:store(p, 7, 8)
    m:free(p)
    local q = m:alloc(24)
    assert.are_not.equal(p, q)          -- the quarantine keeps p from the policy
    m:store(p, 1, 8)
    assert.equals(1, m:load(p, 8))
    assert.same({ "use_after_free", "use_after_free" }, kinds(m))
    assert.matches("freed at op", m:errors()[1].message)
    m:free(q)
  end)

  it("without a quarantine, the reused block hides the use after free", function()
    local m <close> = checked{ check = { quarantine = 0 } }
    local p = m:alloc(24)
    m:free(p)
    local q = m:alloc(24)
    assert.equals(p, q)                 -- the policy's own answer, unchanged
    m:store(p, 1, 8)                    -- through the stale pointer: nothing to see
    assert.same({}, kinds(m))
    m:free(q)
  end)

  it("reports one byte past the end that the block's padding would hide", function()
    local m <close> = checked()
    local p = m:alloc(20)               -- a 32-byte block: 12 bytes of padding
    local b
    for x in m:blocks() do if x.payload == p then b = x end end
    assert.is_true(b.size > 20 + 8)
    m:store(p + 19, 1, 1)
    m:store(p + 20, 1, 1)
    local e = m:errors()
    assert.same({ "out_of_bounds" }, kinds(m))
    assert.equals(p + 20, e[1].addr)
    assert.equals(1, e[1].size)
    assert.matches("0 bytes past the end of the 20%-byte block", e[1].message)
    assert.matches("padding", e[1].message)
    m:free(p)
  end)

  it("reports accesses into the allocator's header and the next block", function()
    local m <close> = checked()
    local p = m:alloc(24)               -- 8 + 24 = 32 bytes: no padding after it
    local q = m:alloc(24)
    m:store(p, 0, 8)
    m:store(p + 8, 0, 8)
    m:load(p - 8, 8)                    -- p's own header
    m:store(p + 24, 1, 8)               -- q's header
    m:store(p + 16, 1, 8)               -- still inside: fine
    local e = m:errors()
    assert.same({ "out_of_bounds", "out_of_bounds" }, kinds(m))
    assert.matches("allocator's header", e[1].message)
    assert.equals(p, e[1].block.addr)
    assert.matches("0 bytes past the end of the 24%-byte block", e[2].message)
    assert.matches("next block's header", e[2].message)
    m:free(p)
    m:free(q)
  end)

  it("reports reads of bytes never written, once, and lets copies through", function()
    local m <close> = checked()
    local p = m:alloc(16)
    m:store(p, 5, 4)
    assert.equals(5, m:load(p, 4))      -- written: fine
    m:load(p, 8)                        -- 4 of its 8 bytes were never written
    m:load(p, 8)                        -- said once: now counts as defined
    local e = m:errors()
    assert.same({ "uninitialised" }, kinds(m))
    assert.matches("uses 4 uninitialised bytes", e[1].message)
    assert.equals(p + 4, e[1].addr)
    -- realloc copies definedness with the bytes: copying is not a use
    m:store(p + 8, 9, 8)
    local r = m:realloc(p, 4096)
    assert.are_not.equal(p, r)
    assert.equals(9, m:load(r + 8, 8))
    assert.equals(1, #kinds(m))
    m:load(r + 16, 8)                   -- the grown part was never written
    assert.same({ "uninitialised", "uninitialised" }, kinds(m))
    m:free(r)
  end)

  it("reports a slot read before it was written", function()
    local m <close> = checked()
    local f <close> = m:call("main", "x: i32, y: u64")
    f.x = 1
    assert.equals(1, f.x)
    local _ = f.y
    local e = m:errors()
    assert.same({ "uninitialised" }, kinds(m))
    assert.matches("slot 'y' of frame 'main'", e[1].message)
  end)

  it("reports a use of a popped frame's slot", function()
    local m <close> = checked()
    local f = m:call("make", "x: i32")
    local px = f:addr("x")
    m:store(px, 3, 4)
    m:ret()
    local at_ret = here() - 1
    m:load(px, 4)
    local e = m:errors()
    assert.same({ "use_after_return" }, kinds(m))
    assert.equals("make", e[1].frame.name)
    assert.equals(THIS .. ":" .. at_ret, e[1].frame.pop_site)
    assert.matches("slot 'x' of frame 'make', which returned", e[1].message)
  end)

  it("reports a dangling pointer into a frame whose slot a later frame reuses", function()
    local m <close> = checked()
    local f = m:call("make", "x: i64")
    local px = f:addr("x")
    m:ret()
    local g = m:call("other", "a: i64")
    assert.equals(px, g:addr("a"))      -- the same address; taking it is legitimate
    m:ret()
    g = m:call("third", "b: i64")
    g.b = 1                              -- the frame's own slot: fine
    m:store(px, 5, 8)                    -- through the old pointer: not fine
    local e = m:errors()
    assert.same({ "use_after_return" }, kinds(m))
    assert.matches("dangling pointer", e[1].message)
    assert.matches("slot 'b' of frame 'third'", e[1].message)
    m:ret()
  end)

  it("reports a stack access that runs from one slot into its neighbour", function()
    local m <close> = checked()
    local f <close> = m:call("main", "n: i64, buf: [u8; 8]")
    local b = f:addr("buf")
    f.n = 0
    m:store(b, 1, 8)                     -- fills buf: fine
    m:store(b + 4, 1, 8)                 -- n sits right above buf
    assert.same({ "out_of_bounds" }, kinds(m))
    assert.matches("from slot 'buf' into slot 'n'", m:errors()[1].message)
  end)

  it("classifies leaks as Memcheck does", function()
    local m <close> = checked()
    local w = m:word()
    local f <close> = m:call("main", "keep: *mut u8, inner: *mut u8")
    -- reachable: a slot points at a block that points at another
    local a = m:alloc(16)
    local b = m:alloc(16)
    m:store(a, b, w)
    m:store(b, 0, w)
    f.keep = a
    -- a cycle no root reaches: one definitely lost, the other indirectly
    local c, d = m:alloc(24), m:alloc(24)
    m:store(c, d, w)
    m:store(d, c, w)
    -- reachable only through a pointer into its middle: possibly lost
    local e = m:alloc(32)
    f.inner = e + 8
    local leaks = m:leaks()
    assert.same({ "leak:definitely", "leak:indirectly", "leak:possibly" },
                (function() local k = {}; for i, l in ipairs(leaks) do k[i] = l.kind .. ":" .. l.leak end; return k end)())
    assert.equals(c, leaks[1].addr)
    assert.equals(24, leaks[1].size)
    assert.equals(d, leaks[2].addr)
    assert.equals(e, leaks[3].addr)
    assert.equals(32, leaks[3].size)
    assert.equals(THIS, leaks[3].block.alloc_site:match("^(.*):%d+$"))
    -- errors() includes what a scan finds now, without recording it
    assert.same({ "leak:definitely", "leak:indirectly", "leak:possibly" }, kinds(m, true))
    f.inner = e
    assert.same({ "leak:definitely", "leak:indirectly" }, kinds(m, true))
    for _, x in ipairs{ a, b, c, d, e } do m:free(x) end
    assert.same({}, kinds(m, true))
  end)

  it("groups leaks from one line into one record", function()
    local m <close> = checked()
    for _ = 1, 5 do m:alloc(10) end
    local leaks = m:leaks()
    assert.equals(1, #leaks)
    assert.equals(5, leaks[1].blocks)
    assert.equals(50, leaks[1].size)
    assert.matches("50 bytes in 5 blocks definitely lost", leaks[1].message)
  end)

  it("raises the first misuse at the scenario line with check = \"raise\"", function()
    local m <close> = sh.machine{ check = "raise" }
    local p = m:alloc(8)
    m:free(p)
    local line = here() + 1
    local ok, err = pcall(function() return m:load(p, 8) end)
    assert.is_false(ok)
    assert.equals(THIS .. ":" .. line .. ": load: read of 8 bytes at " .. ("0x%x"):format(p),
                  err:match("^(.-), "))
    local t <close> = sh.machine{ check = { raise = true, quarantine = 64 } }
    local q = t:alloc(8)
    assert.matches("uninitialised", select(2, pcall(t.load, t, q, 8)))
    t:free(q)
  end)

  it("checks sweeps and chases element by element", function()
    local m <close> = checked()
    local p = m:alloc(64)
    m:sweep(p, 8, 8, 8, 0)              -- stores: defines all 64 bytes
    assert.equals(0, m:sweep(p, 8, 8, 8))
    m:sweep(p, 9, 8, 8)                 -- the ninth element is past the end
    assert.same({ "out_of_bounds" }, kinds(m))
    m:free(p)
    m:chase(p, 0, 1)
    assert.same({ "out_of_bounds", "use_after_free" }, kinds(m))
  end)

  it("refuses bad check options", function()
    assert.has_error(function() sh.machine{ check = { quarantine = -1 } } end)
    assert.has_error(function() sh.machine{ check = { raise = 1 } } end)
    assert.has_error(function() sh.machine{ check = { sideways = true } } end)
    local m <close> = sh.machine{}
    assert.has_error(function() m:leaks() end, nil)
  end)
end)

-- Scenarios a correct program runs: they must report nothing, on every policy.
local clean = {
  { "a linked list built, walked and freed", function(m)
    local w = m:word()
    local f <close> = m:call("main", "head: *mut u8, n: usize")
    f.head = 0
    for i = 1, 50 do
      local node = m:alloc(2 * w)
      m:store(node, f.head, w)
      m:store(node + w, i, w)
      f.head = node
    end
    assert.same({}, m:leaks())
    local sum, n = m:chase(f.head, 0, 100, w, w)
    assert.equals(50 * 51 // 2, sum)
    assert.equals(50, n)
    local p = f.head
    while p ~= 0 do
      local nx = m:load(p, w)
      m:free(p)
      p = nx
    end
    f.head = 0
  end },
  { "a Vec that grows by realloc", function(m)
    local w = m:word()
    local f <close> = m:call("main", "buf: *mut u8, len: usize, cap: usize")
    f.buf, f.len, f.cap = m:alloc(4 * 8), 0, 4
    for i = 1, 100 do
      if f.len == f.cap then
        f.cap = f.cap * 2
        f.buf = m:realloc(f.buf, f.cap * 8)
      end
      m:store(f.buf + f.len * 8, i, 8)
      f.len = f.len + 1
    end
    assert.equals(100 * 101 // 2, m:sweep(f.buf, 100, 8, 8))
    assert.same({}, m:leaks())
    m:free(f.buf)
    assert.equals(w, m:word())
  end },
  { "pointers kept only in heap blocks reachable from a slot", function(m)
    local w = m:word()
    local f <close> = m:call("main", "table: *mut u8")
    local t = m:alloc(3 * w)
    for i = 0, 2 do
      local child = m:alloc(8)
      m:store(child, i, 8)
      m:store(t + i * w, child, w)
    end
    f.table = t
    assert.same({}, m:leaks())
    for i = 0, 2 do m:free(m:load(t + i * w, w)) end
    m:free(t)
  end },
}

describe("clean scenarios report nothing", function()
  for _, case in ipairs(clean) do
    local name, run = case[1], case[2]
    it(name .. ", on every policy", function()
      for _, policy in ipairs(core.policies()) do
        local m <close> = sh.machine{ check = true, heap = { policy = policy } }
        run(m)
        assert.same({}, kinds(m, true), policy)
      end
    end)
  end
end)
