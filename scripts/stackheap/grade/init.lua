-- stackheap.grade: grades submissions against a suite.  Each submission runs in a child
-- process (core.sandbox) with rlimits and a wall clock; --jobs children run at once.
local core = require "stackheap.core"
local json = require "stackheap.json"
local suites = require "stackheap.grade.suite"

local M = {}

local box = core.sandbox

-- What a child that ended in the middle of test t died of.
local function death(kind, what, limits, killed)
  if killed then return ("exceeded the wall-clock limit of %d s"):format(limits.wall) end
  if kind == "signal" and what == "SIGXCPU" then
    return ("exceeded the CPU time limit of %d s"):format(limits.cpu)
  end
  if kind == "signal" and what == "SIGKILL" then
    return ("was killed (SIGKILL): past the CPU time limit of %d s or out of memory"):format(limits.cpu)
  end
  if kind == "signal" then return ("crashed (%s)"):format(what) end
  return ("the grading process ended (exit status %d) without a result"):format(what)
end

local function failure(msg)
  return { passed = false, message = msg, output = "" }
end

-- One child's worth of work: the submission's tests from `from` on.
local function spawn(suite_path, sub, pending, limits)
  local arg = json.encode{ suite = suite_path, submission = sub.path, name = sub.name,
                           tests = json.array(pending) }
  local child = box.spawn{ module = "stackheap.grade.runner", arg = arg,
                           cpu = limits.cpu + 5, as = limits.as }
  return { child = child, sub = sub, pending = pending, buf = "", deadline = box.now() + limits.wall }
end

-- Handles the lines a child wrote; returns the index of a test it began
-- and has not finished, if any.
local function take_lines(job, suite)
  while true do
    local line, rest = job.buf:match("^([^\n]*)\n(.*)$")
    if not line then break end
    job.buf = rest
    local fatal = line:match("^fatal (.*)$")
    if fatal then
      job.fatal = fatal
    else
      local ok, msg = pcall(json.decode, line)
      if ok and type(msg) == "table" and msg.start then
        job.current = msg.start
        job.deadline = box.now() + suite.tests[msg.start].limits.wall
      elseif ok and type(msg) == "table" and msg.done then
        job.sub.results[msg.done] = msg.result
        job.current = nil
        for k, i in ipairs(job.pending) do
          if i == msg.done then table.remove(job.pending, k) break end
        end
      end
    end
  end
end

-- The child ended: the test it was in fails with the reason, and the rest
-- go to a new child (unless the runner itself could not start).
local function finished(job, suite, queue)
  local kind, what = job.child:wait()
  if #job.pending == 0 then return end
  local t = job.current or job.pending[1]
  local clean = kind == "exit" and what == 0
  if job.fatal and not job.current then
    for _, i in ipairs(job.pending) do job.sub.results[i] = failure("the grader could not run this test: " .. job.fatal) end
    return
  end
  local why = clean and "the grading process ended without a result"
    or death(kind, what, suite.tests[t].limits, job.killed)
  job.sub.results[t] = failure(("%s in test '%s'"):format(why, suite.tests[t].name))
  local rest = {}
  for _, i in ipairs(job.pending) do if i ~= t then rest[#rest + 1] = i end end
  if #rest > 0 then table.insert(queue, 1, { sub = job.sub, pending = rest }) end
end

--- M.run{suite = path, submissions = {{name, path}...}, jobs = n, progress = fn(name)}
--- -> suite, {{name, path, results = {per test}}...} in the given order.
function M.run(opts)
  local suite = suites.load(opts.suite)
  local all = {}
  for i = 1, #suite.tests do all[i] = i end
  local queue, active = {}, {}
  for _, s in ipairs(opts.submissions) do
    s.results = {}
    queue[#queue + 1] = { sub = s, pending = table.move(all, 1, #all, 1, {}) }
  end
  local jobs = math.max(1, opts.jobs or 1)
  while #queue > 0 or #active > 0 do
    while #active < jobs and #queue > 0 do
      local q = table.remove(queue, 1)
      active[#active + 1] = spawn(opts.suite, q.sub, q.pending, suite.limits)
    end
    local children = {}
    for i, job in ipairs(active) do children[i] = job.child end
    box.poll(children, 200)
    local now = box.now()
    for i = #active, 1, -1 do
      local job = active[i]
      local data = job.child:read()
      if data then
        job.buf = job.buf .. data
        take_lines(job, suite)
        if now > job.deadline and not job.killed then
          job.killed = true
          job.child:kill()
        end
      else
        take_lines(job, suite)
        finished(job, suite, queue)
        table.remove(active, i)
        if opts.progress and #job.pending == 0 then opts.progress(job.sub.name) end
      end
    end
  end
  return suite, opts.submissions
end

--- M.score(suite, sub) -> the submission's report: {name, score, max_score,
--- output, tests = {{name, score, max_score, passed, output, visibility, data}...}}
function M.score(suite, sub)
  local rows, total, max = {}, 0, 0
  for i, t in ipairs(suite.tests) do
    local r = sub.results[i] or failure("no result")
    local out = r.message or ""
    if r.output and r.output ~= "" then out = out .. (out ~= "" and "\n" or "") .. r.output end
    rows[i] = { name = t.name, weight = t.weight, passed = r.passed, message = r.message,
                output = out, visibility = t.visibility, data = r.data or {},
                max_score = t.weight, score = r.passed and t.weight or 0 }
    total, max = total + rows[i].score, max + t.weight
  end
  local report = { name = sub.name, suite = suite.name, tests = rows, score = total, max_score = max,
                   output = "" }
  if suite.score then
    local ok, s = pcall(suite.score, rows)
    if not ok then error(("%s: the suite's score function raised: %s"):format(suite.name, tostring(s)), 0) end
    if type(s) == "number" then
      report.score = s
    elseif type(s) == "table" then
      report.score = s.score or report.score
      report.max_score = s.max_score or report.max_score
      report.output = s.output or ""
      for _, extra in ipairs(s.tests or {}) do rows[#rows + 1] = extra end
      if s.tests_score ~= nil then
        for i, v in ipairs(s.tests_score) do rows[i].score = v end
      end
    end
  end
  return report
end

return M
