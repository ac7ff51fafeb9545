-- run.lua: Lua-driven operations per second, each against a baseline measured in the same run.
-- Run by hand: `cmake --build build --target bench` or `build/stackheap run tests/bench/run.lua [N]`.
local sh = require "stackheap"
local fmt = require "stackheap.format"

local N = tonumber(arg and arg[1]) or 2000000
local time = dofile((arg and arg[0] or ""):match("^(.-)[^/]*$") .. "best.lua")

local m = sh.machine{ heap = { size = 1 << 20 } }
local a = m:alloc(64)

local cases = {
  { "baseline: m:depth() (one Lua->C call, no work)", 1, function()
      for _ = 1, N do m:depth() end
    end },
  { "load (8 bytes)", 1, function()
      for _ = 1, N do m:load(a, 8) end
    end },
  { "store (8 bytes)", 1, function()
      for i = 1, N do m:store(a, i, 8) end
    end },
  { "alloc + free (24 bytes), per operation", 2, function()
      for _ = 1, N // 2 do m:free(m:alloc(24)) end
    end },
  { "call + ret (2 slots), per operation", 2, function()
      for _ = 1, N // 2 do m:call("f", "x: i64, p: *mut u8"); m:ret() end
    end },
  { "call with <close> + slot write + read, per op", 4, function()
      for i = 1, N // 4 do
        local f <close> = m:call("f", "x: i64, p: *mut u8")
        f.x = i
        local _ = f.x
      end
    end },
}

print(("stackheap benchmarks, %s, N = %d, best of 3 (os.clock)"):format(sh._VERSION, N))
local rows, base = {}, nil
for _, c in ipairs(cases) do
  local t = time(c[3])
  local ops = N / t
  base = base or ops
  rows[#rows + 1] = { c[1], ("%.1f M/s"):format(ops / 1e6), ("%.2f"):format(ops / base),
                      ("%.0f ns"):format(1e9 / ops) }
end
print(fmt.table(rows, { headers = { "operation", "rate", "vs baseline", "per op" } }))
