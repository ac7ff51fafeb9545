-- stackheap.report: the step-through report writer.  It takes steps (what an
-- operation was, what it cost, what it changed) from any source, keeps them
-- compact, and writes one self-contained HTML page or one step as SVG.
--
-- The data-in interface (docs/REPORTS.md has the full reference):
--
--   local report = require "stackheap.report"
--   local w = report.new{ title = "...", source = { name = "x.lua", text = "..." } }
--   w:machine(1, { word = 8, policy = "first_fit" })
--   w:step{ machine = 1, op = "alloc", args = {24, nil, 0x1010}, line = 12,
--           -- state: give it whole ...
--           blocks = {{addr =, size =, state = "used"|"free", payload =, requested =}...},
--           frames = {{name =, sp =, fp =, top =, slots = {{name =, type =, addr =,
--                      size =, kind =, bytes =, value =}...}}...},       -- bottom first
--           free_lists = {[k] = {addr, ...}, ...},     -- list k, in search order
--           -- ... or as changes: blocks_removed = {addr...}, blocks_added = {flat
--           -- addr, size, payload, requested...}, frames_keep = n, frames_push = {...},
--           -- free_lists_changed = {{k - 1, keep first, keep last, addr...}...},
--           memory = {{addr =, bytes = "hex"}...},
--           l1_lines = {addr...} -- or l1_removed = {addr...}, l1_added = {addr...}:
--           -- the lines the first cache level holds (their first addresses)
--           cost = {stack =, memory =, alloc =, meta =}, searched =, l1 = {accesses =, misses =},
--           heap_bytes =, live_bytes =, error = "...", text = "what to show" }
--   w:finding{ step = i | machine = n, op = engine op, kind =, addr =, message = }
--   w:html(path)        w:svg(path, step)
local json = require "stackheap.json"

local M = {}

local Writer = {}
Writer.__index = Writer

local COST = { "stack", "memory", "alloc", "meta" }

--- report.new{title, source = {name, text}} -> a writer
function M.new(meta)
  meta = meta or {}
  return setmetatable({
    title = meta.title or "stackheap report", source = meta.source,
    machines = {}, kinds = {}, kind_index = {},
    shapes = {}, shape_index = {}, n = 0,
    col = { s = {}, a = {} },                 -- per step: shape index, arguments
    text = {}, hb = {}, bl = {}, fl = {}, fr = {}, mem = {}, err = {}, l1 = {},
    findings = {}, run_note = nil, frames = {}, frame_index = {},
    last = {},                                -- machine -> its previous full state (whole-state input)
    ops = {},                                 -- machine -> {step indices}, {engine op counts}
  }, Writer)
end

--- w:machine(n, {word, policy, order, cache}) describes machine n.
function Writer:machine(n, info)
  local i = {}
  for k, v in pairs(info or {}) do i[k] = v end
  i.n = n
  self.machines[#self.machines + 1] = i
end

-- The number of value in list (1, 2, ...), added under key when new: kinds,
-- step shapes and frames are each stored once and named by number.
local function intern(list, index, key, value)
  local k = index[key]
  if not k then
    list[#list + 1] = value
    k = #list
    index[key] = k
  end
  return k
end

local function kind_of(self, op)
  return intern(self.kinds, self.kind_index, op, op)
end

local function int(v) return math.type(v) == "integer" and v or 0 end

-- Steps that look alike (same machine, operation, line and costs: a loop's
-- body) share one "shape", so a long run stores a small index per step.
local function shape_of(self, s)
  local c, l1 = s.cost or {}, s.l1 or {}
  local t = { int(s.machine) ~= 0 and s.machine or 1, kind_of(self, s.op or "?"), int(s.line),
              int(c.stack), int(c.memory), int(c.alloc), int(c.meta), int(s.searched),
              int(l1.accesses), int(l1.misses) }
  return intern(self.shapes, self.shape_index, table.concat(t, ","), t)
end

local function flat_blocks(list)
  local out, byaddr = {}, {}
  for _, b in ipairs(list) do
    local used = b.state == "used" or (b.state == nil and b.payload ~= nil and b.payload ~= 0)
    local e = { b.addr, b.size, used and (b.payload or b.addr) or 0, used and (b.requested or 0) or 0 }
    byaddr[b.addr] = e
    out[#out + 1] = e
  end
  return out, byaddr
end

-- Whole blocks against the machine's previous whole blocks: the change.
local function diff_blocks(prev, list)
  local _, now = flat_blocks(list)
  local removed, added = {}, {}
  for a, e in pairs(prev or {}) do
    local n = now[a]
    if not n or n[2] ~= e[2] or n[3] ~= e[3] or n[4] ~= e[4] then removed[#removed + 1] = a end
  end
  for a, e in pairs(now) do
    local p = prev and prev[a]
    if not p or p[2] ~= e[2] or p[3] ~= e[3] or p[4] ~= e[4] then
      table.move(e, 1, 4, #added + 1, added)
    end
  end
  table.sort(removed)
  -- added is sorted by address for determinism
  local rows = {}
  for i = 1, #added, 4 do rows[#rows + 1] = { added[i], added[i + 1], added[i + 2], added[i + 3] } end
  table.sort(rows, function(x, y) return x[1] < y[1] end)
  added = {}
  for _, r in ipairs(rows) do table.move(r, 1, 4, #added + 1, added) end
  return removed, added, now
end

local function frame_row(f)
  local slots = {}
  for i, s in ipairs(f.slots or {}) do
    local bytes = s.bytes
    if type(bytes) == "string" and not bytes:match("^%x*$") then
      bytes = bytes:gsub(".", function(ch) return ("%02x"):format(ch:byte()) end)
    end
    slots[i] = { s.name or "?", s.type or "", int(s.addr), int(s.size), s.kind or "a", bytes or "",
                 s.value ~= nil and tostring(s.value) or nil }
  end
  return { f.name or "?", int(f.sp), int(f.fp), int(f.top), slots }
end

-- The JSON of the page's data, written straight: every table below the top
-- level is an array (json.null marks a hole), integers exactly.
local function encode(v, out)
  local t = type(v)
  if t == "table" then
    local n = #v
    out[#out + 1] = "["
    for i = 1, n do
      if i > 1 then out[#out + 1] = "," end
      encode(v[i], out)
    end
    out[#out + 1] = "]"
  elseif math.type(v) == "integer" then
    out[#out + 1] = v
  elseif t == "string" or t == "number" then
    out[#out + 1] = json.encode(v)
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  else
    out[#out + 1] = "null"
  end
  return out
end

-- A frame is kept once however often it is pushed: steps name it by number.
local function intern_frame(self, row)
  return intern(self.frames, self.frame_index, table.concat(encode(row, {})), row)
end

-- Whole free lists against the previous whole lists: {k, pre, suf, addr...}
-- per list that changed (k counts from 0).
local function diff_lists(prev, lists)
  local changes, now = {}, {}
  local ks = {}
  for k, l in pairs(lists) do if math.type(k) == "integer" then now[k - 1] = l; ks[k - 1] = true end end
  for k in pairs(prev) do ks[k] = true end
  local order = {}
  for k in pairs(ks) do order[#order + 1] = k end
  table.sort(order)
  for _, k in ipairs(order) do
    local p, c = prev[k] or {}, now[k] or {}
    local pre, suf = 0, 0
    while pre < #p and pre < #c and p[pre + 1] == c[pre + 1] do pre = pre + 1 end
    while suf < #p - pre and suf < #c - pre and p[#p - suf] == c[#c - suf] do suf = suf + 1 end
    if not (pre == #p and pre == #c) then
      local e = { k, pre, suf }
      table.move(c, pre + 1, #c - suf, 4, e)
      changes[#changes + 1] = e
    end
  end
  return changes, now
end

-- Trailing zero bytes are implied by the length: most values are small.
local function mem_entry(i, addr, hex)
  local trimmed = hex:gsub("0*$", "")
  if #trimmed % 2 == 1 then trimmed = trimmed .. "0" end
  if #trimmed == #hex then return { i, addr, hex } end
  return { i, addr, trimmed, #hex // 2 }
end

--- w:step(s) adds one step (see the header for its fields).
function Writer:step(s)
  local i = self.n + 1
  self.n = i
  local mn = int(s.machine) ~= 0 and s.machine or 1
  local col = self.col
  col.s[i] = shape_of(self, s)
  local args, a, n = s.args or {}, {}, 0
  for j in pairs(args) do if math.type(j) == "integer" and j > n then n = j end end
  for j = 1, n do
    local v = args[j]
    if v == nil then a[j] = json.null else a[j] = v end
  end
  col.a[i] = a
  if s.text then self.text[#self.text + 1] = { i, s.text } end
  if s.error then self.err[#self.err + 1] = { i, s.error } end
  local last = self.last[mn]
  if not last then last = { hb = -1, lists = {} }; self.last[mn] = last end
  if s.heap_bytes and s.heap_bytes ~= last.hb then
    last.hb = s.heap_bytes
    self.hb[#self.hb + 1] = { i, s.heap_bytes }
  end
  -- blocks: whole or as changes
  local removed, added = s.blocks_removed, s.blocks_added
  if s.blocks then removed, added, last.blocks = diff_blocks(last.blocks, s.blocks) end
  if removed and (#removed > 0 or #added > 0) then self.bl[#self.bl + 1] = { i, removed, added } end
  local changes = s.free_lists_changed
  if s.free_lists then changes, last.lists = diff_lists(last.lists, s.free_lists) end
  if changes and #changes > 0 then self.fl[#self.fl + 1] = { i, changes } end
  -- frames: whole (kept as the change against the last whole stack) or as changes
  local keep, push = s.frames_keep, nil
  if s.frames then
    local rows = {}
    for j, f in ipairs(s.frames) do rows[j] = intern_frame(self, frame_row(f)) end
    local prev = last.frames or {}
    keep = 0
    while keep < #prev and keep < #rows and prev[keep + 1] == rows[keep + 1] do keep = keep + 1 end
    push = table.move(rows, keep + 1, #rows, 1, {})
    last.frames = rows
    if keep == #prev and #push == 0 then keep = nil end
  elseif s.frames_push then
    push = {}
    for j, f in ipairs(s.frames_push) do push[j] = intern_frame(self, frame_row(f)) end
  end
  if keep then self.fr[#self.fr + 1] = { i, keep, push or {} } end
  for _, w in ipairs(s.memory or {}) do
    self.mem[#self.mem + 1] = mem_entry(i, w.addr, w.bytes)
  end
  local gone, new = s.l1_removed, s.l1_added
  if s.l1_lines then
    local now, prev = {}, last.l1 or {}
    gone, new = {}, {}
    for _, a in ipairs(s.l1_lines) do now[a] = true; if not prev[a] then new[#new + 1] = a end end
    for a in pairs(prev) do if not now[a] then gone[#gone + 1] = a end end
    table.sort(gone)
    table.sort(new)
    last.l1 = now
  end
  if gone and (#gone > 0 or #new > 0) then self.l1[#self.l1 + 1] = { i, gone, new } end
  if s.ops then
    local o = self.ops[mn]
    if not o then o = { steps = {}, ops = {} }; self.ops[mn] = o end
    o.steps[#o.steps + 1] = i
    o.ops[#o.ops + 1] = s.ops
  end
  return i
end

--- w:finding{step = i | (machine = n, op = k), kind, addr, message}: a
--- checker finding, placed at its step (the engine's op number k is the
--- op-th operation of machine n, found among the recorded steps).
function Writer:finding(f)
  local step = f.step
  if not step and f.op then
    local o = self.ops[f.machine or 1]
    if o then                                 -- the first step whose op count passes f.op
      local lo, hi = 1, #o.ops
      while lo < hi do
        local mid = (lo + hi) // 2
        if o.ops[mid] > f.op then hi = mid else lo = mid + 1 end
      end
      if lo <= #o.ops and o.ops[lo] > f.op then step = o.steps[lo]
      else                    -- found at the end (a leak): the last step, unless steps were cut
        local cut = self.run_note and self.run_note.total > self.run_note.recorded
        if #o.ops > 0 and not cut then step = o.steps[#o.ops] end
      end
    end
  end
  self.findings[#self.findings + 1] = { step = step or json.null, kind = f.kind or "?",
                                        addr = f.addr or json.null, message = f.message or "",
                                        machine = f.machine or 1 }
end

--- w:note{recorded = n, total = m}: the run went on after the steps kept.
function Writer:note(n)
  self.run_note = n
end

M.null = json.null

local function put_hex(mem, addr, h, len)
  for j = 1, #h - 1, 2 do mem[addr + (j - 1) // 2] = tonumber(h:sub(j, j + 1), 16) end
  for j = #h // 2, (len or 0) - 1 do mem[addr + j] = 0 end
end

--- w:state_at(i) -> the state of step i's machine after step i:
--- {machine, blocks = {{addr, size, payload, requested}...} in address order,
--- frames = {{name, sp, fp, top, slots}...} bottom first, mem = {[addr] = byte},
--- lists = {{k, {addr...}}...} or nil, heap_bytes}
function Writer:state_at(i)
  local shapes, s = self.shapes, self.col.s
  local mn = shapes[s[i]][1]
  local function mine(j) return j <= i and shapes[s[j]][1] == mn end
  local byaddr, frames, mem, lists, hb = {}, {}, {}, nil, 0
  for _, e in ipairs(self.bl) do
    if mine(e[1]) then
      for _, a in ipairs(e[2]) do byaddr[a] = nil end
      for k = 1, #e[3], 4 do byaddr[e[3][k]] = { e[3][k], e[3][k + 1], e[3][k + 2], e[3][k + 3] } end
    end
  end
  for _, e in ipairs(self.hb) do if mine(e[1]) then hb = e[2] end end
  for _, e in ipairs(self.fl) do
    if mine(e[1]) then
      lists = lists or {}
      for _, c in ipairs(e[2]) do
        local old, new = lists[c[1]] or {}, {}
        table.move(old, 1, c[2], 1, new)
        table.move(c, 4, #c, #new + 1, new)
        table.move(old, #old - c[3] + 1, #old, #new + 1, new)
        lists[c[1]] = #new > 0 and new or nil
      end
    end
  end
  if lists then
    local l = {}
    for k, addrs in pairs(lists) do l[#l + 1] = { k, addrs } end
    table.sort(l, function(x, y) return x[1] < y[1] end)
    lists = l
  end
  -- frames and memory in step order: a pushed frame's slot bytes, then later writes
  local fi, mi = 1, 1
  for j = 1, i do
    while self.fr[fi] and self.fr[fi][1] == j do
      local e = self.fr[fi]
      if mine(j) then
        frames = table.move(frames, 1, e[2], 1, {})
        for _, k in ipairs(e[3]) do
          local f = self.frames[k]
          frames[#frames + 1] = f
          for _, sl in ipairs(f[5]) do put_hex(mem, sl[3], sl[6]) end
        end
      end
      fi = fi + 1
    end
    while self.mem[mi] and self.mem[mi][1] == j do
      local e = self.mem[mi]
      if mine(j) then put_hex(mem, e[2], e[3], e[4]) end
      mi = mi + 1
    end
  end
  local blocks = {}
  for _, b in pairs(byaddr) do blocks[#blocks + 1] = b end
  table.sort(blocks, function(a, b) return a[1] < b[1] end)
  return { machine = mn, blocks = blocks, frames = frames, mem = mem, lists = lists, heap_bytes = hb }
end

--- w:json() -> the page's data as JSON text: the compact form the viewer reads
--- (docs/REPORTS.md describes it).
function Writer:json()
  local big = {
    s = self.col.s, a = self.col.a, text = self.text, hb = self.hb, bl = self.bl,
    fl = self.fl, fr = self.fr, frames = self.frames, mem = self.mem, err = self.err, l1 = self.l1,
    shapes = self.shapes, kinds = self.kinds,
  }
  local small = {
    v = 1, title = self.title, source = self.source or json.null, n = self.n,
    machines = json.array(self.machines), findings = json.array(self.findings),
    note = self.run_note or json.null,
  }
  -- sparse lists ({step, ...} rows in step order) carry the step as the
  -- difference from the row before: a few digits instead of six
  for _, k in ipairs{ "text", "hb", "bl", "fl", "fr", "mem", "err", "l1" } do
    local list, prev, d = big[k], 0, {}
    for j, e in ipairs(list) do
      local row = table.move(e, 1, #e, 1, {})
      row[1] = e[1] - prev
      prev = e[1]
      d[j] = row
    end
    big[k] = d
  end
  local keys = {}
  for k in pairs(big) do keys[#keys + 1] = k end
  for k in pairs(small) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = { "{" }
  for j, k in ipairs(keys) do
    if j > 1 then out[#out + 1] = "," end
    out[#out + 1] = json.encode(k) .. ":"
    if big[k] then encode(big[k], out) else out[#out + 1] = json.encode(small[k]) end
  end
  out[#out + 1] = "}"
  return table.concat(out)
end

-- The page's parts live beside this file: report/view.css, view.js, page.html.
local function asset(name)
  local here = package.searchpath("stackheap.report", package.path)
  if not here then error("report: cannot find the stackheap scripts", 0) end
  local path = here:gsub("report%.lua$", "report/" .. name)
  local f, err = io.open(path, "rb")
  if not f then error("report: " .. err, 0) end
  local text = f:read("a")
  f:close()
  return text
end

local function escape_html(s)
  return (tostring(s):gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
                                        ['"'] = "&quot;" }))
end
M.escape_html = escape_html

--- w:page() -> the HTML text
function Writer:page()
  local data = self:json():gsub("</", "<\\/")
  local page = asset("page.html")
  local parts = { TITLE = escape_html(self.title), CSS = asset("view.css"),
                  JS = asset("view.js"), DATA = data }
  return (page:gsub("@@(%u+)@@", function(k) return parts[k] end))
end

local function write_file(path, text)
  local f, err = io.open(path, "wb")
  if not f then return nil, err end
  local ok, werr = f:write(text)
  f:close()
  if not ok then return nil, werr end
  return true
end
M.write_file = write_file

--- w:html(path) -> true | nil, msg
function Writer:html(path)
  return write_file(path, self:page())
end

--- report.html(data, path): the same from a table {title, source, machines =
--- {[n] = info}, steps = {...}, findings = {...}}.
function M.html(data, path)
  local w = M.new(data)
  local ns = {}
  for n in pairs(data.machines or {}) do ns[#ns + 1] = n end
  table.sort(ns)
  for _, n in ipairs(ns) do w:machine(n, data.machines[n]) end
  for _, s in ipairs(data.steps or {}) do w:step(s) end
  for _, f in ipairs(data.findings or {}) do w:finding(f) end
  return w:html(path)
end

return M
