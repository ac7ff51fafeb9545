-- stack_vs_heap.lua: the seed's claims about the stack and the heap, with numbers.
-- The same values kept in stack slots, then boxed on the heap; then a heap that has to search.
local sh = require "stackheap"
local fmt = require "stackheap.format"

local N = tonumber(arg and arg[1]) or 1000
local m = sh.machine{ heap = { policy = "first_fit" } }

print(("stackheap %s -- stack vs. heap, %d calls each"):format(sh._VERSION:match("%S+$"), N))
print()

-- 1. Three values in the slots of a frame: push, store, load, pop.
local on_stack = m:measure(function()
  for i = 1, N do
    local f <close> = m:call("add3", "a: i64, b: i64, c: i64, sum: i64")
    f.a, f.b, f.c = i, 2 * i, 3 * i
    f.sum = f.a + f.b + f.c
  end
end)

-- 2. The same three values boxed: the frame holds pointers (Box<i64>), each
--    value lives in a heap block that must be allocated, reached and freed.
local on_heap = m:measure(function()
  for i = 1, N do
    local f <close> = m:call("add3_boxed", "a: Box<i64>, b: Box<i64>, c: Box<i64>, sum: i64")
    f.a, f.b, f.c = m:alloc(8), m:alloc(8), m:alloc(8)
    m:store(f.a, i); m:store(f.b, 2 * i); m:store(f.c, 3 * i)
    f.sum = m:load(f.a) + m:load(f.b) + m:load(f.c)   -- follow each pointer
    m:free(f.a); m:free(f.b); m:free(f.c)
  end
end)

local function row(name, s)
  return { name, s.cycles, s.cycles / N, s.loads / N, s.stores / N, s.heap.allocs / N,
           s.heap.searched / N }
end
print(fmt.table({ row("values in slots", on_stack), row("values boxed on the heap", on_heap) },
  { headers = { "per call of add3", "cycles", "per call", "loads", "stores", "allocs", "searched" } }))
print()
print(("Boxing costs %.1fx the cycles: every value needs an allocation and a free, and every read"
  .. " first loads the pointer from the frame, then follows it."):format(on_heap.cycles / on_stack.cycles))
print()
print("Where the cycles of the boxed version went:")
print(fmt.costs(on_heap))
print()

-- 3. "The allocator must first find a big enough space": leave small holes in
--    front of the heap and ask for something bigger than any of them.
print("Allocating 256 bytes when the heap has small holes in front (first fit, address order):")
local rows = {}
for _, holes in ipairs{ 0, 10, 100, 1000 } do
  local h = sh.machine()
  local small = {}
  for i = 1, holes do
    small[i] = h:alloc(16)
    h:alloc(16)                -- a neighbour that stays, so the hole cannot coalesce
  end
  for i = 1, holes do h:free(small[i]) end
  local cost = h:measure(function() h:alloc(256) end)
  rows[#rows + 1] = { holes, cost.heap.searched, cost.cycles, cost.cost.alloc + cost.cost.meta }
end
print(fmt.table(rows, { headers = { "free holes", "blocks searched", "cycles", "allocator cycles" } }))
print()

-- 4. Pushing never searches: the new frame always goes at the top.
local push = m:measure(function() m:call("f", "x: [u8; 256]"); m:ret() end)
print(("Pushing a 256-byte frame, for comparison: %d cycles, no search, whatever the stack holds.")
  :format(push.cycles))
