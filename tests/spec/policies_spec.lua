-- policies_spec.lua -- the heap policies of API.md section 3, driven from Lua.
-- The conventions of issue 3: permissive settings, tiling, fixed heaps, bump and buddy rules.
local sh = require "stackheap"

local POLICIES = { "first_fit", "next_fit", "best_fit", "worst_fit", "segregated", "buddy",
                   "tlsf", "bump", "csapp_implicit" }

local function blocks(m)
  local list = {}
  for b in m:blocks() do list[#list + 1] = b end
  return list
end

local function raised(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error")
  return tostring(err)
end

describe("every policy", function()
  for _, name in ipairs(POLICIES) do
    it(name .. " tiles its heap with blocks that never overlap", function()
      local m = sh.machine{ heap = { policy = name } }
      local live = {}
      for i = 1, 300 do
        if i % 3 == 0 and #live > 0 then
          m:free(table.remove(live, (i * 7) % #live + 1))
        else
          live[#live + 1] = assert(m:alloc((i * 37) % 300 + 1))
        end
      end
      local list, last = blocks(m), nil
      for _, b in ipairs(list) do
        if last then assert.equals(last, b.addr) end
        last = b.addr + b.size
        assert.is_true(b.state == "used" or b.state == "free")
        if b.state == "used" then
          assert.is_true(b.payload >= b.addr and b.payload + b.requested <= b.addr + b.size)
          assert.equals(0, b.payload % 8)
        end
      end
      local h = m:stats().heap
      assert.equals(#live, h.live_blocks)
      assert.is_true(h.utilization > 0 and h.utilization <= 1)
    end)
  end
end)

describe("conventions", function()
  it("the most permissive settings make blocks exactly the requested size", function()
    local m = sh.machine{ heap = { policy = "first_fit", align = 1, header = 0, footer = 0,
                                   min_block = 1, split_min = 1, size = 100, extend = 0 } }
    local list = blocks(m)
    assert.equals(1, #list)
    assert.equals(100, list[1].size)
    local a = m:alloc(7)
    local b = m:alloc(1)
    assert.equals(0x1000, a)
    assert.equals(0x1007, b)
    list = blocks(m)
    assert.equals(3, #list)
    assert.equals(92, list[3].size)
    assert.equals(100, m:stats().heap.heap_bytes)
    assert.equals(100, m:stats().heap.peak_heap_bytes)
  end)

  it("next fit's rover rests past its last block and wraps", function()
    -- blocks tile [0x1008, 0x11f8): 496 bytes
    local m = sh.machine{ heap = { policy = "next_fit", size = 512, extend = 0 } }
    local a = m:alloc(24)
    assert.equals(0x1030, m:alloc(24))
    m:free(a)
    -- the hole at a is behind the rover: the next block comes from the tail
    assert.equals(0x1050, m:alloc(24))
    assert.equals(0x1070, m:alloc(380))          -- takes the rest exactly
    -- nothing past the rover: the search wraps to the hole
    assert.equals(a, m:alloc(24))
  end)

  it("buddy hands out lower halves and merges buddies back", function()
    local m = sh.machine{ heap = { policy = "buddy", size = 4096 } }
    assert.equals(0x1010, m:alloc(24))
    assert.equals(0x1050, m:alloc(24))
    assert.equals(7, #blocks(m))       -- two used 64s, free 128..2048
    for b in m:blocks() do
      if b.state == "used" then m:free(b.payload) end
    end
    assert.equals(1, #blocks(m))
  end)

  it("bump never reclaims and resets", function()
    local m = sh.machine{ heap = { policy = "bump" } }
    local a = m:alloc(10)
    assert.equals(0x1000, a)
    m:free(a)
    assert.equals(0x1010, m:alloc(1))
    m:reset()
    assert.equals(0, m:stats().heap.live_blocks)
    assert.equals(0x1000, m:alloc(10))
    assert.matches("only bump", raised(function() sh.machine():reset() end))
  end)

  it("a fixed heap keeps its size", function()
    for _, name in ipairs{ "first_fit", "best_fit", "tlsf", "segregated" } do
      local m = sh.machine{ heap = { policy = name, size = 8192, extend = 0 } }
      while m:alloc(100) do end
      local h = m:stats().heap
      assert.equals(8192, h.heap_bytes, name)
      assert.equals(8192, h.peak_heap_bytes, name)
      assert.is_true(h.failed == 1, name)
    end
  end)

  it("segregated and tlsf honour explicit alignments from 16 to 128", function()
    for _, name in ipairs{ "segregated", "tlsf" } do
      local m = sh.machine{ heap = { policy = name } }
      for _, al in ipairs{ 16, 32, 64, 128 } do
        assert.equals(0, m:alloc(40, al) % al)
      end
    end
    local m = sh.machine{ heap = { policy = "segregated", classes = { 32, 64, 128, 1 << 30 } } }
    assert.is_truthy(m:alloc(5000))
  end)

  it("csapp_implicit counts its 16 bytes of prologue and epilogue", function()
    local m = sh.machine{ heap = { policy = "csapp_implicit" } }
    assert.equals(4112, m:stats().heap.heap_bytes)
    assert.equals(0x1010, m:alloc(24))
    for b in m:blocks() do assert.is_true(b.addr >= 0x100c) end
  end)
end)

describe("parameters", function()
  it("are refused with the allowed values named", function()
    assert.matches("option 'order' is sideways; this build knows: address, lifo, fifo, size_asc, size_desc",
      raised(function() sh.machine{ heap = { policy = "first_fit", order = "sideways" } } end))
    assert.matches("coalesce' is never; this build knows: immediate, deferred, none",
      raised(function() sh.machine{ heap = { coalesce = "never" } } end))
    assert.matches("min_order <= max_order",
      raised(function() sh.machine{ heap = { policy = "buddy", min_order = 12, max_order = 8 } } end))
    assert.matches("power of two",
      raised(function() sh.machine{ heap = { align = 24 } } end))
    assert.matches("'size' is %-1, outside",
      raised(function() sh.machine{ heap = { size = -1 } } end))
    assert.matches("classes must be positive and ascending",
      raised(function() sh.machine{ heap = { policy = "segregated", classes = { 64, 32 } } } end))
    assert.matches("sli is tlsf's key",
      raised(function() sh.machine{ heap = { policy = "best_fit", sli = 4 } } end))
    assert.matches("fixed design",
      raised(function() sh.machine{ heap = { policy = "csapp_implicit", size = 1 << 20 } } end))
  end)
end)

describe("heap metrics", function()
  it("profile free sizes and waste, and sample a series", function()
    local m = sh.machine{ series = 2 }
    local ps = {}
    for i = 1, 10 do ps[i] = m:alloc(100) end
    for i = 1, 10, 2 do m:free(ps[i]) end
    local prof = m:heap_profile()
    local free_blocks = 0
    for _, b in ipairs(prof.free) do free_blocks = free_blocks + b.count end
    assert.equals(m:stats().heap.free_blocks, free_blocks)
    assert.equals(64, prof.waste[1].size)      -- requests of 100 are in [64, 128)
    assert.equals(5, prof.waste[1].blocks)
    assert.equals(5 * (112 - 100), prof.waste[1].bytes)
    local s = m:series()
    assert.equals(7, #s.op)                      -- 15 heap operations, every second one
    assert.equals(#s.op, #s.heap)
    assert.equals(#s.op, #s.live)
    assert.equals(600, s.live[7])                -- after the 14th: four of five frees done
  end)
end)
