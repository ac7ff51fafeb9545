-- stackheap.grade.env: the environment a submission runs in -- an allow-list, copies of the
-- safe libraries, no io/os/debug/package, no bytecode, no __gc, `require` of stackheap only.
local sh = require "stackheap"

local M = {}

local SAFE = { "assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget",
               "rawlen", "rawset", "select", "tonumber", "tostring", "type", "xpcall" }
local LIBS = { "string", "table", "math", "utf8", "coroutine" }
local NOT_IN_LIBS = { string = { dump = true } }   -- bytecode out is no use without bytecode in

-- A read-only view of a module: a submission cannot replace what the
-- grader itself calls (sh.machine, sh.policy).
local function readonly(t, name)
  return setmetatable({}, {
    __index = t,
    __newindex = function(_, k) error(("%s is read-only (assigning %s)"):format(name, tostring(k)), 2) end,
    __metatable = name,
  })
end

local ALLOWED = { stackheap = function() return readonly(sh, "stackheap") end }

--- M.new{print = fn} -> a fresh environment table for one run of a submission.
function M.new(opts)
  local env = {}
  for _, k in ipairs(SAFE) do env[k] = _G[k] end
  for _, lib in ipairs(LIBS) do
    local copy = {}
    for k, v in pairs(_G[lib]) do
      if not (NOT_IN_LIBS[lib] or {})[k] then copy[k] = v end
    end
    env[lib] = copy
  end
  env._VERSION = _VERSION
  env.print = opts and opts.print or function() end

  -- No finalizers: a __gc runs whenever the collector likes, possibly after
  -- the limits are disarmed.  The key's presence is refused, not just a
  -- function value, since Lua marks an object for finalization by it.
  env.setmetatable = function(t, mt)
    if type(t) ~= "table" then error("setmetatable: only tables", 2) end
    if mt ~= nil and type(mt) ~= "table" then error("setmetatable: the metatable must be a table or nil", 2) end
    if mt and rawget(mt, "__gc") ~= nil then
      error("setmetatable: __gc is not allowed in a submission", 2)
    end
    return setmetatable(t, mt)
  end
  -- Only tables' metatables: the string metatable is shared with the grader.
  env.getmetatable = function(v)
    if type(v) ~= "table" then return nil end
    return getmetatable(v)
  end
  env.require = function(name)
    local make = ALLOWED[name]
    if not make then error(("require: '%s' is not on the allow-list (stackheap)"):format(tostring(name)), 2) end
    return make()
  end
  -- Text only, into this environment unless another table is given.
  env.load = function(chunk, name, mode, e)
    if type(chunk) ~= "string" then return nil, "load: only strings of source text" end
    if mode ~= nil and mode ~= "t" then return nil, "load: only text chunks (mode \"t\")" end
    return load(chunk, name, "t", type(e) == "table" and e or env)
  end
  env.collectgarbage = function(what, ...)
    what = what or "collect"
    if what ~= "collect" and what ~= "count" and what ~= "step" then
      error(("collectgarbage: '%s' is not allowed"):format(tostring(what)), 2)
    end
    return collectgarbage(what, ...)
  end
  env._G = env
  return env
end

return M
