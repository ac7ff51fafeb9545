-- stackheap.cli: the `stackheap` command line. argparse parses it; each
-- subcommand is a module stackheap.cmd.<name> that this file dispatches to.
--
-- A subcommand module returns
--   { name = "run", summary = "...", description = "..." (optional),
--     passthrough = "script" (optional, see below),
--     configure = function(parser) end,   -- declare arguments and options
--     normalize = function(argv) end (optional: rewrites the words after the
--       command's name before argparse sees them; returns argv, or nil, msg)
--     run = function(args) return status end }
-- and is listed in M.commands. main() returns the exit status (API.md §2:
-- 0 success, 1 a check or a script failed, 2 bad usage or bad input); it
-- never calls os.exit, so the host can close the Lua state cleanly.

local argparse = require "argparse"

local M = {}

-- Subcommands, in the order --help lists them.
M.commands = { "run", "layout", "cache", "csim", "ostep_malloc", "replay", "gen", "record",
  "grade" }

-- Used only when the stackheap module cannot be loaded; normally the
-- version comes from require("stackheap")._VERSION, its one true source.
--- cli.fail(msg [, command]) prints "stackheap: [command: ]msg" on stderr,
--- after whatever the command printed on stdout, and returns exit status 2.
function M.fail(msg, command)
  io.stdout:flush()
  io.stderr:write("stackheap: ", command and (command .. ": ") or "", msg, "\n")
  return 2
end

local FALLBACK_VERSION = "stackheap 0.1.0"

function M.version()
  local ok, sh = pcall(require, "stackheap")
  if ok and type(sh) == "table" and type(sh._VERSION) == "string" then
    return sh._VERSION
  end
  return FALLBACK_VERSION
end

-- Raised (as an error value) to end parsing early: argparse's own help,
-- version and error handlers print and call os.exit, which would skip the
-- host's cleanup and make main() untestable.
local Stop = {}

local function stop(fields)
  error(setmetatable(fields, Stop), 0)
end

local function load_commands()
  local list, by_name = {}, {}
  for _, name in ipairs(M.commands) do
    local cmd = require("stackheap.cmd." .. name)
    list[#list + 1] = cmd
    by_name[cmd.name] = cmd
  end
  return list, by_name
end

local function build_parser(commands)
  local parser = argparse("stackheap",
      "A memory model you can script: a stack of typed frames, a heap run by "
      .. "an allocator policy, a cache that prices every access.")
    :command_target("command")
    :epilog("Run 'stackheap <command> --help' for a command's options.")
    :help_max_width(79)
  parser:add_help { action = function() stop { status = 0, out = parser:get_help() } end }
  parser:flag("--version", "Print the version and exit.")
    :action(function() stop { status = 0, out = M.version() } end)

  for _, cmd in ipairs(commands) do
    local sub = parser:command(cmd.name, cmd.description or cmd.summary)
      :summary(cmd.summary)
      :help_max_width(79)
    sub:add_help { action = function() stop { status = 0, out = sub:get_help() } end }
    cmd.configure(sub)
  end

  -- Called by argparse with the (sub)parser where parsing failed, so the
  -- usage printed is the one for the command the user was typing.
  parser.error = function(where, msg)
    stop { status = 2, err = where:get_usage() .. "\n\nstackheap: " .. msg }
  end
  return parser
end

-- Parses argv; returns the result table, or nil and the Stop that ended it.
local function parse(parser, argv)
  local ok, result = pcall(parser.parse, parser, argv)
  if ok then return result end
  if getmetatable(result) == Stop then return nil, result end
  error(result, 0)
end

-- A command with `passthrough = NAME` takes everything after its positional
-- argument NAME untouched (`run SCRIPT -x` gives -x to the script), but
-- argparse has no "rest of the line" argument. So find the shortest prefix
-- of argv that parses and sets NAME, and end option parsing after it with
-- "--"; argparse still does all the parsing itself.
local function protect_passthrough(parser, by_name, argv)
  for k = 1, #argv - 1 do
    if argv[k] == "--" then return argv end
    local result, stopped = parse(parser, table.move(argv, 1, k, 1, {}))
    if stopped then
      -- An error may only mean the prefix is too short; help and version
      -- would end the full parse at the same place anyway.
      if stopped.status == 0 then return argv end
    elseif result.command then
      local cmd = by_name[result.command]
      if not cmd.passthrough then return argv end
      if result[cmd.passthrough] ~= nil then
        local out = table.move(argv, 1, k, 1, {})
        out[k + 1] = "--"
        table.move(argv, k + 1, #argv, k + 2, out)
        return out
      end
    end
  end
  return argv
end

-- A command with `normalize` rewrites the words after its name (the first
-- word that is not an option: the top level has only flags).
local function normalize(by_name, argv)
  for k, a in ipairs(argv) do
    if a:sub(1, 1) ~= "-" then
      local cmd = by_name[a]
      if not (cmd and cmd.normalize) then return argv end
      local rest, err = cmd.normalize(table.move(argv, k + 1, #argv, 1, {}))
      if not rest then return nil, err end
      return table.move(rest, 1, #rest, k + 1, table.move(argv, 1, k, 1, {}))
    end
  end
  return argv
end

local function finish(stopped)
  if stopped.out then io.stdout:write(stopped.out, "\n") end
  if stopped.err then
    io.stdout:flush()
    io.stderr:write(stopped.err, "\n")
  end
  return stopped.status
end

-- The entry point the host calls with the command-line arguments (strings,
-- program name excluded); returns the process exit status.
function M.main(...)
  local argv = { ... }
  local list, by_name = load_commands()
  local parser = build_parser(list)
  local err
  argv, err = normalize(by_name, argv)
  if not argv then return finish { status = 2, err = "stackheap: " .. err } end
  local result, stopped = parse(parser, protect_passthrough(parser, by_name, argv))
  if stopped then return finish(stopped) end
  return by_name[result.command].run(result)
end

return M
