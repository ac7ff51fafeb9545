-- cache_spec.lua: the cache as a scenario sees it: the option, stats().cache,
-- m:sweep and m:chase, m:cost_table(), and errors that name what is wrong.
local sh = require "stackheap"

local function raised(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  return tostring(err)
end

describe("the cache option", function()
  it("defaults to a 32 KiB L1 and a 1 MiB L2", function()
    local c = sh.machine():stats().cache
    local names = {}
    for name, l in pairs(c) do names[l.index] = name end
    assert.same({ "L1", "L2", "memory" }, names)
    assert.equals(4, c.L1.latency)
    assert.equals(14, c.L2.latency)
    assert.equals(200, c.memory.latency)
    for _, k in ipairs{ "accesses", "hits", "misses", "evictions", "writebacks" } do
      assert.is_number(c.L1[k], k)
    end
    assert.same(c, sh.machine{ cache = "default" }:stats().cache)
    assert.same(c, sh.machine{ cache = true }:stats().cache)
  end)

  it("takes levels, memory, write and allocate", function()
    local m = sh.machine{ cache = { levels = {
        { name = "I1", size = 1024, ways = 2, line = 32, latency = 1, kind = "instruction" },
        { name = "D1", size = 1024, ways = "full", line = 32, latency = 2, kind = "data",
          replace = "fifo" },
        { size = 4096, ways = 1, replace = "random" } },
      memory = 50, write = "through", allocate = false } }
    local c = m:stats().cache
    assert.same({ 1, 2, 3, 4 }, { c.I1.index, c.D1.index, c.L3.index, c.memory.index })
    assert.equals(50, c.memory.latency)
    local a = m:alloc(64)
    m:reset_stats()
    m:store(a, 1)                 -- write-through, no allocate: to memory, nothing kept
    assert.equals(50, m:stats().cycles)
    assert.equals(0, m:stats().cache.I1.accesses)   -- data never goes to I1
    assert.equals(1, m:stats().cache.D1.misses)
    assert.equals(1, m:stats().cache.memory.writes)
  end)

  it("false is the flat model: cost.access per access, no levels", function()
    local m = sh.machine{ cache = false, cost = { access = 5 } }
    local a = m:alloc(64)
    local cost = m:measure(function() m:load(a); m:store(a + 8, 1) end)
    assert.equals(10, cost.cycles)
    assert.same({}, m:stats().cache)
  end)

  it("refuses what it does not know, naming the key and the value", function()
    assert.matches("machine: cache: unknown option 'level' %(known: levels, memory, write, allocate%)",
      raised(function() sh.machine{ cache = { level = {} } } end))
    assert.matches("machine: cache: option 'write' is \"sideways\"; it must be one of \"back\", "
      .. "\"through\", \"none\"", raised(function() sh.machine{ cache = { write = "sideways" } } end))
    assert.matches("machine: cache: level 2: option 'size' %(bytes%) is required",
      raised(function() sh.machine{ cache = { levels = { { size = 1024, ways = 1 }, { ways = 2 } } } } end))
    assert.matches("machine: cache: level 1: option 'replace' is \"lfu\"",
      raised(function() sh.machine{ cache = { levels = { { size = 1024, ways = 1, replace = "lfu" } } } } end))
    assert.matches("machine: cache: level 1: unknown option 'assoc'",
      raised(function() sh.machine{ cache = { levels = { { size = 1024, assoc = 1 } } } } end))
    assert.matches("machine: cache level L1: line 48 is not a power of two",
      raised(function() sh.machine{ cache = { levels = { { size = 1536, ways = 1, line = 48 } } } } end))
    assert.matches("machine: option 'cache' must be \"default\", a table or false, got fast",
      raised(function() sh.machine{ cache = "fast" } end))
    assert.matches("option 'allocate' must be true or false",
      raised(function() sh.machine{ cache = { allocate = 1 } } end))
  end)
end)

describe("prices", function()
  it("count the stack, the program's memory and the allocator's apart", function()
    local m = sh.machine()
    local f = m:call("main", "x: i64, p: *mut u8")
    f.p = m:alloc(100)
    m:store(f.p, 7)
    local by = m:stats().cache.L1.by
    assert.equals(4, by.stack.accesses)      -- return address, saved fp, f.p written, f.p read
    assert.equals(1, by.memory.accesses)     -- the store into the block
    assert.is_true(by.meta.accesses >= 1)    -- the block's header
    local s = m:stats()
    assert.equals(s.cycles, s.cost.stack + s.cost.memory + s.cost.alloc + s.cost.meta)
    for _, k in ipairs{ "stack", "memory", "meta" } do
      assert.is_true(s.access_cycles[k] <= s.cost[k], k)
    end
    assert.equals(s.cost.stack - s.access_cycles.stack, s.stack.pushes * 2)   -- cost.push
  end)

  it("are what the level that served the access takes", function()
    local m = sh.machine()
    local a = m:alloc(1 << 16)
    m:cache_flush()
    assert.equals(200, m:measure(function() m:load(a + 4096) end).cycles)
    assert.equals(4, m:measure(function() m:load(a + 4096 + 8) end).cycles)
  end)

  it("are the same on every run (random replacement follows the seed)", function()
    local function run(seed)
      local m = sh.machine{ seed = seed, cache = { levels = {
          { size = 2048, ways = 4, replace = "random" } } } }
      local a = m:alloc(1 << 16)
      -- six lines of one 4-way set, round and round: lru always misses,
      -- random keeps some of them, which ones depending on the seed
      for _ = 1, 50 do m:sweep(a, 6, 512, 8) end
      return m:stats().cycles
    end
    assert.equals(run(3), run(3))
    assert.are_not.equal(run(3), run(4))
  end)
end)

describe("m:sweep and m:chase", function()
  it("sweep loads count values a stride apart and returns their sum", function()
    local m = sh.machine()
    local a = m:alloc(8 * 1000)
    m:sweep(a, 1000, 8, 8, 2)                    -- store 2 a thousand times
    assert.equals(2000, m:sweep(a, 1000, 8, 8))
    assert.equals(2 * 125, m:sweep(a, 125, 64))  -- width defaults to a word
    assert.equals(2 * 10, m:sweep(a + 8 * 999, 10, -8, 8))
    local m2 = sh.machine()
    local b = m2:alloc(8 * 1000)
    for i = 0, 999 do m2:store(b + 8 * i, 2) end
    m:reset_stats(); m2:reset_stats()
    m:cache_flush(); m2:cache_flush()
    m:sweep(a, 1000, 8, 8)
    for i = 0, 999 do m2:load(b + 8 * i) end
    assert.equals(m2:stats().cycles, m:stats().cycles)   -- one load each, priced alike
    assert.equals(1000, m:stats().loads)
  end)

  it("chase follows a list and stops at null", function()
    local m = sh.machine()
    local nodes = {}
    for i = 1, 5 do nodes[i] = m:alloc(16) end
    for i = 1, 5 do
      m:store(nodes[i], i * 10)
      m:store(nodes[i] + 8, nodes[i + 1] or 0)
    end
    local sum, n, last = m:chase(nodes[1], 8, nil, 0, 8)
    assert.equals(150, sum)
    assert.equals(5, n)
    assert.equals(0, last)
    sum, n, last = m:chase(nodes[1], 8, 2)
    assert.equals(0, sum)
    assert.equals(2, n)
    assert.equals(nodes[3], last)
  end)

  it("raise with the operation and the address", function()
    local m = sh.machine()
    local a = m:alloc(64)
    assert.matches("sweep: 0x%x+ %(%d+ bytes%) is past the heap's break: segmentation fault",
      raised(function() m:sweep(a, 1 << 20, 8, 8) end))
    assert.matches("sweep: the width must be 1, 2, 4 or 8, got 3", raised(function() m:sweep(a, 2, 8, 3) end))
    assert.matches("sweep: the count must not be negative", raised(function() m:sweep(a, -1, 8) end))
    m:store(a + 8, 16)
    assert.matches("chase: 0x18 %(8 bytes%) is in the null page",
      raised(function() m:chase(a, 8, 5) end))
  end)
end)

describe("m:cost_table()", function()
  it("splits each category's cycles into instructions and accesses", function()
    local m = sh.machine()
    local f = m:call("main", "p: *mut u8")
    f.p = m:alloc(100)
    m:free(f.p)
    m:ret()
    local t = m:cost_table()
    local s = m:stats()
    local total = t[#t]
    assert.equals("total", total.category)
    assert.equals(s.cycles, total.cycles)
    for i = 1, #t - 1 do
      assert.equals(t[i].cycles, t[i].instructions + t[i].access_cycles)
      assert.equals(t[i].accesses, t[i].served.L1 + t[i].served.L2 + t[i].served.memory)
    end
    local text = tostring(t)
    assert.matches("category%s+cycles%s+instructions%s+access cycles%s+accesses%s+L1 hits%s+L2 hits%s+from memory", text)
    assert.matches("\ntotal%s+" .. s.cycles, text)
    assert.matches("access cycles", tostring(sh.machine{ cache = false }:cost_table()))
  end)
end)
