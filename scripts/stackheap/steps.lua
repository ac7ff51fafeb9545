-- stackheap.steps: records every operation a scenario performs, as the steps a
-- report draws.  Recording wraps the machine's and frames' methods while it
-- runs and puts them back after, so a run without a report pays nothing.
local core = require "stackheap.core"
local sh = require "stackheap"

local M = {}

local machine_methods = core.machine_methods
local frame_mt = debug.getregistry()["stackheap.frame"]
local frame_methods = core.frame_methods

-- Which method is which kind of step, and how its arguments and result are
-- kept (the writer turns them into text).
local HEAP = { alloc = true, free = true, realloc = true, reset = true }
local WRITES = { store = true, write = true }
local MAX_BYTES = 64           -- bytes of one write kept for the picture

local Recorder = {}
Recorder.__index = Recorder

--- steps.recorder{writer = w, script = "path", limit = 100000} -> a recorder
--- that feeds `w` (a stackheap.report writer) one step per operation of the
--- machines made while it runs.  limit caps the steps kept; the rest are
--- counted.
function M.recorder(opts)
  local self = setmetatable({
    w = opts.writer, limit = opts.limit or 100000, source = opts.script and "@" .. opts.script,
    machines = {},             -- machine -> its record {n, differ, tally, slots}
    order = {},                -- records in the order machines were made
    saved = {}, recorded = 0, total = 0, active = false, count = 0,
    heap_of = setmetatable({}, { __mode = "k" }),   -- machine -> its heap options
  }, Recorder)
  return self
end

-- The scenario line that caused an operation: the innermost call in the
-- script itself (helpers in other files are skipped), else the caller.
function Recorder:line()
  local src = self.source
  for level = 3, 40 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.source == src then return info.currentline end
  end
  return 0
end

local function tally(m)
  return table.pack(m:_tally())
end

-- Machines are numbered as the script makes them (the checker's numbering
-- in `stackheap run`); one made before recording began, when first used.
function Recorder:machine(m)
  local r = self.machines[m]
  if r then return r end
  self.count = self.count + 1
  r = { n = self.count, m = m, differ = m:_differ(), tally = tally(m),
        slots = {}, depth = m:depth(), lists = true, fresh = true, fresh_lines = true }
  self.machines[m] = r
  self.order[#self.order + 1] = r
  local s = m:stats()
  local heap = self.heap_of[m] or {}
  local cached = next(s.cache) ~= nil
  self.w:machine(r.n, { word = m:word(), policy = heap.policy or "first_fit", order = heap.order,
                        cache = cached, line = cached and (heap.line or 64) or nil })
  return r
end

local function bytes_hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

-- The frame on top as the writer wants it, and its slots' sizes for later writes.
local function top_frame(m, r)
  for f in m:frames() do
    local sp, fp, top = f:bounds()
    local d = f:decl() or {}
    local slots = {}
    for i, s in ipairs(f:slots()) do
      local ty = d[i] and d[i].type or {}
      local kind = ty.kind
      if kind == "int" then kind = ty.signed and "i" or "u"
      elseif kind == "float" then kind = "f" elseif kind == "bool" then kind = "b"
      elseif kind == "char" then kind = "c" elseif kind == "ptr" then kind = "p"
      else kind = "a" end
      -- no bytes: a new frame's slots hold what earlier steps wrote there,
      -- which the picture already knows, and the same frame pushed again is
      -- then the same row, stored once
      slots[i] = { name = s.name, type = s.type, addr = s.addr, size = s.size, kind = kind }
      r.slots[s.addr] = s.size
    end
    return { name = f.name, sp = sp, fp = fp, top = top, slots = slots }
  end
end

-- One step: what the operation was, what it cost, what it changed.
function Recorder:record(m, op, args, ok, err, line, extra)
  local r = self.machines[m] or self:machine(m)
  self.total = self.total + 1
  if self.recorded >= self.limit then return end
  self.recorded = self.recorded + 1
  local t0, t1 = r.tally, tally(m)
  r.tally = t1
  local s = { machine = r.n, op = op, args = args, line = line, error = not ok and err or nil,
              cost = { stack = t1[3] - t0[3], memory = t1[4] - t0[4], alloc = t1[5] - t0[5],
                       meta = t1[6] - t0[6] },
              searched = t1[7] - t0[7], heap_bytes = t1[8], live_bytes = t1[9],
              l1 = { accesses = t1[10] - t0[10], misses = t1[11] - t0[11] },
              ops = t1[1] }
  if HEAP[op] or r.fresh then
    r.fresh = nil
    local removed, added = r.differ:diff()
    if removed then
      s.blocks_removed, s.blocks_added = removed, added
      if r.lists then
        local changes, why = r.differ:lists()
        if changes then s.free_lists_changed = changes elseif why then r.lists = false end
      end
    end
  end
  -- Only a miss changes which lines the first level holds.
  if t1[11] ~= t0[11] or r.fresh_lines then
    r.fresh_lines = nil
    s.l1_removed, s.l1_added = r.differ:lines()
  end
  local depth = m:depth()
  if op == "call" and ok then
    s.frames_keep, s.frames_push = depth - 1, { top_frame(m, r) }
  elseif depth ~= r.depth then
    s.frames_keep = depth
  end
  r.depth = depth
  if extra then s.memory = extra end
  self.w:step(s)
end

-- The bytes an operation wrote, read back without cost.
local function written(m, addr, n)
  if math.type(addr) ~= "integer" or math.type(n) ~= "integer" or n <= 0 then return nil end
  return { { addr = addr, bytes = bytes_hex(m:peek(addr, math.min(n, MAX_BYTES))) } }
end

-- A method wrapped to record a step; errors keep pointing at the script's
-- line, not at this file.
function Recorder:wrap(name, orig, getm, describe)
  local rec = self
  local here = "^" .. debug.getinfo(1, "S").short_src:gsub("%p", "%%%0") .. ":%d+: "
  return function(obj, ...)
    local m = getm(obj)
    if m == nil or not rec.active then return orig(obj, ...) end
    local before = m:ops()
    local res = table.pack(pcall(orig, obj, ...))
    local ok = res[1]
    if not ok and type(res[2]) == "string" then
      -- The method's own error names its caller's line: that is now this
      -- wrapper (or pcall, which names none); give the script's line back.
      local info = debug.getinfo(2, "Sl")
      if info and info.currentline > 0 then
        local where = info.short_src .. ":" .. info.currentline .. ": "
        local msg, n = res[2]:gsub(here, where, 1)
        if n == 0 and not msg:match("^[^:\n]+:%d+: ") then msg = where .. msg end
        res[2] = msg
      end
    end
    local okm, now = pcall(m.ops, m)        -- a closed machine has stopped counting
    if okm and (now ~= before or HEAP[name] or not ok) then
      local args, extra = describe(m, obj, res, ...)
      rec:record(m, name, args, ok, not ok and tostring(res[2]) or nil, rec:line(), extra)
    end
    if not ok then error(res[2], 0) end
    return table.unpack(res, 2, res.n)
  end
end

local function num(v) return math.type(v) == "integer" and v or nil end

-- How each operation's arguments and result are kept.
local describe = {
  alloc = function(_, _, res, size, align) return { num(size), num(align), num(res[2]) } end,
  free = function(_, _, _, addr) return { num(addr) } end,
  realloc = function(_, _, res, addr, size) return { num(addr), num(size), num(res[2]) } end,
  reset = function() return {} end,
  load = function(_, _, res, addr, width) return { num(addr), num(width), num(res[2]) } end,
  store = function(m, _, res, addr, value, width)
    return { num(addr), num(value), num(width) }, res[1] and written(m, addr, width or m:word())
  end,
  read = function(_, _, _, addr, n) return { num(addr), num(n) } end,
  write = function(m, _, res, addr, str)
    local n = type(str) == "string" and #str or 0
    return { num(addr), n }, res[1] and written(m, addr, n)
  end,
  sweep = function(m, _, res, addr, count, stride, width, value)
    local extra
    if res[1] and value ~= nil and num(count) and num(stride) and count * stride <= MAX_BYTES then
      extra = written(m, addr, count * math.abs(stride))
    end
    return { num(addr), num(count), num(stride), num(width), num(value) }, extra
  end,
  chase = function(_, _, _, addr, next_off, count) return { num(addr), num(next_off), num(count) } end,
  call = function(_, _, res, name) return { type(name) == "string" and name or "?" } end,
  ret = function() return {} end,
}

local function frame_name(f)
  local ok, name = pcall(function() return f.name end)
  return ok and name or "?"
end

-- A value as a step's argument: numbers and booleans as they are, anything
-- else (a table for an aggregate) left out.
local function plain(v)
  local t = type(v)
  if t == "number" or t == "boolean" then return v end
  return nil
end

local slot_describe = function(get)
  return function(m, f, res, key, value)
    local r, extra = nil, nil
    local addr
    if type(key) == "string" and res[1] then
      local ok, a = pcall(frame_methods.addr, f, key)
      addr = ok and a or nil
    end
    if not get and addr then
      local rec = M.current
      r = rec and rec.machines[m]
      extra = written(m, addr, r and r.slots[addr] or m:word())
    end
    return { frame_name(f), type(key) == "string" and key or "?",
             plain(get and (res[1] and res[2] or nil) or value) }, extra
  end
end

local function frame_machine(f)
  return (debug.getuservalue(f, 1))
end

local function self_machine(m) return m end

--- r:start(): from now on every operation of every machine is a step.
function Recorder:start()
  M.current = self
  self.active = true
  local saved = self.saved
  local function replace(tbl, name, new)
    saved[#saved + 1] = { tbl, name, tbl[name] }
    tbl[name] = new
  end
  for name, how in pairs(describe) do
    local orig = machine_methods[name]
    if orig then replace(machine_methods, name, self:wrap(name, orig, self_machine, how)) end
  end
  -- Frame operations: slot writes and reads, close, and <close> at scope end.
  replace(frame_mt, "__newindex", self:wrap("set", frame_mt.__newindex, frame_machine, slot_describe(false)))
  replace(frame_methods, "set", self:wrap("set", frame_methods.set, frame_machine, slot_describe(false)))
  replace(frame_methods, "get", self:wrap("get", frame_methods.get, frame_machine, slot_describe(true)))
  replace(frame_methods, "close", self:wrap("ret", frame_methods.close, frame_machine,
    function(_, f) return { frame_name(f) } end))
  local index = frame_mt.__index
  replace(frame_mt, "__index", self:wrap("get", index, frame_machine, slot_describe(true)))
  local toclose = frame_mt.__close
  replace(frame_mt, "__close", self:wrap("ret", toclose, frame_machine,
    function(_, f) return { frame_name(f) } end))
  -- Machines are numbered as the script makes them, the checker's numbering.
  local make = sh.machine
  local rec = self
  replace(sh, "machine", function(opts)
    local ok, m = pcall(make, opts)
    if not ok then error(m, 2) end
    local heap = type(opts) == "table" and opts.heap
    local cache = type(opts) == "table" and opts.cache
    local first = type(cache) == "table" and type(cache.levels) == "table" and cache.levels[1]
    rec.heap_of[m] = { policy = type(heap) == "table" and tostring(heap.policy or "first_fit") or nil,
                       order = type(heap) == "table" and heap.order and tostring(heap.order) or nil,
                       line = type(first) == "table" and math.tointeger(first.line) or nil }
    rec:machine(m)
    return m
  end)
  -- The checker's findings die with a closed machine: keep them first.
  local close = machine_methods.close
  replace(machine_methods, "close", function(m, ...)
    local r = rec.machines[m]
    if r and not r.errors then
      local ok, errs = pcall(m.errors, m)
      r.errors = ok and errs or nil
    end
    return close(m, ...)
  end)
end

--- r:stop(): put the methods back, and hand the checker's findings to the
--- writer, each at the step that caused it.
function Recorder:stop()
  if not self.active then return end
  self.active = false
  for i = #self.saved, 1, -1 do
    local s = self.saved[i]
    s[1][s[2]] = s[3]
  end
  self.saved = {}
  M.current = nil
  self.w:note{ recorded = self.recorded, total = self.total }
  for _, r in ipairs(self.order) do
    local errs = r.errors
    if not errs then
      local ok, e = pcall(r.m.errors, r.m)
      errs = ok and e or {}
    end
    for _, e in ipairs(errs) do
      self.w:finding{ machine = r.n, op = e.op, kind = e.kind, addr = e.addr, message = e.message }
    end
  end
end

return M
