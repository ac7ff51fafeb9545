-- stackheap.cmd.grade: `stackheap grade SUITE.lua SUBMISSION.lua|DIR/` grades allocators
-- written in Lua against a suite, each submission sandboxed in its own process (API.md section 6).
local grade = require "stackheap.grade"
local formats = require "stackheap.grade.formats"

local M = {}

local function fail(msg) return require("stackheap.cli").fail(msg) end

local function is_dir(path)
  local f = io.open(path .. "/.", "r")
  if f then f:close() return true end
  return false
end

-- The submissions in a directory: its *.lua files, sorted by name.
local function listing(dir)
  local p = io.popen(("ls -1 -- '%s'"):format(dir:gsub("'", "'\\''")))
  local list = {}
  for name in p:lines() do
    if name:match("%.lua$") then list[#list + 1] = { name = name:gsub("%.lua$", ""), path = dir .. "/" .. name } end
  end
  p:close()
  table.sort(list, function(a, b) return a.name < b.name end)
  return list
end

local function write(path, text)
  local f, err = io.open(path, "wb")
  if not f then return nil, err end
  f:write(text)
  f:close()
  return true
end

local function run(args)
  local f = io.open(args.suite, "r")
  if not f then return fail(("cannot open the suite %s"):format(args.suite)) end
  f:close()
  local many = is_dir(args.submission)
  local subs
  if many then
    subs = listing(args.submission:gsub("/$", ""))
    if #subs == 0 then return fail(("%s: no *.lua submissions"):format(args.submission)) end
  else
    local fh = io.open(args.submission, "r")
    if not fh then return fail(("cannot open the submission %s"):format(args.submission)) end
    fh:close()
    subs = { { name = (args.submission:match("([^/]+)$") or args.submission):gsub("%.lua$", ""),
               path = args.submission } }
  end
  if not args.jobs or args.jobs < 0 then return fail("--jobs must be 0 (every core) or more") end
  local jobs = args.jobs == 0 and require("stackheap.core").sandbox.cpus() or args.jobs
  local ok, suite = pcall(grade.run, { suite = args.suite, submissions = subs, jobs = jobs })
  if not ok then return fail(tostring(suite)) end
  local reports, all_passed = {}, true
  for i, s in ipairs(subs) do
    local rok, rep = pcall(grade.score, suite, s)
    if not rok then return fail(tostring(rep)) end
    reports[i] = rep
    for _, t in ipairs(rep.tests) do if t.passed == false then all_passed = false end end
  end
  local render = formats[args.format]
  if many then
    local dir = args.out or "grades"
    os.execute(("mkdir -p -- '%s'"):format(dir:gsub("'", "'\\''")))
    for _, r in ipairs(reports) do
      local okw, err = write(("%s/%s.%s"):format(dir, r.name, formats.EXT[args.format]), render(r))
      if not okw then return fail(err) end
    end
    local okw, err = write(dir .. "/summary.csv", formats.csv(reports))
    if not okw then return fail(err) end
    io.stdout:write(formats.csv(reports))
  elseif args.out then
    local okw, err = write(args.out, render(reports[1]))
    if not okw then return fail(err) end
  else
    io.stdout:write(render(reports[1]))
  end
  io.stdout:flush()
  return all_passed and 0 or 1
end

M.name = "grade"
M.summary = "Grade allocators written in Lua against a suite, sandboxed."
M.description = "Grade a submission (a Lua file returning sh.policy{...}), or every *.lua in a "
  .. "directory, against a suite (API.md section 6). Each submission runs in its own process "
  .. "with limits on instructions, memory, CPU and wall-clock time; every limit that trips is "
  .. "a failed test with the reason, and grading goes on. Results are deterministic: no score "
  .. "depends on time.\n"
  .. "For a directory, --out names a directory (default: grades) that receives one result file "
  .. "per submission and summary.csv.\n"
  .. "Exit status: 0 when every test passed, 1 when one failed, 2 on bad usage or a bad suite."
M.configure = function(parser)
  parser:argument("suite", "The suite (a Lua file).")
  parser:argument("submission", "A submission (a Lua file), or a directory of them.")
  parser:option("--format", "Output format.", "text")
    :choices({ "text", "json", "tap", "junit", "gradescope" })
  parser:option("--out", "Write the result to FILE (a directory for many submissions).")
  parser:option("--jobs", "Submissions graded at once, one process each (0: one per core).", "0")
    :convert(math.tointeger)
end
M.run = run

return M
