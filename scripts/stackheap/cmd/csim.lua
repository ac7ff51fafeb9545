-- stackheap.cmd.csim: the CMU cache lab's reference simulator (csim-ref), same flags,
-- same printed answers: one LRU level, sizes ignored, M is a load then a store.
local trace = require("stackheap.cmd.cache").trace

local function int(flag, lo, hi)
  return function(v)
    local n = math.tointeger(tonumber(v))
    if not n or n < lo or n > hi then
      return nil, ("%s must be an integer from %d to %d, got '%s'"):format(flag, lo, hi, v)
    end
    return n
  end
end

local function run(args)
  local s, E, b = args.s, args.E, args.b
  if s + b > 64 then
    io.stderr:write("stackheap: csim: -s plus -b must be at most 64\n")
    return 2
  end
  local sets, line = 1 << s, 1 << b
  if sets * E > (1 << 24) then
    io.stderr:write(("stackheap: csim: %d sets of %d lines are more than this model keeps\n")
      :format(sets, E))
    return 2
  end
  local cache = { levels = { { name = "L1", size = sets * E * line, ways = E, line = line } },
                  write = "none" }
  local res = trace("csim", args.t, { cache = cache, csim = true, verbose = args.v })
  if not res then return 2 end
  print(("hits:%d misses:%d evictions:%d"):format(res.hits, res.misses, res.evictions))
  return 0
end

return {
  name = "csim",
  summary = "The cache lab's reference cache simulator (csim-ref).",
  description = "The CMU cache lab's reference simulator: a cache of 2^s sets of E lines of "
    .. "2^b bytes, LRU, fed a valgrind-format trace (I lines ignored, sizes ignored, M counted "
    .. "as a load then a store). Prints hits:H misses:M evictions:E; with -v, each access "
    .. "and its verdicts first. Unlike csim-ref it writes no .csim_results file.",
  configure = function(parser)
    parser:flag("-v", "Optional verbose flag: print each access and its verdicts.")
    parser:option("-s", "Number of set index bits (2^s sets)."):argname("<num>")
      :convert(int("-s", 0, 63)):count(1)
    parser:option("-E", "Number of lines per set (associativity)."):argname("<num>")
      :convert(int("-E", 1, 1 << 24)):count(1)
    parser:option("-b", "Number of block offset bits (2^b bytes a line)."):argname("<num>")
      :convert(int("-b", 0, 63)):count(1)
    parser:option("-t", "Trace file."):argname("<file>"):count(1)
  end,
  run = run,
}
