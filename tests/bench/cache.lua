-- cache.lua: priced accesses per second from Lua batch calls (m:sweep, m:chase) on a machine
-- with one 32 KiB 8-way level, beside single m:load calls as the baseline.
-- Run by hand: `cmake --build build --target bench` or `build/stackheap run tests/bench/cache.lua [N]`.
local sh = require "stackheap"
local fmt = require "stackheap.format"

local N = tonumber(arg and arg[1]) or 16000000
local best = dofile((arg and arg[0] or ""):match("^(.-)[^/]*$") .. "best.lua")

local function machine()
  return sh.machine{ heap = { size = 64 << 20, max = 1 << 30 },
                     cache = { levels = { { name = "L1", size = 32768, ways = 8, line = 64 } } } }
end

local rows = {}
local function row(name, accesses, t)
  rows[#rows + 1] = { name, ("%.1f M/s"):format(accesses / t / 1e6), ("%.1f ns"):format(t / accesses * 1e9) }
end

-- sequential: N 8-byte loads, m:sweep over an 8 MiB array again and again
do
  local m = machine()
  local words = 1 << 20
  local a = m:alloc(8 * words)
  local calls = N // words
  row("m:sweep, sequential 8-byte loads", calls * words, best(function()
    for _ = 1, calls do m:sweep(a, words, 8, 8) end
  end))
  local n = N // 4
  row("m:load in a Lua loop, sequential (baseline)", n, best(function()
    for i = 0, n - 1 do m:load(a + 8 * (i % words), 8) end
  end))
end

-- random: a linked list of 1 Mi nodes of 16 bytes shuffled over 16 MiB;
-- m:chase loads the value and the next pointer of every node
do
  local m = machine()
  local nodes = 1 << 20
  local a = m:alloc(16 * nodes)
  local order, x = {}, 88172645
  for i = 1, nodes do order[i] = i - 1 end
  for i = nodes, 2, -1 do
    x = (x * 1103515245 + 12345) % 2147483648
    local j = x % i + 1
    order[i], order[j] = order[j], order[i]
  end
  for i = 1, nodes do
    m:store(a + 16 * order[i], i)
    m:store(a + 16 * order[i] + 8, i < nodes and a + 16 * order[i + 1] or 0)
  end
  local rounds = math.max(1, N // (2 * nodes))
  row("m:chase, random (value + next per node)", rounds * nodes * 2, best(function()
    for _ = 1, rounds do m:chase(a + 16 * order[1], 8, nodes, 0, 8) end
  end))
end

print(("stackheap cache benchmark, %s, one level 32 KiB 8-way 64-byte lines, best of 3 (os.clock)")
  :format(sh._VERSION))
print(fmt.table(rows, { headers = { "case", "accesses", "per access" } }))
