-- stackheap.grade.runner: runs in the sandbox's child process (a fresh Lua state): loads the
-- suite, runs each test with the submission under the limits, reports one JSON line per test.
local sh = require "stackheap"
local core = require "stackheap.core"
local json = require "stackheap.json"
local suites = require "stackheap.grade.suite"
local envs = require "stackheap.grade.env"

local M = {}

local OUTPUT_MAX = 16384      -- bytes of a test's print output kept

-- A value from the submission, described without running any of its code
-- (tostring could call its __tostring after the limits are disarmed).
-- Text for the reports: valid UTF-8 (JSON and XML readers insist), other bytes as '?'.
local function clean(s)
  if utf8.len(s) then return s end
  return (s:gsub("[\128-\255]", "?"))
end

local function describe(v)
  if type(v) == "string" then return clean(v) end
  if type(v) == "number" or type(v) == "boolean" or v == nil then return tostring(v) end
  return "a " .. type(v) .. " value"
end

local function read(path)
  local f, err = io.open(path, "rb")
  if not f then error(err, 0) end
  local s = f:read("a")
  f:close()
  return s
end

-- "PATH:LINE: what" from a replay becomes "trace NAME, line LINE: what".
local function where(t, msg)
  local path = t.trace
  if msg:sub(1, #path + 1) == path .. ":" then
    local line, rest = msg:sub(#path + 2):match("^(%d+): (.*)$")
    if line then return ("trace %s, line %s: %s"):format(t.name, line, rest) end
  end
  return msg
end

local function heap_options(t, policy)
  local heap = { policy = policy }
  for k, v in pairs(t.policy_params or {}) do heap[k] = v end
  return heap
end

local function summary(m, res)
  local s = m:stats()
  res.stats = s
  res.ops = s.ops
  res.cycles = s.cycles
  res.utilization = s.heap.utilization
  res.peak_heap_bytes = s.heap.peak_heap_bytes
  res.peak_live_bytes = s.heap.peak_live_bytes
end

-- Everything that touches the submission, run armed.  Returns the result
-- table the test's check sees.
local function attempt(suite, t, source, name, sandbox, output)
  local res = { name = t.name, ok = false, errors = 0, messages = {} }
  local env = envs.new{ print = function(...)
    local parts = table.pack(...)
    for i = 1, parts.n do parts[i] = describe(parts[i]) end
    output[#output + 1] = table.concat(parts, "\t", 1, parts.n)
  end }
  local lim = t.limits
  sandbox.cpu(lim.cpu)
  local ok, err, tripped = sandbox.run(lim.instructions, lim.memory, function()
    local chunk, lerr = load(source, "@" .. name, "t", env)
    if not chunk then error("the submission does not compile: " .. lerr, 0) end
    local sub = chunk()
    -- sh.policy's values say "policy" to getmetatable; nothing of theirs runs
    local policy = type(sub) == "table" and getmetatable(sub) == "policy" and sub or nil
    if t.trace then
      if not policy then
        error("the submission must return sh.policy{...}, got " .. describe(sub), 0)
      end
      local m = sh.machine{ heap = heap_options(t, policy), seed = suite.seed }
      local trace, terr = core.trace_open(t.trace)
      if not trace then error(terr, 0) end
      local r, rerr = core.replay(trace, { m }, { check = true, stop = true })
      trace:close()
      if not r then error(rerr, 0) end
      res.errors = r[1].errors
      res.messages = r[1].messages
      summary(m, res)
      res.ok = res.errors == 0
      if not res.ok then res.error = where(t, describe(r[1].messages[1])) end
    else
      -- a scenario submission (not a policy) gets the test's own heap
      local m = sh.machine{ heap = heap_options(t, policy), seed = suite.seed }
      res.value = t.run(m, sub)
      summary(m, res)
      res.ok = true
    end
  end)
  if not ok then res.ok, res.error = false, describe(err) end
  if tripped then
    local what = tripped == "memory"
      and ("exceeded the memory limit of %d bytes"):format(lim.memory)
      or ("exceeded the limit of %d instructions"):format(lim.instructions)
    res.ok, res.limit = false, tripped
    -- the limit's own error usually reached the message already
    if not (res.error or ""):find(what, 1, true) then
      res.error = what .. (res.error and (": " .. res.error) or "")
    end
  end
  return res
end

local function run_test(suite, t, source, name, sandbox)
  local output = {}
  local res = attempt(suite, t, source, name, sandbox, output)
  collectgarbage()
  local passed, msg = res.ok, res.error
  if t.check then
    local ok, p, m = pcall(t.check, res)
    if not ok then passed, msg = false, "the suite's check raised: " .. describe(p)
    else passed, msg = p and res.ok or false, m or msg end
  end
  local out = table.concat(output, "\n")
  if #out > OUTPUT_MAX then out = out:sub(1, OUTPUT_MAX) .. "\n[output cut at 16384 bytes]" end
  return {
    passed = passed and true or false,
    message = msg ~= nil and describe(msg) or nil,
    output = out,
    limit = res.limit,
    data = { utilization = res.utilization, ops = res.ops, cycles = res.cycles,
             cycles_per_op = res.ops and res.ops > 0 and res.cycles / res.ops or nil,
             peak_heap_bytes = res.peak_heap_bytes, peak_live_bytes = res.peak_live_bytes,
             errors = res.errors, score = type(res.score) == "number" and res.score or nil },
  }
end

--- main(arg, sandbox): arg is JSON {suite, submission, name, tests = {i...}}.
function M.main(arg, sandbox)
  local a = json.decode(arg)
  local suite = suites.load(a.suite)
  local ok, source = pcall(read, a.submission)
  for _, i in ipairs(a.tests) do
    local t = suite.tests[i]
    sandbox.emit(json.encode{ start = i })
    local r
    if ok then
      r = run_test(suite, t, source, a.name, sandbox)
    else
      r = { passed = false, message = "cannot read the submission: " .. tostring(source), output = "" }
    end
    sandbox.emit(json.encode{ done = i, result = r })
  end
end

return M
