-- stackheap.cmd.cache: `stackheap cache TRACE` runs an address trace (valgrind lackey's
-- or Dinero IV's din format) through the cache model and reports cachegrind's counters.
local core = require "stackheap.core"

-- cachegrind's own fallback configuration (what it simulates when it cannot
-- ask the processor): used for the levels not given on the command line.
local CG_DEFAULT = { I1 = { 65536, 2, 64 }, D1 = { 65536, 2, 64 }, LL = { 262144, 8, 64 } }
local LATENCY = { I1 = 4, D1 = 4, LL = 14 }
local COUNTERS = { "Ir", "I1mr", "ILmr", "Dr", "D1mr", "DLmr", "Dw", "D1mw", "DLmw" }

local function geometry(text, flag)
  local s, w, l = text:match("^(%d+),(%d+),(%d+)$")
  if not s then
    return nil, ("--%s must be size,ways,line (three integers), got '%s'"):format(flag, text)
  end
  return { tonumber(s), tonumber(w), tonumber(l) }
end

-- The checks cachegrind makes before it simulates a cache, in its words.
local function cachegrind_check(name, g)
  local size, ways, line = g[1], g[2], g[3]
  local function pow2(x) return x > 0 and x & (x - 1) == 0 end
  if ways < 1 or size % (line * ways) ~= 0 or not pow2(size // line // ways) then
    return ("%s: cache set count is not a power of two (size %d, ways %d, line %d)")
      :format(name, size, ways, line)
  end
  if not pow2(line) then return ("%s: cache line size %d is not a power of two"):format(name, line) end
  if line < 16 then return ("%s: cache line size %d is too small (16 at least)"):format(name, line) end
  if size <= line then return ("%s: cache size %d is not larger than its line"):format(name, size) end
end

-- The hierarchy for the run: the I1/D1/LL triple when a profile or a level
-- is given, else the machine's "default".
local function hierarchy(args)
  local given = args.I1 or args.D1 or args.LL
  if not args.profile and not given then return "default", 0 end
  local levels, minline = {}, math.huge
  for _, name in ipairs{ "I1", "D1", "LL" } do
    local g = CG_DEFAULT[name]
    if args[name] then
      local err
      g, err = geometry(args[name], name)
      if not g then return nil, err end
    end
    if args.profile then
      local err = cachegrind_check(name, g)
      if err then return nil, err end
    elseif g[1] % (g[2] * g[3]) ~= 0 then
      return nil, ("%s: size %d is not a multiple of ways * line (%d)"):format(name, g[1], g[2] * g[3])
    end
    minline = math.min(minline, g[3])
    levels[#levels + 1] = { name = name, size = g[1], ways = g[2], line = g[3],
                            latency = LATENCY[name],
                            kind = name == "I1" and "instruction" or name == "D1" and "data" or nil }
  end
  local cache = { levels = levels, memory = 200 }
  if args.profile then
    -- cachegrind: true LRU, write-allocate, no dirty state, sizes clamped
    -- to the smallest line so an access straddles at most two lines.
    cache.write = "none"
    return cache, minline
  end
  return cache, 0
end

-- cachegrind's nine counters from the levels: the first level serving
-- each kind, and the last level.
local function counters(res)
  local names = res.levels
  local first = {}
  for _, n in ipairs(names) do
    local l = res[n]
    if not first.fetch and (l.fetches > 0 or n == "I1") then first.fetch = l end
    if not first.data and (l.reads + l.writes > 0 or n == "D1") then first.data = l end
  end
  local last = res[names[#names]]
  first.fetch = first.fetch or res[names[1]]
  first.data = first.data or res[names[1]]
  return {
    Ir = first.fetch.fetches, I1mr = first.fetch.fetch_misses, ILmr = last.fetch_misses,
    Dr = first.data.reads, D1mr = first.data.read_misses, DLmr = last.read_misses,
    Dw = first.data.writes, D1mw = first.data.write_misses, DLmw = last.write_misses,
  }
end

local LEVEL_FIELDS = { "accesses", "hits", "misses", "evictions", "writebacks" }

-- Written by hand so the keys come out in cachegrind's order, byte for byte.
local function json(c, res)
  local parts = {}
  for _, k in ipairs(COUNTERS) do parts[#parts + 1] = ('"%s":%d'):format(k, c[k]) end
  local lv = {}
  for _, n in ipairs(res.levels) do
    local l, f = res[n], { ('"name":"%s"'):format(n) }
    for _, k in ipairs(LEVEL_FIELDS) do f[#f + 1] = ('"%s":%d'):format(k, l[k]) end
    lv[#lv + 1] = "{" .. table.concat(f, ",") .. "}"
  end
  parts[#parts + 1] = ('"levels":[%s]'):format(table.concat(lv, ","))
  parts[#parts + 1] = ('"memory":{"reads":%d,"writes":%d}'):format(res.memory.reads, res.memory.writes)
  parts[#parts + 1] = ('"cycles":%d'):format(res.cycles)
  return "{" .. table.concat(parts, ",") .. "}"
end

-- 1234567 -> "1,234,567", as cachegrind prints counts.
local function commas(n)
  local s = tostring(n)
  local k
  repeat s, k = s:gsub("^(%d+)(%d%d%d)", "%1,%2") until k == 0
  return s
end

local function pct(a, b)
  return b > 0 and ("%.1f%%"):format(100 * a / b) or "0.0%"
end

local function text(c, res)
  local out = {}
  local function line(label, v, rd, wr)
    if rd then
      out[#out + 1] = ("%-14s %14s  (%14s rd   + %14s wr)"):format(label, v, rd, wr)
    else
      out[#out + 1] = ("%-14s %14s"):format(label, v)
    end
  end
  line("I   refs:", commas(c.Ir))
  line("I1  misses:", commas(c.I1mr))
  line("LLi misses:", commas(c.ILmr))
  line("I1  miss rate:", pct(c.I1mr, c.Ir))
  line("LLi miss rate:", pct(c.ILmr, c.Ir))
  out[#out + 1] = ""
  line("D   refs:", commas(c.Dr + c.Dw), commas(c.Dr), commas(c.Dw))
  line("D1  misses:", commas(c.D1mr + c.D1mw), commas(c.D1mr), commas(c.D1mw))
  line("LLd misses:", commas(c.DLmr + c.DLmw), commas(c.DLmr), commas(c.DLmw))
  line("D1  miss rate:", pct(c.D1mr + c.D1mw, c.Dr + c.Dw), pct(c.D1mr, c.Dr), pct(c.D1mw, c.Dw))
  line("LLd miss rate:", pct(c.DLmr + c.DLmw, c.Dr + c.Dw), pct(c.DLmr, c.Dr), pct(c.DLmw, c.Dw))
  out[#out + 1] = ""
  local fmt = require "stackheap.format"
  local rows = {}
  for _, n in ipairs(res.levels) do
    local l = res[n]
    rows[#rows + 1] = { n, l.accesses, l.hits, l.misses, l.evictions, l.writebacks,
                        pct(l.misses, l.accesses) }
  end
  rows[#rows + 1] = { "memory", res.memory.accesses, "", "", "", "", "" }
  out[#out + 1] = fmt.table(rows, { headers = { "level", "accesses", "hits", "misses",
                                                "evictions", "write-backs", "miss rate" } })
  out[#out + 1] = ""
  out[#out + 1] = ("cycles: %s (each access priced at the latency of the level that served it)")
    :format(commas(res.cycles))
  return table.concat(out, "\n")
end

-- core.cache_trace with the CLI's reporting: the result, or nil after
-- printing why (a refused configuration, or the trace's FILE:LINE message).
local function trace(cmd, path, opts)
  local ok, res, err = pcall(core.cache_trace, path, opts)
  if not ok then
    io.stderr:write("stackheap: ", cmd, ": ", tostring(res), "\n")
  elseif not res then
    io.stderr:write("stackheap: ", err, "\n")
  end
  return ok and res or nil
end

local function run(args)
  local cache, clamp = hierarchy(args)
  if not cache then
    io.stderr:write("stackheap: cache: ", clamp, "\n")
    return 2
  end
  local res = trace("cache", args.trace, { format = args.format, cache = cache, clamp = clamp })
  if not res then return 2 end
  local c = counters(res)
  if args.json then print(json(c, res)) else print(text(c, res)) end
  return 0
end

return {
  name = "cache",
  summary = "Run an address trace through the cache model.",
  description = "Run an address trace through the cache model: valgrind's lackey format "
    .. "(valgrind --tool=lackey --trace-mem=yes; its ==PID== lines are skipped) or Dinero IV's "
    .. "din format (label address [size]: 0 read, 1 write, 2 instruction fetch, 3 unknown (a "
    .. "read), 4 flush). Without options the machine's default hierarchy is used; --I1, --D1 "
    .. "and --LL make a split first level and a last level. --profile cachegrind models what "
    .. "valgrind's cachegrind (--cache-sim=yes) simulates, so the nine counters equal its own "
    .. "for a lackey trace of the same run and configuration.\n"
    .. "Exit status: 0 success, 2 bad usage or bad input (the message names file and line).",
  configure = function(parser)
    parser:argument("trace", "The trace file.")
    parser:option("--format", "The trace format."):choices{ "lackey", "din" }:default("lackey")
    parser:option("--profile", "Model another tool's simulator exactly."):choices{ "cachegrind" }
    parser:option("--I1", "Level-1 instruction cache: size,ways,line.")
    parser:option("--D1", "Level-1 data cache: size,ways,line.")
    parser:option("--LL", "Last-level cache: size,ways,line.")
    parser:flag("--json", "Print one JSON object: cachegrind's counters, the levels, cycles.")
  end,
  run = run,
  trace = trace,         -- for csim
}
