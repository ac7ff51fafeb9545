-- implicit.lua: the CS:APP textbook allocator (mm.c, section 9.9.12) written as a
-- stackheap policy: an implicit free list with boundary tags, first fit, immediate coalescing.
--
-- Every block carries a 4-byte header and a 4-byte footer holding its size
-- with the low bit set while it is allocated.  The heap starts with a padding
-- word, an 8-byte prologue block and an epilogue header, so the walk and the
-- coalescing never need a special case at either end.  Payloads are 8-byte
-- aligned: use it on a machine made with heap = {policy = P, align = 8}.
-- It places exactly as the built-in policy csapp_implicit does.
local sh = require "stackheap"

local WSIZE, DSIZE = 4, 8         -- a tag; the alignment
local CHUNK = 4096                -- grow the heap by at least this much

-- The tags live in simulated memory, so every read and write below is
-- priced by the cache model like the C allocator's would be.
local function get(heap, p) return heap:load(p, WSIZE) end
local function put(heap, p, v) heap:store(p, v, WSIZE) end
local function size_at(heap, p) return get(heap, p) & ~7 end
local function alloc_at(heap, p) return get(heap, p) & 1 end

-- bp is a payload address: its header is just below it, its footer at its end.
local function hdrp(bp) return bp - WSIZE end
local function ftrp(heap, bp) return bp + size_at(heap, hdrp(bp)) - DSIZE end
local function next_blkp(heap, bp) return bp + size_at(heap, bp - WSIZE) end
local function prev_blkp(heap, bp) return bp - size_at(heap, bp - DSIZE) end

local function coalesce(heap, bp)
  local prev_alloc = alloc_at(heap, ftrp(heap, prev_blkp(heap, bp)))
  local next_alloc = alloc_at(heap, hdrp(next_blkp(heap, bp)))
  local size = size_at(heap, hdrp(bp))
  if prev_alloc == 1 and next_alloc == 1 then
    return bp
  elseif prev_alloc == 1 then                       -- merge with the next block
    size = size + size_at(heap, hdrp(next_blkp(heap, bp)))
    put(heap, hdrp(bp), size)
    put(heap, ftrp(heap, bp), size)
  elseif next_alloc == 1 then                       -- merge with the previous block
    size = size + size_at(heap, hdrp(prev_blkp(heap, bp)))
    put(heap, ftrp(heap, bp), size)
    put(heap, hdrp(prev_blkp(heap, bp)), size)
    bp = prev_blkp(heap, bp)
  else                                              -- both neighbours are free
    size = size + size_at(heap, hdrp(prev_blkp(heap, bp))) + size_at(heap, ftrp(heap, next_blkp(heap, bp)))
    put(heap, hdrp(prev_blkp(heap, bp)), size)
    put(heap, ftrp(heap, next_blkp(heap, bp)), size)
    bp = prev_blkp(heap, bp)
  end
  return bp
end

-- The old epilogue header becomes the new block's header; a new epilogue
-- goes at the end.  nil when the heap may not grow.
local function extend_heap(heap, bytes)
  local bp = heap:sbrk(bytes)
  if not bp then return nil end
  put(heap, hdrp(bp), bytes)
  put(heap, ftrp(heap, bp), bytes)
  put(heap, hdrp(next_blkp(heap, bp)), 1)
  return coalesce(heap, bp)
end

-- Allocate asize bytes at the start of free block bp; split off the rest
-- when it can be a block of its own.
local function place(heap, bp, asize)
  local csize = size_at(heap, hdrp(bp))
  if csize - asize >= 2 * DSIZE then
    put(heap, hdrp(bp), asize | 1)
    put(heap, ftrp(heap, bp), asize | 1)
    bp = next_blkp(heap, bp)
    put(heap, hdrp(bp), csize - asize)
    put(heap, ftrp(heap, bp), csize - asize)
  else
    put(heap, hdrp(bp), csize | 1)
    put(heap, ftrp(heap, bp), csize | 1)
  end
end

-- First fit: walk every block from the prologue, allocated ones too.
local function find_fit(heap, asize)
  local base = heap:bounds()
  local bp = base + 2 * WSIZE
  while size_at(heap, hdrp(bp)) > 0 do
    heap:step(1)
    if alloc_at(heap, hdrp(bp)) == 0 and asize <= size_at(heap, hdrp(bp)) then return bp end
    bp = next_blkp(heap, bp)
  end
  return nil
end

return sh.policy{
  name = "implicit (CS:APP)",

  init = function(heap)
    local start = heap:sbrk(4 * WSIZE)
    put(heap, start, 0)                             -- alignment padding
    put(heap, start + WSIZE, DSIZE | 1)             -- prologue header
    put(heap, start + 2 * WSIZE, DSIZE | 1)         -- prologue footer
    put(heap, start + 3 * WSIZE, 1)                 -- epilogue header
    assert(extend_heap(heap, CHUNK), "init: no room for the first chunk")
  end,

  alloc = function(heap, size)
    -- room for the tags, rounded up to the alignment; at least 16 bytes
    local asize = size <= DSIZE and 2 * DSIZE or DSIZE * ((size + DSIZE + DSIZE - 1) // DSIZE)
    local bp = find_fit(heap, asize)
    if not bp then
      bp = extend_heap(heap, math.max(asize, CHUNK))
      if not bp then return nil end
    end
    place(heap, bp, asize)
    return bp
  end,

  free = function(heap, bp)
    local size = size_at(heap, hdrp(bp))
    put(heap, hdrp(bp), size)
    put(heap, ftrp(heap, bp), size)
    coalesce(heap, bp)
  end,
  -- no realloc: the machine's own (allocate, copy, free) is the textbook's
}
