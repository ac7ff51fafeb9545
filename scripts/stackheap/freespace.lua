-- stackheap.freespace: the free-list allocator of OSTEP's free-space homework (malloc.py),
-- rule for rule, so its answers can be reproduced, explained and drawn step by step.
--
-- The rules students' answers depend on (docs/COMPAT.md has the whole list):
-- a request is rounded up to the alignment and then the header is added,
-- unaligned; the list is searched in its current order, every entry examined
-- counted; best and worst fit scan the whole list and keep the first of equal
-- candidates; the caller gets the low end of a split chunk and the remainder
-- keeps the chunk's place in the list (so a size-sorted list can fall out of
-- order); a free appends and sorts stably (or inserts at the front or back);
-- coalescing is one pass merging list neighbours that touch by address; a
-- failed allocation changes nothing.
local M = {}

M.POLICIES = { "BEST", "WORST", "FIRST" }
M.ORDERS = { "ADDRSORT", "SIZESORT+", "SIZESORT-", "INSERT-FRONT", "INSERT-BACK" }

local Heap = {}
Heap.__index = Heap

local function member(list, v)
  for _, x in ipairs(list) do if x == v then return true end end
  return false
end

--- freespace.new{size, base, header, align (-1: none), policy, order, coalesce}
function M.new(opts)
  if not member(M.POLICIES, opts.policy) then
    error(("freespace: policy must be one of %s, got '%s'")
      :format(table.concat(M.POLICIES, ", "), tostring(opts.policy)), 2)
  end
  if not member(M.ORDERS, opts.order) then
    error(("freespace: order must be one of %s, got '%s'")
      :format(table.concat(M.ORDERS, ", "), tostring(opts.order)), 2)
  end
  if opts.align ~= -1 and opts.align < 1 then
    error(("freespace: align must be -1 (none) or positive, got %d"):format(opts.align), 2)
  end
  return setmetatable({
    size = opts.size, header = opts.header, align = opts.align,
    policy = opts.policy, order = opts.order, coalesce = opts.coalesce and true or false,
    list = { { addr = opts.base, size = opts.size } },  -- the free list, in its order
    sizes = {},                                          -- live block address -> size
  }, Heap)
end

--- heap:request(size) -> the bytes the search looks for: the size rounded up
--- to the alignment, plus the header (not aligned).
function Heap:request(size)
  if self.align ~= -1 then
    local left = size % self.align
    if left ~= 0 then size = size + self.align - left end
  end
  return size + self.header
end

-- Does entry e beat the best so far (size best) under the policy?
local BETTER = {
  FIRST = function() return true end,
  BEST = function(esize, best) return esize < best end,
  WORST = function(esize, best) return esize > best end,
}

--- heap:malloc(size) -> block address (-1 when nothing fits), entries
--- searched, and what happened: {request, examined = {{addr, size, fits,
--- better}...}, chosen (list index or nil), split (bool)}.
--- A block whose address is still live (a zero-size block shares its
--- address with the free chunk it came from) is refused with nil and that
--- address, the heap unchanged: malloc.py stops with an AssertionError there.
function Heap:malloc(size)
  local need = self:request(size)
  local better = BETTER[self.policy]
  -- malloc.py's starting "best": above any chunk for best fit, below for worst.
  local best = self.policy == "BEST" and self.size + 1 or -1
  local chosen
  local examined = {}
  for i, e in ipairs(self.list) do
    local fits = e.size >= need
    local wins = fits and better(e.size, best)
    examined[#examined + 1] = { addr = e.addr, size = e.size, fits = fits, wins = wins }
    if wins then
      chosen, best = i, e.size
      if self.policy == "FIRST" then break end
    end
  end
  local info = { size = size, request = need, examined = examined, chosen = chosen }
  if not chosen then return -1, #examined, info end
  local e = self.list[chosen]
  if self.sizes[e.addr] then return nil, e.addr end
  if e.size > need then
    self.list[chosen] = { addr = e.addr + need, size = e.size - need }
    info.split = true
  else
    table.remove(self.list, chosen)
  end
  self.sizes[e.addr] = need
  return e.addr, #examined, info
end

-- Python's sorted(): stable, so equal keys keep their list order.
local function stable_sort(list, key, descending)
  for i, e in ipairs(list) do e.pos = i end
  table.sort(list, function(a, b)
    local ka, kb = a[key], b[key]
    if ka ~= kb then
      if descending then return ka > kb end
      return ka < kb
    end
    return a.pos < b.pos
  end)
  for _, e in ipairs(list) do e.pos = nil end
end

local PLACE = {
  ["INSERT-BACK"] = function(list, e) list[#list + 1] = e end,
  ["INSERT-FRONT"] = function(list, e) table.insert(list, 1, e) end,
  ADDRSORT = function(list, e) list[#list + 1] = e; stable_sort(list, "addr") end,
  ["SIZESORT+"] = function(list, e) list[#list + 1] = e; stable_sort(list, "size") end,
  ["SIZESORT-"] = function(list, e) list[#list + 1] = e; stable_sort(list, "size", true) end,
}

--- heap:free(addr) -> 0, or -1 when addr is not a live block (nothing changes).
--- The second result counts the merges coalescing made.
function Heap:free(addr)
  local size = self.sizes[addr]
  if not size then return -1, 0 end
  PLACE[self.order](self.list, { addr = addr, size = size })
  local merges = 0
  if self.coalesce then
    -- One pass: an entry that starts where the previous (merged) one ends
    -- joins it; neighbours in address that are apart in the list stay apart.
    local out, cur = {}, self.list[1]
    for i = 2, #self.list do
      local e = self.list[i]
      if e.addr == cur.addr + cur.size then
        cur = { addr = cur.addr, size = cur.size + e.size }
        merges = merges + 1
      else
        out[#out + 1] = cur
        cur = e
      end
    end
    out[#out + 1] = cur
    self.list = out
  end
  self.sizes[addr] = nil
  return 0, merges
end

--- heap:free_list() -> a copy of the free list in its order: {{addr, size}...}
function Heap:free_list()
  local out = {}
  for i, e in ipairs(self.list) do out[i] = { addr = e.addr, size = e.size } end
  return out
end

--- heap:used() -> the live blocks in address order: {{addr, size}...}
function Heap:used()
  local out = {}
  for addr, size in pairs(self.sizes) do out[#out + 1] = { addr = addr, size = size } end
  table.sort(out, function(a, b) return a.addr < b.addr end)
  return out
end

return M
