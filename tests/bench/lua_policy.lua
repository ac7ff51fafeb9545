-- lua_policy.lua: a heap policy written in Lua replaying a recorded trace, against a built-in
-- policy in the same run.  Run by hand: `build/stackheap run tests/bench/lua_policy.lua TRACE`
-- (tests/bench/replay.sh records one and runs this).
local sh = require "stackheap"
local core = require "stackheap.core"
local fmt = require "stackheap.format"

local path = assert(arg and arg[1], "usage: lua_policy.lua TRACE")
local here = debug.getinfo(1, "S").source:match("^@(.*)/tests/bench/") or "."
local function policy(name) return dofile(here .. "/scripts/policies/" .. name .. ".lua") end

-- The trace is parsed once into its binary form, so the runs time the replay.
local cache = os.tmpname()
do
  local t = assert(core.trace_open(path, "auto", cache))
  while t:next() do end
  t:close()
end

-- Simple segregated storage: a class per 16 bytes, each a LIFO list of
-- freed blocks threaded through their payloads; a miss takes fresh space at
-- the break.  Constant work per operation: the cost of the Lua path itself.
local classes = setmetatable({}, { __mode = "k" })
local storage = sh.policy{
  name = "size classes",
  init = function(heap) classes[heap] = {} end,
  alloc = function(heap, n)
    local heads = classes[heap]
    local size = (n + 8 + 15) // 16 * 16
    local b = heads[size]
    if b then
      heap:step(1)
      local nx = heap:load(b, 8)
      heads[size] = nx ~= 0 and nx or nil
    else
      b = heap:sbrk(size)
      if not b then return nil end
      b = b + 8
    end
    heap:store(b - 8, size, 8)
    return b
  end,
  free = function(heap, p)
    local heads = classes[heap]
    local size = heap:load(p - 8, 8)
    heap:store(p, heads[size] or 0, 8)
    heads[size] = p
  end,
}

-- bare: no driver checks and the flat cost model, the engine's fastest path
local function replay(pol, opts, runs, bare)
  local heap = { policy = pol, size = 4096 }
  for k, v in pairs(opts or {}) do heap[k] = v end
  local best, ops, stats = math.huge, 0, nil
  for _ = 1, runs do
    local m = sh.machine{ heap = heap, cache = not bare and "default" or false }
    local t = assert(core.trace_open(path, "auto", cache))
    collectgarbage()
    local t0 = os.clock()
    local r = assert(core.replay(t, { m }, { check = not bare }))
    local dt = os.clock() - t0
    t:close()
    assert(r[1].errors == 0, r[1].messages[1])
    if dt < best then best, ops, stats = dt, r[1].ops, m:stats().heap end
  end
  return best, ops, stats
end

-- The reference policies walk their lists in Lua (the built-ins find the
-- same block in logarithmic time), so they run once; the rest best of 3.
local cases = {
  { "built-in segregated, order lifo (baseline)", "segregated", { order = "lifo" }, 3 },
  { "Lua size classes (this file)", storage, { align = 8 }, 3 },
  { "built-in segregated, no checks, no cache model", "segregated", { order = "lifo" }, 3, true },
  { "Lua size classes, no checks, no cache model", storage, { align = 8 }, 3, true },
  { "built-in first_fit, order lifo", "first_fit", { order = "lifo" }, 3 },
  { "Lua scripts/policies/segregated.lua", policy("segregated"), nil, 1 },
  { "Lua scripts/policies/explicit.lua (lifo)", policy("explicit"), nil, 1 },
}
local rows, base = {}, nil
for _, c in ipairs(cases) do
  local dt, ops, h = replay(c[2], c[3], c[4], c[5])
  base = base or dt
  rows[#rows + 1] = { c[1], ("%.3f s"):format(dt), ("%.2f M ops/s"):format(ops / dt / 1e6),
                      ("%.1f"):format(dt / base), h.peak_heap_bytes }
end
os.remove(cache)
print(("%s: Lua policies against built-in ones (checks and cache model on unless said)"):format(path))
print(fmt.table(rows, { headers = { "policy", "time", "rate", "x baseline", "heap peak" } }))
