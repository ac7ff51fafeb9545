-- Values that live half on the stack and half on the heap, as Rust makes them:
-- String, Vec<T> and Box<T> headers in slots, their buffers in heap blocks.
local layout = require "stackheap.layout"

local M = {}

-- The owning values of each machine's frames, by frame id, in the order made.
local owned = setmetatable({}, {__mode = "k"})

local Value = {}
Value.__index = Value

-- The slot (or field inside one) a path names: its address, type, and the
-- key drop order sorts by (slot index, then field declaration order).
local function place(frame, path, want, what)
  if type(path) ~= "string" then error(what .. ": a slot is named by a string, got " .. type(path), 3) end
  local slot, rest = path:match("^([%w_]+)(.*)$")
  local decl = frame:decl()
  local index
  for i, s in ipairs(decl or {}) do if s.name == slot then index = i end end
  if not index then
    local names = {}
    for i, s in ipairs(decl or {}) do names[i] = s.name end
    error(("%s: frame '%s' has no slot '%s' (its slots: %s)"):format(what, frame.name, tostring(slot),
      #names > 0 and table.concat(names, ", ") or "none"), 3)
  end
  local t, rank = decl[index].type, {index}
  if rest ~= "" then
    local off, ft = layout.field(t, (rest:gsub("^%.", "")))
    if not off then error(what .. ": " .. ft, 3) end
    -- fields drop in declaration order: rank them by their index
    local cur = t
    for name in rest:gmatch("[%w_]+") do
      for i, f in ipairs(cur.fields or {}) do
        if f.name == name then rank[#rank + 1], cur = i, f.type; break end
      end
    end
    t = ft
  end
  if t.owner ~= want then
    error(("%s: '%s' is a %s, not a %s"):format(what, path, t.text,
      want == "Box" and "Box<T>" or want == "Vec" and "Vec<T>" or want), 3)
  end
  return frame:addr(path), t, rank
end

local function field_offset(t, name)
  for _, f in ipairs(t.fields) do if f.name == name then return f.offset end end
end

local function owners(m, frame)
  local by_frame = owned[m]
  if not by_frame then by_frame = {}; owned[m] = by_frame end
  local list = by_frame[frame:id()]
  if not list then list = {}; by_frame[frame:id()] = list end
  return list
end

-- init.lua sets M.install, which hooks drop_frame to pops; a machine's pops
-- call it once the machine has an owning value, so others pay nothing.
local function register(m, frame, v)
  if M.install then M.install(); M.install = nil end
  m:_drops(true)
  local list = owners(m, frame)
  list[#list + 1] = v
  return v
end

local function new(m, frame, path, want, what)
  local addr, t, rank = place(frame, path, want, what)
  -- assigning to a slot drops what it held, as in Rust, before the new header is written
  for _, old in ipairs(owners(m, frame)) do
    if old.live and old.addr == addr then old:drop() end
  end
  return setmetatable({m = m, frame = frame, path = path, addr = addr, type = t, rank = rank,
    elem = t.owns, word = m:word(), kind = want, live = true}, Value)
end

local function check(v, what)
  if not v.live then
    error(("%s: %s '%s' was %s"):format(what, v.kind, v.path, v.gone or "dropped"), 3)
  end
  if not v.frame:alive() then
    error(("%s: %s '%s' lived in frame '%s', which was popped"):format(what, v.kind, v.path, v.frame.name), 3)
  end
end

-- Header words, read and written through the machine (so they are priced).
function Value:_get(name)
  return self.m:load(self.addr + field_offset(self.type, name), self.word)
end

function Value:_set(name, x)
  self.m:store(self.addr + field_offset(self.type, name), x, self.word)
end

---------------------------------------------------------------------------
-- String and Vec<T>: {ptr, cap, len} in the slot, cap elements on the heap.

-- RawVec's amortized growth: at least double, at least what is needed, and
-- never fewer than 8 bytes' or 4 elements' worth.
local function grow(v, additional, what)
  local len, cap = v:_get("len"), v:_get("cap")
  local need = len + additional
  if need <= cap then return end
  local size = v.elem.size
  if size == 0 then return end
  local min_cap = size == 1 and 8 or size <= 1024 and 4 or 1
  local new_cap = math.max(cap * 2, need, min_cap)
  local p, err
  if cap == 0 then p, err = v.m:alloc(new_cap * size, v.elem.align)
  else p, err = v.m:realloc(v:_get("ptr"), new_cap * size) end
  if not p then error(("%s: cannot grow %s '%s' to %d elements: %s"):format(what, v.kind, v.path, new_cap, err), 3) end
  v:_set("ptr", p)
  v:_set("cap", new_cap)
end

-- A String or Vec made from `init` (a string or a list, of Lua type `want`):
-- exactly #init elements of room; an empty buffer's pointer is dangling but
-- aligned (NonNull::dangling), and a ZST's capacity is usize::MAX.
local function buffer(m, frame, path, kind, init, want, fill)
  local what = kind:lower()
  if init ~= nil and type(init) ~= want then
    error(("%s: the initial %s must be a %s, got %s"):format(what, kind == "String" and "text" or "values",
      want, type(init)), 3)
  end
  local v = new(m, frame, path, kind, what)
  local count, size, p = init and #init or 0, v.elem.size, v.elem.align
  if count > 0 and size > 0 then
    local err
    p, err = m:alloc(count * size, v.elem.align)
    if not p then error(("%s: %s"):format(what, err), 3) end
    fill(v, p, init)
  end
  v:_set("ptr", p)
  v:_set("cap", size == 0 and (v.word == 8 and -1 or 0xffffffff) or count)
  v:_set("len", count)
  return register(m, frame, v)
end

--- m:string(frame, slot [, text]) -> a String value in the slot: its header
--- in the frame, its bytes in a heap block exactly as long as text.
function M.string(m, frame, path, text)
  return buffer(m, frame, path, "String", text, "string", function(v, p) v.m:write(p, text) end)
end

--- m:vec(frame, slot [, values]) -> a Vec<T> value with exactly #values room.
function M.vec(m, frame, path, values)
  return buffer(m, frame, path, "Vec", values, "table", function(v, p)
    for i, x in ipairs(values) do v.m:_store_typed(p + (i - 1) * v.elem.size, v.elem, x) end
  end)
end

--- m:box(frame, slot, value) -> a Box<T> value: T in its own heap block.
function M.box(m, frame, path, value)
  local v = new(m, frame, path, "Box", "box")
  local t = v.elem
  if not t.sized then error("box: Box<" .. t.text .. "> of an unsized value is not modelled; use Vec or String", 2) end
  local p = t.align
  if t.size > 0 then
    local err
    p, err = m:alloc(t.size, t.align)
    if not p then error("box: " .. err, 2) end
    if value ~= nil then m:_store_typed(p, t, value) end
  end
  m:store(v.addr, p, v.word)
  return register(m, frame, v)
end

function Value:len() check(self, "len"); return self:_get("len") end
function Value:capacity() check(self, "capacity"); return self:_get("cap") end
function Value:ptr()
  check(self, "ptr")
  if self.kind == "Box" then return self.m:load(self.addr, self.word) end
  return self:_get("ptr")
end

--- s:push_str(text): appends, growing the buffer (which may move) as Rust does.
function Value:push_str(text)
  check(self, "push_str")
  if self.kind ~= "String" then error("push_str: only a String has push_str; use push on a Vec", 2) end
  if type(text) ~= "string" then error("push_str: expected a string, got " .. type(text), 2) end
  grow(self, #text, "push_str")
  local len = self:_get("len")
  if #text > 0 then self.m:write(self:_get("ptr") + len, text) end
  self:_set("len", len + #text)
  return self
end

--- v:push(x): appends one element (a String pushes one character).
function Value:push(x)
  check(self, "push")
  if self.kind == "String" then
    if type(x) ~= "string" or utf8.len(x) ~= 1 then error("push: a String pushes one character", 2) end
    return self:push_str(x)
  end
  if self.kind ~= "Vec" then error("push: only a Vec or a String has push", 2) end
  grow(self, 1, "push")
  local len = self:_get("len")
  self.m:_store_typed(self:_get("ptr") + len * self.elem.size, self.elem, x)
  self:_set("len", len + 1)
  return self
end

--- v:pop() -> the last element (nil when empty); the capacity stays.
function Value:pop()
  check(self, "pop")
  if self.kind ~= "Vec" then error("pop: only a Vec has pop", 2) end
  local len = self:_get("len")
  if len == 0 then return nil end
  local x = self.m:_load_typed(self:_get("ptr") + (len - 1) * self.elem.size, self.elem)
  self:_set("len", len - 1)
  return x
end

local function element(v, i, what)
  check(v, what)
  local len = v:_get("len")
  if math.type(i) ~= "integer" or i < 0 or i >= len then
    error(("%s: index %s is out of bounds: the len is %d (indexes start at 0, as in Rust)")
      :format(what, tostring(i), len), 3)
  end
  return v:_get("ptr") + i * v.elem.size
end

--- v:get(i) / v:set(i, x): element i (from 0), loaded through the pointer.
function Value:get(i)
  if self.kind == "Box" then check(self, "get"); return self.m:_load_typed(self:ptr(), self.elem) end
  if self.kind ~= "Vec" then error("get: use s:as_str() to read a String", 2) end
  return self.m:_load_typed(element(self, i, "get"), self.elem)
end

function Value:set(i, x)
  if self.kind == "Box" then check(self, "set"); self.m:_store_typed(self:ptr(), self.elem, i); return end
  if self.kind ~= "Vec" then error("set: a String is changed with push_str", 2) end
  self.m:_store_typed(element(self, i, "set"), self.elem, x)
end

--- s:as_str() -> the String's text, read from the heap.
function Value:as_str()
  check(self, "as_str")
  if self.kind ~= "String" then error("as_str: only a String has as_str", 2) end
  local len = self:_get("len")
  return len > 0 and self.m:read(self:_get("ptr"), len) or ""
end

--- x:drop(): frees what the value owns now (std::mem::drop); the slot keeps
--- its stale bytes.
function Value:drop()
  check(self, "drop")
  local p
  if self.kind == "Box" then
    p = self.elem.size > 0 and self:ptr()
  else
    p = self.elem.size > 0 and self:_get("cap") > 0 and self:_get("ptr")
  end
  if p then self.m:free(p) end
  self.live, self.gone = false, "dropped"
end

--- x:move_to(frame, slot) -> the value at its new place: the header's bytes
--- are copied there; the old place no longer owns anything.
function Value:move_to(frame, path)
  check(self, "move_to")
  local v = new(self.m, frame, path, self.kind, "move_to")
  if v.type.size ~= self.type.size then
    error(("move_to: '%s' is a %s, not a %s"):format(path, v.type.text, self.type.text), 2)
  end
  for off = 0, self.type.size - 1, self.word do
    self.m:store(v.addr + off, self.m:load(self.addr + off, self.word), self.word)
  end
  self.live, self.gone = false, "moved to " .. frame.name .. "'s " .. path
  return register(self.m, frame, v)
end

function Value:__tostring()
  if not self.live then return ("%s %s (%s)"):format(self.kind, self.path, self.gone) end
  return ("%s %s at 0x%x"):format(self.type.text, self.path, self.addr)
end

--- values.drop_frame(m, frame): drops the frame's owning values as Rust does
--- when a scope ends: slots in reverse declaration order, a struct's fields
--- in declaration order. Raw pointers own nothing and free nothing.
function M.drop_frame(m, frame)
  local by_frame = owned[m]
  local list = by_frame and by_frame[frame:id()]
  if not list then return end
  by_frame[frame:id()] = nil
  local live = {}
  for _, v in ipairs(list) do if v.live then live[#live + 1] = v end end
  table.sort(live, function(a, b)
    if a.rank[1] ~= b.rank[1] then return a.rank[1] > b.rank[1] end
    for i = 2, math.max(#a.rank, #b.rank) do
      local x, y = a.rank[i] or 0, b.rank[i] or 0
      if x ~= y then return x < y end
    end
    return false
  end)
  for _, v in ipairs(live) do v:drop() end
end

return M
