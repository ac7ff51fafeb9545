-- stackheap: the Lua face of the engine.  Machines and frames come from the C core;
-- this file adds what is easier said in Lua: declarations, snapshots, measuring.
local core = require "stackheap.core"
local decl = require "stackheap.decl"
local layout = require "stackheap.layout"
local values = require "stackheap.values"

local M = { _VERSION = "stackheap " .. core.version() }
local methods = core.machine_methods

-- The checker names the scenario line each operation came from; lines in
-- this module's own files (which act for a scenario) are skipped.
core._internal((debug.getinfo(1, "S").source:gsub("[^/\\]*$", "")))

-- Compiled frame layouts, per machine and declaration text: a scenario calls
-- the same function many times, and parsing is the slow part of a call.
local layouts = setmetatable({}, { __mode = "k" })

local langs = { rust = true, c = true }

local function layout_for(m, text, opts)
  local lang = "rust"
  if opts ~= nil then
    if type(opts) ~= "table" then
      return nil, ("call: options must be a table, got %s"):format(type(opts))
    end
    lang = opts.lang or "rust"
    if not langs[lang] then
      return nil, ("call: lang must be \"rust\" or \"c\", got %s"):format(tostring(lang))
    end
  end
  local cache = layouts[m]
  if not cache then cache = { rust = {}, c = {} }; layouts[m] = cache end
  local lay = cache[lang][text]
  if lay then return lay end
  local slots, err = decl.parse(text, { lang = lang, word = m:word() })
  if not slots then return nil, "call: " .. err end
  lay = m:_layout(slots)
  cache[lang][text] = lay
  return lay
end

--- m:call(name, decl [, {lang = "rust"|"c"}]) pushes a frame and returns it.
function methods:call(name, text, opts)
  if type(name) ~= "string" then
    error(("call: the frame name must be a string, got %s"):format(type(name)), 2)
  end
  if text == nil then text = "" end
  if type(text) ~= "string" then
    error(("call: the slot declarations must be a string, got %s"):format(type(text)), 2)
  end
  local lay, err = layout_for(self, text, opts)
  if not lay then error(err, 2) end
  local f
  f, err = self:_push(name, lay)
  if not f then error(err, 2) end
  return f
end

-- Paths into struct and array slots: frame["p.x"], frame:addr("a[2]").
core.frame_meta.__field = function(t, rest)
  return layout.field(t, (rest:gsub("^%.", "")))
end

-- Rust's drops when a frame is popped (m:ret, frame:close, <close>),
-- hooked once a script makes its first owning value.
values.install = function() core.frame_meta.__drop = values.drop_frame end

--- m:string(frame, slot [, text]), m:vec(frame, slot [, values]),
--- m:box(frame, slot, value): owning values (values.lua), freed when the
--- frame is popped.
function methods:string(frame, slot, text) return values.string(self, frame, slot, text) end
function methods:vec(frame, slot, list) return values.vec(self, frame, slot, list) end
function methods:box(frame, slot, value) return values.box(self, frame, slot, value) end

-- A stats table minus another, field by field: what the operations between cost.
local function diff(after, before)
  local d = {}
  for k, v in pairs(after) do
    if type(v) == "table" then d[k] = diff(v, before[k] or {})
    elseif math.type(v) == "integer" then d[k] = v - (before[k] or 0)
    else d[k] = v end
  end
  return d
end
M.diff = diff

--- m:measure(fn, ...) runs fn(...) and returns what it cost (a stats
--- difference), followed by fn's own results.
function methods:measure(fn, ...)
  if type(fn) ~= "function" then
    error(("measure: expected a function, got %s"):format(type(fn)), 2)
  end
  local before = self:stats()
  local res = table.pack(fn(...))
  return diff(self:stats(), before), table.unpack(res, 1, res.n)
end

local CATEGORIES = { "stack", "memory", "alloc", "meta" }

--- m:cost_table() -> where the cycles went: a row per cost category with
--- its cycles split into instructions and memory accesses, and (with a
--- cache) how many of its accesses each level served.  tostring() of the
--- result is a printable table.
function methods:cost_table()
  local s = self:stats()
  local levels = {}                       -- level names in order, memory left out
  for name, l in pairs(s.cache) do
    if name ~= "memory" then levels[l.index] = name end
  end
  local rows, total = {}, { category = "total", cycles = 0, instructions = 0, access_cycles = 0,
                            accesses = 0, served = {} }
  for _, k in ipairs(CATEGORIES) do
    local r = { category = k, cycles = s.cost[k], access_cycles = s.access_cycles[k], served = {} }
    r.instructions = r.cycles - r.access_cycles
    r.accesses = 0
    for i, name in ipairs(levels) do
      local by = s.cache[name].by[k]
      if by.accesses > r.accesses then r.accesses = by.accesses end
      r.served[name] = by.hits
      if i == #levels then r.served.memory = by.misses end
    end
    for _, f in ipairs{ "cycles", "instructions", "access_cycles", "accesses" } do
      total[f] = total[f] + r[f]
    end
    for name, n in pairs(r.served) do total.served[name] = (total.served[name] or 0) + n end
    rows[#rows + 1] = r
  end
  rows[#rows + 1] = total
  return setmetatable(rows, { __tostring = function(t)
    local fmt = require "stackheap.format"
    local heads = { "category", "cycles", "instructions", "access cycles" }
    local cols = #levels > 0 and { "accesses" } or {}
    for _, name in ipairs(levels) do cols[#cols + 1] = name end
    if #levels > 0 then cols[#cols + 1] = "memory" end
    local grid = {}
    for _, r in ipairs(t) do
      local line = { r.category, r.cycles, r.instructions, r.access_cycles }
      for i, c in ipairs(cols) do line[4 + i] = i == 1 and r.accesses or r.served[c] end
      grid[#grid + 1] = line
    end
    for i, c in ipairs(cols) do heads[4 + i] = i == 1 and c or c .. " hits" end
    if #levels > 0 then heads[#heads] = "from memory" end
    return fmt.table(grid, { headers = heads })
  end })
end

-- Slot values as an observer sees them: decoded from peeked bytes, so a
-- snapshot costs the machine nothing and never disturbs its statistics.
local scalar_fmt = {
  int = { [1] = "i1", [2] = "i2", [4] = "i4", [8] = "i8" },
  uint = { [1] = "I1", [2] = "I2", [4] = "I4", [8] = "I8" },
  float = { [4] = "f", [8] = "d" },
}

local function peek_value(m, addr, ty)
  local kind, size = ty.kind, ty.size
  if kind == "int" then
    local f = scalar_fmt[ty.signed and "int" or "uint"][size]
    if f then return (string.unpack("<" .. f, m:peek(addr, size))) end
  elseif kind == "float" then
    return (string.unpack("<" .. scalar_fmt.float[size], m:peek(addr, size)))
  elseif kind == "bool" then
    return m:peek(addr, 1) ~= "\0"
  elseif kind == "char" then
    local c = string.unpack("<I4", m:peek(addr, 4))
    if c < 0x110000 and (c < 0xd800 or c > 0xdfff) then return utf8.char(c) end
    return c
  elseif kind == "ptr" then
    return (string.unpack("<I" .. size, m:peek(addr, size)))
  end
  return nil   -- aggregates are shown by their fields or bytes
end

--- m:snapshot() returns a plain table of the whole state: frames with their
--- slots, heap blocks, and the pointers found in slots and in heap memory.
function methods:snapshot()
  local word = self:word()
  local snap = { word = word, ops = self:ops(), frames = {}, blocks = {}, pointers = {} }
  local blocks = snap.blocks
  for b in self:blocks() do blocks[#blocks + 1] = b end
  -- the used block holding address a, by binary search over address order
  local function target(a)
    local lo, hi = 1, #blocks
    while lo <= hi do
      local mid = (lo + hi) // 2
      local b = blocks[mid]
      if a < b.addr then hi = mid - 1
      elseif a >= b.addr + b.size then lo = mid + 1
      else return b.state == "used" and b or nil end
    end
  end
  for f in self:frames() do
    local sp, fp, top = f:bounds()
    local fr = { name = f.name, sp = sp, fp = fp, top = top, size = top - sp, slots = {} }
    local d = f:decl() or {}
    for i, s in ipairs(f:slots()) do
      local ty = d[i] and d[i].type
      s.bytes = self:peek(s.addr, s.size)
      if ty then s.kind = ty.kind; s.value = peek_value(self, s.addr, ty) end
      fr.slots[#fr.slots + 1] = s
      -- thin pointers in the slot, also inside structs and arrays (a
      -- String's buffer pointer is the field "ptr" of its slot)
      local function scan(addr, t, path, depth)
        if t.kind == "ptr" then
          local v = peek_value(self, addr, t)
          local b = v and target(v)
          if b then
            snap.pointers[#snap.pointers + 1] =
              { from = addr, to = v, block = b.addr, frame = f.name, slot = path }
          end
        elseif depth < 8 and (t.kind == "struct" or t.kind == "union") then
          for _, fl in ipairs(t.fields or {}) do scan(addr + fl.offset, fl.type, path .. "." .. fl.name, depth + 1) end
        elseif depth < 8 and t.kind == "array" and t.count <= 64 then
          for k = 0, t.count - 1 do scan(addr + k * t.elem.size, t.elem, path .. "[" .. k .. "]", depth + 1) end
        end
      end
      if ty then scan(s.addr, ty, s.name, 0) end
    end
    snap.frames[#snap.frames + 1] = fr
  end
  -- conservative scan: any aligned word in a used block that points into one
  for _, b in ipairs(blocks) do
    if b.state == "used" then
      local first = b.payload + (-b.payload % word)
      local bytes = self:peek(first, math.max(0, b.payload + b.requested - first))
      for off = 0, #bytes - word, word do
        local v = string.unpack("<I" .. word, bytes, off + 1)
        local t = v ~= 0 and target(v)
        if t then
          snap.pointers[#snap.pointers + 1] = { from = first + off, to = v, block = t.addr }
        end
      end
    end
  end
  snap.stats = self:stats()
  return snap
end

--- m:map([{width = 64}]) -> a text picture of the heap (a scaled strip of
--- characters, block by block, then each block) and the stack (frames and
--- slots, pointers named by the block they reach); print it.
function methods:map(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error(("map: options must be a table, got %s"):format(type(opts)), 2)
  end
  local width = opts and opts.width
  if width ~= nil and (math.type(width) ~= "integer" or width < 8) then
    error(("map: width must be an integer of at least 8, got %s"):format(tostring(width)), 2)
  end
  return table.concat(require("stackheap.map").text(self:snapshot(), opts), "\n")
end

local function field_rows(list)
  local fields = {}
  for i, f in ipairs(list or {}) do
    fields[i] = { name = f.name, offset = f.offset, size = f.type.size, align = f.align or f.type.align,
                  type = f.type.text }
  end
  return fields
end

--- sh.layout(text [, {lang, word}]) describes a type, or the last of the
--- struct/enum/union declarations in text: size, alignment, whether it is
--- sized (and why not), its fields; an enum's tag and variants; the niche
--- (values the type never uses) rustc can give an enclosing enum.
function M.layout(text, opts)
  if type(text) ~= "string" then
    error(("layout: expected a type as a string, got %s"):format(type(text)), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(("layout: options must be a table, got %s"):format(type(opts)), 2)
  end
  local ty, err = decl.type(text, opts)
  if not ty then error("layout: " .. err, 2) end
  local out = { size = ty.size, align = ty.align, sized = ty.sized, kind = ty.kind, text = ty.text,
                why = ty.why, fields = field_rows(ty.fields) }
  if ty.variants then
    out.variants = {}
    for i, v in ipairs(ty.variants) do
      out.variants[i] = { name = v.name, discr = v.discr, size = v.size, fields = field_rows(v.fields) }
    end
  end
  if ty.tag then out.tag = { offset = ty.tag.offset, size = ty.tag.size, encoding = ty.tag.encoding } end
  if ty.niche then out.niche = { offset = ty.niche.offset, size = ty.niche.size, values = ty.niche.avail } end
  return out
end

-- Every machine a script made, weakly, numbered in the order made; those
-- with a checker are also held strongly, so what they found is reported
-- when the script ends whatever the garbage collector did meanwhile.
local made = setmetatable({}, { __mode = "k" })
local checked = {}
local count = 0

--- sh.machine{...}: see API.md section 1 for the options.
function M.machine(opts)
  local ok, m = pcall(core.machine, opts)
  if not ok then error(m, 2) end
  count = count + 1
  made[m] = count
  if type(opts) == "table" and opts.check then
    checked[#checked + 1] = { number = count, machine = m }
  end
  return m
end

--- sh.policy{name, init, alloc, free [, realloc]}: a heap policy written in
--- Lua (API.md section 3.1), used as sh.machine{heap = {policy = P, ...}}.
function M.policy(def)
  local ok, p = pcall(core.policy, def)
  if not ok then error(p, 2) end
  return p
end
--- sh.random(seed) -> Python's generator, seeded as random.seed(seed): an
--- integer, or a list of 32-bit words (lowest first) for a larger one.
--- r:random() is random.random(), r:u32() getrandbits(32), r:seed(s) reseeds.
M.random = core.random

--- sh.checked() -> {{number = n, machine = m}...}: the machines made with a
--- checker, oldest first (n counts every machine made).
function M.checked()
  return table.move(checked, 1, #checked, 1, {})
end

--- sh.machines() -> the machines still alive, oldest first.
function M.machines()
  local list = {}
  for m in pairs(made) do list[#list + 1] = m end
  table.sort(list, function(a, b) return made[a] < made[b] end)
  return list
end

return M
