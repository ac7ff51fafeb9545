-- checker.lua: what the checker costs -- a replay and a Lua scenario, each with
-- check = false (the baseline) and check = true in the same run. Goal: at most 1.5x.
-- Run by hand: `cmake --build build --target bench` or
-- `build/stackheap run tests/bench/checker.lua [OPS]`.
local sh = require "stackheap"
local core = require "stackheap.core"
local fmt = require "stackheap.format"

local OPS = tonumber(arg and arg[1]) or 200000
local time = dofile((arg and arg[0] or ""):match("^(.-)[^/]*$") .. "best.lua")

-- A synthetic trace: OPS operations, 60% allocs of 1..256 bytes, frees of a
-- random live block, everything freed at the end. A fixed LCG: same bytes each run.
local function make_trace(path)
  local f = assert(io.open(path, "w"))
  local seed, live, nextid = 1, {}, 0
  local function rand(n)
    seed = (seed * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
    return (seed >> 33) % n
  end
  for _ = 1, OPS do
    if #live == 0 or rand(10) < 6 then
      nextid = nextid + 1
      live[#live + 1] = nextid
      f:write(('{"op":"alloc","id":%d,"size":%d}\n'):format(nextid, 1 + rand(256)))
    else
      local k = 1 + rand(#live)
      f:write(('{"op":"free","id":%d}\n'):format(live[k]))
      live[k] = live[#live]
      live[#live] = nil
    end
  end
  for _, id in ipairs(live) do f:write(('{"op":"free","id":%d}\n'):format(id)) end
  f:close()
end

local path = os.tmpname()
make_trace(path)

local function replay(check)
  return function()
    local m <close> = sh.machine{ check = check and { quarantine = 1 << 20 } or false }
    local t = assert(core.trace_open(path, "jsonl"))
    assert(core.replay(t, { m }))
    t:close()
  end
end

-- A scenario a course would write: frames with slots, a linked list built,
-- walked and freed, a vector grown by realloc, loads and stores through pointers.
local function scenario(check)
  return function()
    local m <close> = sh.machine{ check = check }
    local w = m:word()
    for round = 1, OPS // 500 do
      local main <close> = m:call("main", "head: *mut u8, v: *mut u8, len: usize, cap: usize")
      main.head = 0
      for i = 1, 200 do
        local f <close> = m:call("push", "node: *mut u8, i: i64")
        f.i = i
        f.node = m:alloc(2 * w)
        m:store(f.node, main.head, w)
        m:store(f.node + w, f.i, w)
        main.head = f.node
      end
      m:chase(main.head, 0, 1000, w, w)
      main.v, main.len, main.cap = m:alloc(64), 0, 8
      for i = 1, 100 do
        if main.len == main.cap then
          main.cap = main.cap * 2
          main.v = m:realloc(main.v, main.cap * 8)
        end
        m:store(main.v + main.len * 8, i + round, 8)
        main.len = main.len + 1
      end
      m:sweep(main.v, main.len, 8, 8)
      local p = main.head
      while p ~= 0 do
        local nx = m:load(p, w)
        m:free(p)
        p = nx
      end
      m:free(main.v)
    end
    assert(#m:errors() == 0 or not check, "the scenario is clean")
  end
end

print(("checker cost, %s, %d operations, best of 3 (os.clock)"):format(sh._VERSION, OPS))
local rows = {}
for _, c in ipairs{ { "replay (jsonl, first_fit)", replay }, { "Lua scenario", scenario } } do
  local off, on = time(c[2](false)), time(c[2](true))
  rows[#rows + 1] = { c[1], ("%.3f s"):format(off), ("%.3f s"):format(on), ("%.2fx"):format(on / off) }
end
os.remove(path)
print(fmt.table(rows, { headers = { "workload", "check = false", "check = true", "ratio" } }))
