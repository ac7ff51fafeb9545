-- best.lua: the timing every Lua benchmark uses, loaded with dofile beside it.
-- best(fn) runs fn three times and returns the least os.clock time: the least
-- disturbed run is the closest to what the code costs.
return function(fn)
  local t = math.huge
  for _ = 1, 3 do
    collectgarbage()
    local t0 = os.clock()
    fn()
    t = math.min(t, os.clock() - t0)
  end
  return t
end
