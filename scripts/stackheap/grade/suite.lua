-- stackheap.grade.suite: loads a grading suite (API.md section 6) and checks its shape, so a
-- mistake in it is reported with the suite's name and the test's, before any submission runs.
local M = {}

local VISIBILITY = { visible = true, hidden = true, after_due_date = true }

-- Limits per test; a suite's `limits` table and a test's override them.
M.DEFAULT_LIMITS = {
  instructions = 200000000,   -- Lua instructions (the count hook)
  memory = 256 << 20,         -- bytes the Lua state may grow by (its allocator)
  cpu = 20,                   -- seconds of CPU time (RLIMIT_CPU)
  wall = 60,                  -- seconds of wall-clock time (then SIGKILL)
  as = 2 << 30,               -- address space of the child process (RLIMIT_AS)
}

local function bad(path, msg) error(("%s: %s"):format(path, msg), 0) end

local function limits(path, where, t, base)
  local out = {}
  for k, v in pairs(base) do out[k] = v end
  if t == nil then return out end
  if type(t) ~= "table" then bad(path, where .. "limits must be a table") end
  for k, v in pairs(t) do
    if base[k] == nil then bad(path, ("%slimits.%s is not a limit (instructions, memory, cpu, wall, as)"):format(where, tostring(k))) end
    if math.type(v) ~= "integer" or v <= 0 then bad(path, ("%slimits.%s must be a positive integer"):format(where, k)) end
    out[k] = v
  end
  return out
end

--- M.load(path) -> suite with tests normalised: weight, visibility, trace
--- (made absolute against the suite's directory), limits.
function M.load(path)
  local chunk, err = loadfile(path, "t")
  if not chunk then error(err, 0) end
  local ok, suite = pcall(chunk)
  if not ok then error(("%s: %s"):format(path, tostring(suite)), 0) end
  if type(suite) ~= "table" then bad(path, "a suite must return a table, got " .. type(suite)) end
  if type(suite.name) ~= "string" then bad(path, "the suite needs a name (a string)") end
  if type(suite.tests) ~= "table" or #suite.tests == 0 then bad(path, "the suite needs a list of tests") end
  if suite.score ~= nil and type(suite.score) ~= "function" then bad(path, "score must be a function") end
  local dir = path:match("^(.*)/[^/]*$") or "."
  suite.limits = limits(path, "", suite.limits, M.DEFAULT_LIMITS)
  suite.seed = suite.seed or 1
  local seen = {}
  for i, t in ipairs(suite.tests) do
    local where = ("test %d: "):format(i)
    if type(t) ~= "table" then bad(path, where .. "must be a table") end
    if type(t.name) ~= "string" then bad(path, where .. "needs a name (a string)") end
    where = ("test '%s': "):format(t.name)
    if seen[t.name] then bad(path, where .. "the name is used twice") end
    seen[t.name] = true
    t.weight = t.weight or 1
    if type(t.weight) ~= "number" or t.weight < 0 then bad(path, where .. "weight must be a number >= 0") end
    t.visibility = t.visibility or "visible"
    if not VISIBILITY[t.visibility] then
      bad(path, where .. "visibility must be visible, hidden or after_due_date")
    end
    if (t.trace == nil) == (t.run == nil) then bad(path, where .. "needs exactly one of trace and run") end
    if t.trace ~= nil then
      if type(t.trace) ~= "string" then bad(path, where .. "trace must be a file name") end
      if t.trace:sub(1, 1) ~= "/" then t.trace = dir .. "/" .. t.trace end
    elseif type(t.run) ~= "function" then
      bad(path, where .. "run must be a function")
    end
    if t.check ~= nil and type(t.check) ~= "function" then bad(path, where .. "check must be a function") end
    if t.policy_params ~= nil and type(t.policy_params) ~= "table" then
      bad(path, where .. "policy_params must be a table")
    end
    t.limits = limits(path, where, t.limits, suite.limits)
  end
  return suite
end

return M
