-- stackheap.cmd.run: `stackheap run SCRIPT.lua [args...]` runs a scenario
-- the way lua5.4 runs a script, with stackheap's exit statuses (API.md §2).

-- lua.c's rule for turning an error value into text, so a scenario's errors
-- read the same here as under lua5.4.
local function message(err)
  if type(err) == "string" or type(err) == "number" then return tostring(err) end
  local mt = getmetatable(err)
  if type(mt) == "table" and mt.__tostring then
    local ok, text = pcall(tostring, err)
    if ok and type(text) == "string" then return text end
  end
  return ("(error object is a %s value)"):format(type(err))
end

local function fail(text)
  -- stdout first, so the error comes after whatever the script printed.
  io.stdout:flush()
  io.stderr:write("stackheap: ", text, "\n")
end

-- What the checkers of the script's machines recorded, as diagnostics;
-- true when there was anything. A script that never loaded stackheap, or
-- closed its machines, has nothing to report.
local function findings(script)
  local sh = package.loaded["stackheap"]
  if type(sh) ~= "table" or type(sh.checked) ~= "function" then return false end
  local any = false
  for _, c in ipairs(sh.checked()) do
    local ok, errs = pcall(c.machine.errors, c.machine)   -- a closed machine has none
    for _, e in ipairs(ok and errs or {}) do
      any = true
      io.stderr:write(("%s: machine %d: %s: %s\n"):format(script, c.number, e.kind, e.message))
    end
  end
  return any
end

-- `run SCRIPT --html FILE` reads naturally, but everything after the script
-- is the script's: so the report's own options are taken from the front of
-- the script's arguments too, up to the first that is not one of them (a
-- "--" there ends them and is dropped).
local REPORT_OPTS = { ["--html"] = "html", ["--svg"] = "svg", ["--step"] = "step",
                      ["--steps"] = "steps" }

local function peel(opts)
  local args = opts.args or {}
  local i = 1
  while args[i] do
    local a = args[i]
    local name, value = a:match("^(%-%-%a+)=(.*)$")
    name = name or a
    local key = REPORT_OPTS[name]
    if a == "--" then i = i + 1; break end
    if not key then break end
    if value == nil then
      value = args[i + 1]
      if value == nil then return nil, ("option '%s' requires an argument"):format(name) end
      i = i + 1
    end
    opts[key] = value
    i = i + 1
  end
  opts.args = table.move(args, i, #args, 1, {})
  return true
end

local function count(v, name)
  local n = math.tointeger(tonumber(v))
  if not n or n < 1 then return nil, ("%s must be a positive integer, got '%s'"):format(name, tostring(v)) end
  return n
end

-- The recorder feeding the report's writer, when a report was asked for.
local function start_report(opts)
  if not (opts.html or opts.svg) then
    if opts.step then return nil, "--step needs --svg" end
    return true
  end
  local limit, step, err = 100000, nil, nil
  if opts.steps then
    limit, err = count(opts.steps, "--steps")
    if not limit then return nil, err end
  end
  if opts.step then
    step, err = count(opts.step, "--step")
    if not step then return nil, err end
  end
  local f = io.open(opts.script, "rb")
  local text = f and f:read("a") or nil
  if f then f:close() end
  local report = require "stackheap.report"
  local w = report.new{ title = opts.script:match("[^/]*$"), source = { name = opts.script, text = text } }
  local rec = require("stackheap.steps").recorder{ writer = w, script = opts.script, limit = limit }
  return { w = w, rec = rec, step = step }
end

-- Written whether or not the script succeeded: a failing run is the one
-- most worth looking at.
local function finish_report(opts, r)
  r.rec:stop()
  local ok, err = true, nil
  if opts.html then
    ok, err = r.w:html(opts.html)
    if not ok then return nil, ("cannot write the report: %s"):format(err) end
  end
  if opts.svg then
    local step = r.step or r.w.n
    if r.w.n == 0 then return nil, "--svg: the script performed no operation to draw" end
    if step > r.w.n then
      return nil, ("--step %d: the run recorded %d steps"):format(step, r.w.n)
    end
    ok, err = require("stackheap.svg").write_step(r.w, step, opts.svg)
    if not ok then return nil, ("cannot write the picture: %s"):format(err) end
  end
  return true
end

local function run(opts)
  -- loadfile, like lua5.4, skips a first line starting with '#', so
  -- scripts with a #! line (busted's, for one) run unchanged. Its message
  -- already names the file (and the line, for a syntax error).
  local chunk, err = loadfile(opts.script)
  if not chunk then
    fail(err)
    return 2
  end

  local okp, perr = peel(opts)
  if not okp then fail(perr); return 2 end
  local rep
  rep, perr = start_report(opts)
  if not rep then fail(perr); return 2 end
  if rep == true then rep = nil end

  local script_args = opts.args or {}
  -- Negative indices hold what came before the script, as lua5.4 does.
  local arg = { [-2] = "stackheap", [-1] = "run", [0] = opts.script }
  table.move(script_args, 1, #script_args, 1, arg)
  _G.arg = arg

  -- Line buffering keeps a scenario's stdout and stderr in the order it
  -- wrote them when both go to one pipe or file.
  io.stdout:setvbuf("line")

  local handler = message
  if opts.traceback then
    handler = function(e)
      -- Cut the frames below the script (this file, the CLI, the host):
      -- they are the same for every scenario and say nothing about it.
      local tb = debug.traceback(message(e), 2)
      local cut = 0
      for at in tb:gmatch("()\n\t%[C%]: in function 'xpcall'") do cut = at end
      return cut > 0 and tb:sub(1, cut - 1) or tb
    end
  end
  -- A script that calls os.exit(n) ends the process right there, with n.
  if rep then rep.rec:start() end
  local ok, msg = xpcall(chunk, handler, table.unpack(script_args))
  io.stdout:flush()
  if rep then
    local wrote, werr = finish_report(opts, rep)
    if not wrote then
      fail(werr)
      findings(opts.script)
      return 2
    end
  end
  if not ok then
    fail(msg)
    findings(opts.script)
    return 1
  end
  return findings(opts.script) and 1 or 0
end

return {
  name = "run",
  summary = "Run a scenario script.",
  description = "Run a scenario script. Arguments after the script are passed to it "
    .. "untouched, as ... and as arg[1..n] (arg[0] is the script), except that "
    .. "--html, --svg, --step and --steps right after the script are run's own "
    .. "(a -- there ends them).\n"
    .. "Exit status: 0 when the script returns (or its os.exit status), 1 when it "
    .. "raises an error or a machine's checker recorded misuse (each finding is "
    .. "printed), 2 when it cannot be read or does not compile.",
  passthrough = "script",
  configure = function(parser)
    parser:argument("script", "The scenario, a Lua file.")
    parser:argument("args", "Arguments for the script."):args("*")
    parser:flag("--traceback", "On an error, also print the Lua stack traceback.")
    parser:option("--html", "Write a step-through report of every operation to FILE "
      .. "(one self-contained HTML page).", nil):argname("FILE")
    parser:option("--svg", "Write the stack and heap at one step as a standalone SVG "
      .. "picture.", nil):argname("FILE")
    parser:option("--step", "The step --svg draws (default: the last).", nil):argname("N")
    parser:option("--steps", "Record at most N steps for --html/--svg (default 100000); "
      .. "later operations run unrecorded.", nil):argname("N")
  end,
  run = run,
}
