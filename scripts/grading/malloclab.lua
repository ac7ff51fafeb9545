-- malloclab.lua: the malloc lab's grading, deterministic -- twelve traces, utilization averaged
-- over them, performance scored on modelled cycles per operation instead of wall-clock throughput.
--
-- Use: stackheap grade scripts/grading/malloclab.lua mm.lua [--format gradescope]
-- A submission returns sh.policy{...} (API.md section 3.1); payloads must be
-- 8-byte aligned (heap = {align = 8}, as in the 32-bit lab).
--
-- Every trace is replayed with the full correctness checks: each answer
-- inside the heap, aligned, overlapping no live payload (a block enclosing
-- another included), payload bytes (derived from the seed and the block's id)
-- intact until the block is freed, and realloc preserving the old contents.
-- A trace that fails a check, or trips a limit, scores nothing.
--
-- The score, out of 100, is malloc-lab's: 60 * U + 40 * P over all traces,
-- U the average peak utilization (peak live requested bytes / peak heap),
-- P the average of min(1, TARGET_CYCLES / cycles per operation), where the
-- cycles are the engine's model (instructions + cache-priced accesses), so
-- the same submission scores the same on any machine under any load.

local TARGET_CYCLES = 400        -- cycles per operation that earn the whole performance part
local W_UTIL = 0.6

local TRACES = { "small-lifo", "small-random", "exp-random", "lognormal-fifo", "binary", "binary2",
                 "coalescing", "phases", "large", "realloc", "realloc2", "classes" }

-- The traces sit in the source tree (tests/traces/malloclab) or beside an
-- installed copy of this file (share/stackheap/traces/malloclab).
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
-- A relative trace name is read against this file's directory.
local function find_traces()
  local env = os.getenv("STACKHEAP_TRACES")
  if env and env ~= "" then return env end
  for _, dir in ipairs{ "../../tests/traces/malloclab", "../traces/malloclab" } do
    local f = io.open(here .. "/" .. dir .. "/" .. TRACES[1] .. ".rep", "r")
    if f then f:close() return dir end
  end
  error("malloclab: cannot find the traces (set STACKHEAP_TRACES to their directory)")
end
local dir = find_traces()

local tests = {}
for i, name in ipairs(TRACES) do
  tests[i] = {
    name = name,
    trace = dir .. "/" .. name .. ".rep",
    policy_params = { align = 8 },
    weight = 1,
    visibility = "visible",
    check = function(r) return r.ok, r.error end,
  }
end

local function perf(cycles_per_op)
  if not cycles_per_op or cycles_per_op <= 0 then return 1 end
  return math.min(1, TARGET_CYCLES / cycles_per_op)
end

local function score(results)
  local n, u, p = #results, 0, 0
  local per = {}
  for i, r in ipairs(results) do
    local ui, pi = 0, 0
    if r.passed then
      ui = r.data.utilization or 0
      pi = perf(r.data.cycles_per_op)
    end
    u, p = u + ui, p + pi
    per[i] = 100 * (W_UTIL * ui + (1 - W_UTIL) * pi) / n
  end
  u, p = u / n, p / n
  local total = 100 * (W_UTIL * u + (1 - W_UTIL) * p)
  local rounded = function(x) return math.floor(x * 100 + 0.5) / 100 end
  for i = 1, n do per[i] = rounded(per[i]) end
  return {
    score = rounded(total),
    max_score = 100,
    tests_score = per,
    output = ("utilization %.1f%% (weight %d%%), performance %.1f%% of %d cycles/op (weight %d%%)")
      :format(100 * u, 100 * W_UTIL, 100 * p, TARGET_CYCLES, 100 - 100 * W_UTIL),
  }
end

-- Each trace's row is worth its share of 100.
for _, t in ipairs(tests) do t.weight = 100 / #TRACES end

return {
  name = "malloc lab",
  seed = 20261125,
  limits = { instructions = 400000000, memory = 256 << 20, cpu = 30, wall = 60 },
  tests = tests,
  score = score,
}
