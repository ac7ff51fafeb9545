-- report_long.lua: a long scenario for the report's size and speed (bench/report.sh):
-- N operations of allocs, frees, stores and frame pushes over a few hundred live blocks.
local sh = require "stackheap"
local N = tonumber(arg and arg[1]) or 100000
local m = sh.machine{ heap = { policy = "first_fit" } }
local live, seed = {}, 7
local function rand(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n + 1 end
local ops = 0
while ops < N do
  local f <close> = m:call("work", "i: i64, p: *mut u8")
  ops = ops + 1
  for _ = 1, 8 do
    if #live < 300 and rand(3) > 1 or #live == 0 then
      local p = m:alloc(rand(200))
      live[#live + 1] = p
      f.p = p
      m:store(p, ops)
      ops = ops + 3
    else
      local k = rand(#live)
      m:free(live[k])
      live[k] = live[#live]
      live[#live] = nil
      ops = ops + 1
    end
  end
  f.i = ops
  ops = ops + 2
end
