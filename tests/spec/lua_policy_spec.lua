-- lua_policy_spec.lua -- heap policies written in Lua (API.md section 3.1): the heap handle,
-- the driver's checks on every answer, errors inside a policy, and the reference policies.
local sh = require "stackheap"
local core = require "stackheap.core"

local function raised(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return tostring(err)
end

-- A policy answering whatever fn says, on a 4 KiB heap.
local function answering(fn, opts)
  local p = sh.policy{ name = "test", alloc = fn, free = function() end }
  local heap = { policy = p, size = 4096 }
  for k, v in pairs(opts or {}) do heap[k] = v end
  return sh.machine{ heap = heap }
end

local function bump()
  return sh.policy{
    name = "bump",
    alloc = function(heap, n, align)
      local _, brk = heap:bounds()
      local p = (brk + 8 + align - 1) // align * align
      if not heap:sbrk(p + n - brk) then return nil end
      heap:store(p - 8, n, 8)
      return p
    end,
    free = function(heap, p) heap:step(1) end,
  }
end

describe("sh.policy", function()
  it("refuses a malformed definition, naming the key", function()
    assert.matches("'name' must be a string", raised(sh.policy, { alloc = print, free = print }))
    assert.matches("'alloc' must be a function", raised(sh.policy, { name = "x", alloc = 1, free = print }))
    assert.matches("'free' must be a function", raised(sh.policy, { name = "x", alloc = print }))
    assert.matches("unknown option 'resize'",
      raised(sh.policy, { name = "x", alloc = print, free = print, resize = print }))
  end)

  it("is a machine's heap policy: sbrk, load, store, step, bounds", function()
    local m = sh.machine{ heap = { policy = bump() } }
    local a = assert(m:alloc(24))
    local b = assert(m:alloc(100))
    assert.equals(0x1010, a)
    assert.equals(0x1030, b)
    assert.equals(24, m:load(a - 8, 8))           -- the header the policy stored
    m:free(a)
    local h = m:stats().heap
    assert.equals(2, h.allocs)
    assert.equals(1, h.frees)
    assert.equals(1, h.searched)
    assert.equals(2, h.meta_stores)
    assert.equals(b + 100 - 0x1000, h.heap_bytes)
    assert.equals(1, #(function() local l = {} for x in m:blocks() do l[#l + 1] = x end return l end)())
  end)

  it("prices the policy's loads and stores as metadata traffic", function()
    local m = sh.machine{ heap = { policy = bump() } }
    local before = m:stats()
    m:alloc(16)
    local d = sh.diff(m:stats(), before)
    assert.is_true(d.cost.meta > 0)
    assert.equals(1, d.heap.meta_stores)
  end)

  it("fails sbrk past max with nil and a message", function()
    local got
    local p = sh.policy{ name = "greedy", free = function() end,
      alloc = function(heap, n) local a, msg = heap:sbrk(1 << 20); got = msg; return a end }
    local m = sh.machine{ heap = { policy = p, max = 65536 } }
    local a, msg = m:alloc(8)
    assert.is_nil(a)
    assert.equals("out of memory", msg)
    assert.matches("sbrk: 1048576 more bytes would pass max", got)
  end)

  it("passes the machine's heap keys to the policy", function()
    local seen
    local p = sh.policy{ name = "cfg", free = function() end,
      init = function(heap) seen = heap:config() end, alloc = function() end }
    sh.machine{ heap = { policy = p, align = 8, order = "address" } }
    assert.equals(8, seen.align)
    assert.equals("address", seen.order)
    assert.equals(8, seen.word)
    assert.equals(0, seen.size)      -- a Lua policy's heap starts empty
  end)

  it("supports a realloc of its own, checked like an alloc", function()
    local p = bump()
    local moves = 0
    local q = sh.policy{ name = "mover", alloc = p.alloc, free = p.free,
      realloc = function(heap, addr, n)
        local new = p.alloc(heap, n, 16)
        heap:copy(new, addr, math.min(n, heap:load(addr - 8, 8)))
        moves = moves + 1
        return new
      end }
    local m = sh.machine{ heap = { policy = q } }
    local a = m:alloc(16)
    m:write(a, "0123456789abcdef")
    local b = assert(m:realloc(a, 64))
    assert.equals(1, moves)
    assert.are_not.equal(a, b)
    assert.equals("0123456789abcdef", m:read(b, 16))
    assert.matches("freed at op", raised(m.free, m, a))
  end)
end)

describe("the driver checks every answer of a Lua policy", function()
  it("misaligned", function()
    local m = answering(function() return 0x1001 end)
    assert.matches("alloc: policy 'test' answered 0x1001 %(block 0x1001, 24 bytes%) for 24 bytes "
      .. "aligned to 16, which is not aligned", raised(m.alloc, m, 24))
  end)
  it("outside the heap", function()
    local m = answering(function() return 0x9000 end)
    assert.matches("answered 0x9000 .* which is outside the heap", raised(m.alloc, m, 24))
  end)
  it("overlapping a live block, and enclosing one", function()
    local answers = { 0x1100, 0x1110, 0x10f0 }
    local i = 0
    local m = answering(function() i = i + 1; return answers[i] end)
    assert.equals(0x1100, m:alloc(32))
    assert.matches("answered 0x1110 .* which overlaps a live block", raised(m.alloc, m, 8))
    assert.matches("answered 0x10f0 .* which overlaps a live block", raised(m.alloc, m, 128))
  end)
  it("not an integer", function()
    local m = answering(function() return 4096.5 end)
    assert.matches("alloc: policy 'test' failed for 24 bytes aligned to 16 %(op 0%): alloc answered "
      .. "4096.5, which is not an integer address", raised(m.alloc, m, 24))
    m = answering(function() return "0x1010" end)
    assert.matches("answered a string, which is not an integer address", raised(m.alloc, m, 24))
  end)
  it("a realloc's answer", function()
    local m = sh.machine{ heap = { policy = sh.policy{ name = "r", free = function() end,
      alloc = function() return 0x1010 end, realloc = function() return 0x1018 end }, size = 4096 } }
    local a = m:alloc(8)
    assert.matches("realloc: policy 'r' answered 0x1018 .* which is not aligned", raised(m.realloc, m, a, 64))
  end)
end)

describe("errors inside a Lua policy", function()
  it("become the policy's error naming the operation and request", function()
    local m = answering(function(heap, n) return nil + n end)
    local err = raised(m.alloc, m, 40)
    assert.matches("^alloc: policy 'test' failed for 40 bytes aligned to 16 %(op 0%): .*"
      .. "lua_policy_spec.lua:%d+: attempt to perform arithmetic on a nil value", err)
  end)
  it("an error in free names the address", function()
    local p = sh.policy{ name = "f", alloc = function() return 0x1010 end,
      free = function() error("no free today") end }
    local m = sh.machine{ heap = { policy = p, size = 4096 } }
    local a = m:alloc(8)
    assert.matches("free: policy 'f' failed for 0x1010 %(op 1%): .*no free today", raised(m.free, m, a))
  end)
  it("an error in init fails the machine", function()
    local p = sh.policy{ name = "i", alloc = print, free = print, init = function() error({}) end }
    assert.matches("init: .*raised a table value", raised(sh.machine, { heap = { policy = p } }))
  end)
  it("loads and stores outside the heap are errors", function()
    local m = answering(function(heap) heap:store(0x100000, 1, 8) end)
    assert.matches("store: 0x100000 %(8 bytes%) is outside the heap %[0x1000, 0x2000%)", raised(m.alloc, m, 8))
    m = answering(function(heap) return heap:load(0x1000, 3) end)
    assert.matches("load: the width must be 1, 2, 4 or 8, got 3", raised(m.alloc, m, 8))
  end)
  it("the heap handle is dead outside a call", function()
    local kept
    local m = answering(function(heap) kept = heap; return 0x1010 end)
    m:alloc(8)
    assert.matches("only valid inside a policy call", raised(kept.sbrk, kept, 16))
  end)
  it("a policy cannot use its own machine's heap", function()
    local m
    m = answering(function() return m:alloc(8) end)
    assert.matches("alloc: called from inside policy 'test'", raised(m.alloc, m, 8))
    -- and the machine still works afterwards
    assert.matches("called from inside", raised(m.alloc, m, 8))
  end)
end)

-- The reference policies of scripts/policies against the built-in ones
-- whose rules they follow: the same heap size on every malloc-lab trace.
describe("reference policies", function()
  local traces = {}
  for _, dir in ipairs{ "tests/traces", "tests/traces/malloclab" } do
    local ls = io.popen("ls " .. dir .. "/*.rep")
    for line in ls:lines() do traces[#traces + 1] = line end
    ls:close()
  end

  local function peak(pol, heap, trace)
    heap = heap or {}
    heap.policy = pol
    local m = sh.machine{ heap = heap }
    local r = assert(core.replay(assert(core.trace_open(trace)), { m }))
    assert.equals(0, r[1].errors, r[1].messages[1])
    return m:stats().heap.peak_heap_bytes
  end

  local cases = {
    { "implicit.lua", "csapp_implicit", { align = 8 }, {} },
    { "explicit.lua", "first_fit", { size = 4096 }, { order = "lifo" } },
    { "explicit.lua", "first_fit", { size = 4096, order = "address" }, { order = "address" } },
    { "segregated.lua", "segregated", { size = 4096 }, { order = "lifo" } },
  }
  assert.is_true(#traces >= 12)
  for _, c in ipairs(cases) do
    it(("%s reaches the heap size of %s %s"):format(c[1], c[2], c[4].order or ""), function()
      local p = dofile("scripts/policies/" .. c[1])
      for _, t in ipairs(traces) do
        local heap = {}
        for k, v in pairs(c[3]) do heap[k] = v end
        local want = peak(c[2], c[4], t)
        assert.equals(want, peak(p, heap, t), t)
      end
    end)
  end
end)
