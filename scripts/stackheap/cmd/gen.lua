-- stackheap.cmd.gen: `stackheap gen` makes a synthetic allocation workload: N operations
-- drawn from size and lifetime distributions, in phases, reproducible from a seed.
local core = require "stackheap.core"

local M = {}

local function bad(msg) error({ usage = msg }, 0) end

-- A size distribution from its spec; returns a function drawing one size >= 1.
function M.sizes(spec, rand)
  local kind, rest = spec:match("^(%a+):(.*)$")
  local nums = {}
  local function numbers(n)
    for x in (rest or ""):gmatch("[^,]+") do
      local v = tonumber(x)
      if not v then bad(("--sizes %s: '%s' is not a number"):format(spec, x)) end
      nums[#nums + 1] = v
    end
    if #nums ~= n then bad(("--sizes %s: expected %d number%s after '%s:'"):format(spec, n,
      n == 1 and "" or "s", kind)) end
  end
  local function clamp(x) return math.max(1, math.floor(x)) end
  if kind == "uniform" then
    numbers(2)
    local lo, hi = math.tointeger(nums[1]), math.tointeger(nums[2])
    if not lo or not hi or lo < 0 or hi < lo then
      bad(("--sizes %s: expected integers 0 <= MIN <= MAX"):format(spec))
    end
    return function() return rand(lo, hi) end
  elseif kind == "exp" then
    numbers(1)
    local mean = nums[1]
    if mean <= 0 then bad(("--sizes %s: the mean must be positive"):format(spec)) end
    return function() return clamp(-mean * math.log(1 - rand())) end
  elseif kind == "lognormal" then
    numbers(2)
    local mu, sigma = nums[1], nums[2]
    if sigma < 0 then bad(("--sizes %s: sigma must not be negative"):format(spec)) end
    return function()
      -- Box-Muller: one normal deviate from two uniform ones.
      local z = math.sqrt(-2 * math.log(1 - rand())) * math.cos(2 * math.pi * rand())
      return clamp(math.exp(mu + sigma * z))
    end
  elseif kind == "classes" then
    local sizes, cum, total = {}, {}, 0
    for item in (rest or ""):gmatch("[^,]+") do
      local s, w = item:match("^(%d+)=([%d.]+)$")
      s, w = math.tointeger(tonumber(s)), tonumber(w)
      if not s or not w or w <= 0 then
        bad(("--sizes %s: expected SIZE=WEIGHT items, got '%s'"):format(spec, item))
      end
      total = total + w
      sizes[#sizes + 1], cum[#cum + 1] = s, total
    end
    if #sizes == 0 then bad(("--sizes %s: no classes"):format(spec)) end
    return function()
      local r = rand() * total
      for i = 1, #cum do if r < cum[i] then return sizes[i] end end
      return sizes[#sizes]
    end
  end
  bad(("--sizes %s: expected uniform:MIN,MAX, exp:MEAN, lognormal:MU,SIGMA or "
    .. "classes:SIZE=WEIGHT,..."):format(spec))
end

-- The live blocks, in allocation order (for LIFO-ish and FIFO-ish choices)
-- and in a dense array (for uniform ones); removal is O(1) amortised.
local function pool()
  local order, alive, head, tail = {}, {}, 1, 0
  local dense, pos = {}, {}
  local p = {}
  function p.add(id)
    tail = tail + 1
    order[tail] = id
    alive[id] = true
    dense[#dense + 1] = id
    pos[id] = #dense
  end
  function p.remove(id)
    alive[id] = nil
    local i, last = pos[id], dense[#dense]
    dense[i], pos[last] = last, i
    dense[#dense], pos[id] = nil, nil
    while head <= tail and not alive[order[head]] do order[head] = nil; head = head + 1 end
    while tail >= head and not alive[order[tail]] do order[tail] = nil; tail = tail - 1 end
  end
  function p.count() return #dense end
  -- The k-th live block from the newest (dir -1) or the oldest (dir 1) end.
  function p.nth(k, dir)
    local i = dir > 0 and head or tail
    while true do
      if alive[order[i]] then
        if k == 0 then return order[i] end
        k = k - 1
      end
      local j = i + dir
      if j < head or j > tail then return order[i] end
      i = j
    end
  end
  function p.random(rand) return dense[rand(1, #dense)] end
  function p.all()
    local list = {}
    for i = head, tail do if alive[order[i]] then list[#list + 1] = order[i] end end
    return list
  end
  return p
end

-- Generates the ops; calls emit(kind, id, size) for each. Returns the counts.
function M.generate(o, emit)
  math.randomseed(o.seed)
  local rand = math.random
  local size = M.sizes(o.sizes, rand)
  local live = pool()
  local next_id, counts = 0, { alloc = 0, free = 0, realloc = 0 }
  local per_phase = math.max(1, o.ops // o.phases)
  -- A geometric count: how far from the chosen end a "-ish" lifetime reaches.
  local function geometric()
    local k = 0
    while rand() < 0.5 do k = k + 1 end
    return k
  end
  local function victim()
    if o.lifetime == "lifo" then return live.nth(geometric(), -1) end
    if o.lifetime == "fifo" then return live.nth(geometric(), 1) end
    return live.random(rand)
  end
  for i = 0, o.ops - 1 do
    local phase = math.min(i // per_phase, o.phases - 1)
    -- Odd phases (counting from 0) tear down what even ones built.
    local p = phase % 2 == 0 and o.alloc or 1 - o.alloc
    if live.count() == 0 or rand() < p then
      local id = next_id
      next_id = next_id + 1
      live.add(id)
      emit("alloc", id, size())
      counts.alloc = counts.alloc + 1
    elseif rand() < o.realloc then
      emit("realloc", victim(), size())
      counts.realloc = counts.realloc + 1
    else
      local id = victim()
      live.remove(id)
      emit("free", id, 0)
      counts.free = counts.free + 1
    end
  end
  if o.balance then
    for _, id in ipairs(live.all()) do
      emit("free", id, 0)
      counts.free = counts.free + 1
    end
  end
  return counts
end

local function run(args)
  local o = {
    ops = args.ops, alloc = args.alloc, realloc = args.realloc, sizes = args.sizes,
    lifetime = args.lifetime, phases = args.phases, seed = args.seed, balance = args.balance,
  }
  local function fail(msg)
    io.stderr:write("stackheap: gen: ", msg, "\n")
    return 2
  end
  if not o.ops or o.ops < 0 then return fail("-n must be a non-negative integer") end
  if not o.phases or o.phases < 1 then return fail("--phases must be a positive integer") end
  if not o.seed then return fail("--seed must be an integer") end
  if not o.alloc or o.alloc < 0 or o.alloc > 1 then return fail("--alloc must be in [0, 1]") end
  if not o.realloc or o.realloc < 0 or o.realloc > 1 then
    return fail("--realloc must be in [0, 1]")
  end
  local ok, err = pcall(M.sizes, o.sizes, math.random)
  if not ok then return fail(type(err) == "table" and err.usage or tostring(err)) end
  local w, werr = core.trace_writer(args.output, args.format)
  if not w then return fail(werr) end
  local failure
  M.generate(o, function(kind, id, size)
    if failure then return end
    local done, msg = w:write(kind, id, size)
    if not done then failure = msg end
  end)
  local closed, cerr = w:close()
  if failure or not closed then return fail(failure or cerr) end
  return 0
end

M.name = "gen"
M.summary = "Generate a synthetic allocation trace."
M.description = "Generate a synthetic allocation workload: N operations, each an alloc with "
  .. "probability --alloc (else a realloc with probability --realloc, else a free), sizes from "
  .. "a distribution, lifetimes LIFO-ish (frees mostly hit the newest blocks), FIFO-ish (the "
  .. "oldest) or random, in --phases that alternate building up (alloc probability p) and "
  .. "tearing down (1 - p). The same seed gives the same bytes."
M.configure = function(parser)
  parser:option("-n --ops", "Number of operations.", "1000"):convert(math.tointeger)
  parser:option("--alloc", "Probability that an operation allocates.", "0.6"):convert(tonumber)
  parser:option("--realloc", "Probability that a non-alloc is a realloc (else a free).", "0")
    :convert(tonumber)
  parser:option("--sizes", "uniform:MIN,MAX | exp:MEAN | lognormal:MU,SIGMA | "
    .. "classes:SIZE=WEIGHT,...", "uniform:1,256")
  parser:option("--lifetime", "Which live block a free or realloc picks.", "random")
    :choices({ "lifo", "fifo", "random" })
  parser:option("--phases", "Alternating build-up and tear-down phases.", "1")
    :convert(math.tointeger)
  parser:option("--seed", "Random seed.", "1"):convert(math.tointeger)
  parser:flag("--balance", "Free every block still live at the end (beyond the N operations).")
  parser:option("--format", "Output format.", "jsonl"):choices({ "jsonl", "mtrace", "rep", "bin" })
  parser:option("-o --output", "Output file ('-' is standard output).", "-")
end
M.run = run

return M
