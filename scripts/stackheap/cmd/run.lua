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

-- What the checkers of the script's machines recorded, and the leaks they
-- find now that it has ended, as a compiler's diagnostics; true when there
-- was anything. A script that never loaded stackheap, or closed its
-- machines, has nothing to report.
local function findings(script)
  local sh = package.loaded["stackheap"]
  if type(sh) ~= "table" or type(sh.checked) ~= "function" then return false end
  local fmt = require "stackheap.format"
  local checked = sh.checked()
  local n, explained = 0, {}
  for _, c in ipairs(checked) do
    local ok, errs = pcall(c.machine.errors, c.machine)   -- a closed machine has none
    for _, e in ipairs(ok and errs or {}) do
      -- Each kind is explained once, where it first appears.
      local why = e.kind .. (e.leak or "")
      n = n + 1
      io.stderr:write(fmt.diagnostic(e, { where = script, explain = not explained[why],
        label = #checked > 1 and "machine " .. c.number or nil }), "\n")
      explained[why] = true
    end
  end
  if n > 0 then
    io.stderr:write(("stackheap: the checker found %d error%s\n"):format(n, n == 1 and "" or "s"))
  end
  return n > 0
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
  local ok, msg = xpcall(chunk, handler, table.unpack(script_args))
  io.stdout:flush()
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
    .. "untouched, as ... and as arg[1..n] (arg[0] is the script).\n"
    .. "Exit status: 0 when the script returns (or its os.exit status), 1 when it "
    .. "raises an error or a machine's checker recorded misuse (each finding is "
    .. "printed), 2 when it cannot be read or does not compile.",
  passthrough = "script",
  configure = function(parser)
    parser:argument("script", "The scenario, a Lua file.")
    parser:argument("args", "Arguments for the script."):args("*")
    parser:flag("--traceback", "On an error, also print the Lua stack traceback.")
  end,
  run = run,
}
