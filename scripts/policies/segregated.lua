-- segregated.lua: segregated free lists -- one explicit LIFO list per size class, classes by
-- powers of two -- with first fit inside a class, immediate coalescing.
--
-- A free block of size s belongs to class k, the smallest with s <= 2^k; a
-- request searches its own class, then each larger non-empty one.  The
-- machine's heap keys size the blocks (header, align, min_block, split_min,
-- extend).  It places exactly as the built-in segregated policy with
-- order = "lifo" does (docs/POLICIES.md).  Compare explicit.lua: the same
-- blocks and tags, one list instead of many.  The two repeat their block
-- helpers on purpose: a policy (and a graded submission) is one file.
--
-- A block is [header][payload...]; its 4-byte tag sits just below the
-- payload: size | prev_alloc << 1 | alloc.  Allocated blocks need no footer
-- (the next block's prev_alloc bit says they are in use); a free block
-- stores 4-byte next and prev links at the start of its payload and its
-- size in its last 4 bytes, so its right neighbour can find its start.
local sh = require "stackheap"

local state = setmetatable({}, { __mode = "k" })   -- per heap: this policy's few variables

local function up(x, a) return (x + a - 1) // a * a end

-- The class of a block of `size` bytes: the smallest k with size <= 2^k.
local function class_of(size)
  local k = 0
  while (1 << k) < size do k = k + 1 end
  return k
end

-- ---- tags ----
local function tag_at(s, b) return b + s.H - 4 end
local function read_tag(heap, s, b) return heap:load(tag_at(s, b), 4) end
local function size_of(heap, s, b) return read_tag(heap, s, b) & ~7 end
local function write_tag(heap, s, b, size, alloc, prev_alloc)
  heap:store(tag_at(s, b), size | (prev_alloc and 2 or 0) | (alloc and 1 or 0), 4)
  if not alloc then heap:store(b + size - 4, size, 4) end      -- the footer
end

-- Tell the block after [b, b+size) whether its left neighbour is in use.
-- The last block has no right neighbour: the state remembers it instead.
local function set_prev_alloc(heap, s, nb, alloc)
  if nb >= s.stop then s.last_alloc = alloc; return end
  local t = read_tag(heap, s, nb)
  heap:store(tag_at(s, nb), alloc and (t | 2) or (t & ~2), 4)
end

-- ---- the lists, threaded through the free blocks ----
-- Class k's list starts at s.heads[k] (0: empty); links are 4-byte addresses.
local function next_of(heap, s, b) return heap:load(b + s.H, 4) end
local function prev_of(heap, s, b) return heap:load(b + s.H + 4, 4) end
local function set_next(heap, s, k, b, v) if b == 0 then s.heads[k] = v else heap:store(b + s.H, v, 4) end end
local function set_prev(heap, s, b, v) if b ~= 0 then heap:store(b + s.H + 4, v, 4) end end

local function unlink(heap, s, b)
  local k = class_of(size_of(heap, s, b))
  local n, p = next_of(heap, s, b), prev_of(heap, s, b)
  set_next(heap, s, k, p, n)
  set_prev(heap, s, n, p)
end

-- At the head of its class's list.
local function insert(heap, s, b)
  local k = class_of(size_of(heap, s, b))
  local n = s.heads[k] or 0
  heap:store(b + s.H, n, 4)
  heap:store(b + s.H + 4, 0, 4)
  s.heads[k] = b
  set_prev(heap, s, n, b)
end

-- A new free block [b, b+size), neighbours already merged in.
local function add_free(heap, s, b, size, prev_alloc)
  write_tag(heap, s, b, size, false, prev_alloc)
  set_prev_alloc(heap, s, b + size, false)
  insert(heap, s, b)
end

-- ---- growing: as the built-in does, so the heap sizes agree ----
local function grow(heap, s, need)
  local tail, have = nil, 0
  if not s.last_alloc then                 -- a free block ends the heap: count it
    have = heap:load(s.stop - 4, 4)
    tail = s.stop - have
  end
  local _, brk = heap:bounds()
  local target = s.stop + (need - have) + s.A
  local g = target > brk and target - brk or 0
  local ok = (s.extend > 0 and heap:sbrk(up(g, s.extend))) or heap:sbrk(g)
  if not ok then return nil end
  _, brk = heap:bounds()
  local gridend = up(brk + s.H + 1, s.A) - s.A - s.H
  local b, size, prev_alloc = s.stop, gridend - s.stop, s.last_alloc
  s.stop = gridend
  if tail then
    unlink(heap, s, tail)
    prev_alloc = read_tag(heap, s, tail) & 2 ~= 0
    b, size = tail, size + have
  end
  s.last_alloc = true                      -- add_free says otherwise
  add_free(heap, s, b, size, prev_alloc)
  return b
end

-- ---- the policy ----
local function alloc(heap, n, align)
  local s = state[heap]
  if align > s.A then return nil end     -- over-aligned requests: not in this lab
  local bs = math.max(up(s.H + math.max(n, 1) + s.footer, s.A), s.MB)
  -- first fit in the request's class, then in each larger non-empty one,
  -- counting every block looked at
  local b, steps, k = 0, 0, class_of(bs)
  while b == 0 and k < 64 do
    b = s.heads[k] or 0
    while b ~= 0 do
      steps = steps + 1
      if size_of(heap, s, b) >= bs then break end
      b = next_of(heap, s, b)
    end
    k = k + 1
  end
  heap:step(steps)
  if b == 0 then
    b = grow(heap, s, bs)
    if not b then return nil end
  end
  local tag = read_tag(heap, s, b)
  local size, prev_alloc = tag & ~7, tag & 2 ~= 0
  if size - bs >= s.split and class_of(size - bs) == class_of(size) then
    -- split: the remainder takes the block's place in its class's list
    local r, p, nx = b + bs, prev_of(heap, s, b), next_of(heap, s, b)
    write_tag(heap, s, r, size - bs, false, true)
    heap:store(r + s.H, nx, 4)
    heap:store(r + s.H + 4, p, 4)
    set_next(heap, s, class_of(size), p, r)
    set_prev(heap, s, nx, r)
    size = bs
  elseif size - bs >= s.split then
    -- the remainder belongs to a smaller class: it moves to that list's head
    unlink(heap, s, b)
    write_tag(heap, s, b + bs, size - bs, false, true)
    insert(heap, s, b + bs)
    size = bs
  else
    unlink(heap, s, b)
    set_prev_alloc(heap, s, b + size, true)
  end
  write_tag(heap, s, b, size, true, prev_alloc)
  return b + s.H
end

local function free(heap, p)
  local s = state[heap]
  local b = p - s.H
  local tag = read_tag(heap, s, b)
  local size, prev_alloc = tag & ~7, tag & 2 ~= 0
  local nb = b + size
  if nb < s.stop and read_tag(heap, s, nb) & 1 == 0 then    -- merge the next block
    unlink(heap, s, nb)
    size = size + size_of(heap, s, nb)
  end
  if not prev_alloc then                                     -- merge the previous one
    local psize = heap:load(b - 4, 4)
    b = b - psize
    unlink(heap, s, b)
    size = size + psize
    prev_alloc = read_tag(heap, s, b) & 2 ~= 0
  end
  add_free(heap, s, b, size, prev_alloc)
end

-- realloc as the built-in fits do it: shrink in place (the tail freed when
-- it can be a block), grow into a free next block when it is big enough,
-- else move: a new block, the payload copied, the old block freed.
local function realloc(heap, p, n)
  local s = state[heap]
  local b = p - s.H
  local tag = read_tag(heap, s, b)
  local size, prev_alloc = tag & ~7, tag & 2 ~= 0
  local bs = math.max(up(s.H + math.max(n, 1) + s.footer, s.A), s.MB)
  local total = size
  if bs > size then
    local nb = b + size
    if nb >= s.stop or read_tag(heap, s, nb) & 1 == 1 or size + size_of(heap, s, nb) < bs then
      local q = alloc(heap, n, s.A)
      if not q then return nil end
      heap:copy(q, p, math.min(n, size - s.H))
      free(heap, p)
      return q
    end
    total = size + size_of(heap, s, nb)
    unlink(heap, s, nb)
    set_prev_alloc(heap, s, b + total, true)
  end
  if total > bs and total - bs >= s.split then
    -- the tail becomes a used block for a moment, then is freed (and merged)
    write_tag(heap, s, b + bs, total - bs, true, true)
    free(heap, b + bs + s.H)
    total = bs
  end
  write_tag(heap, s, b, total, true, prev_alloc)
  return p
end

return sh.policy{
  name = "segregated lists",

  init = function(heap)
    local c = heap:config()
    assert((c.order or "lifo") == "lifo", "segregated: each class is a LIFO list; order must be lifo")
    assert(c.header >= 4 and c.min_block >= c.header + 12,
      "segregated: needs header >= 4 and min_block >= header + 12")
    local base, brk = heap:bounds()
    local s = { H = c.header, A = c.align, MB = c.min_block, extend = c.extend,
                split = math.max(c.min_block, c.split_min), footer = c.footer,
                heads = {}, last_alloc = true }
    s.start = up(base + s.H, s.A) - s.H
    s.stop = s.start
    local gridend = up(brk + s.H + 1, s.A) - s.A - s.H
    if gridend > s.start and gridend - s.start >= s.MB then
      s.stop = gridend
      add_free(heap, s, s.start, gridend - s.start, true)
    end
    state[heap] = s
  end,

  alloc = alloc,
  free = free,
  realloc = realloc,
}
