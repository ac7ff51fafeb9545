-- locality.lua: "a processor can do its job better if it works on data that's close to
-- other data".  The same sum over a million integers, stored three ways, with the cache's bill.
local sh = require "stackheap"
local fmt = require "stackheap.format"

local N = tonumber(arg and arg[1]) or 1000000
local NODE = "struct Node { value: i64, next: *mut Node }"   -- 16 bytes: value at 0, next at 8

local function machine()
  -- the default hierarchy: 32 KiB L1 (4 cycles), 1 MiB L2 (14), memory (200)
  return sh.machine{ heap = { size = 1 << 20, extend = 1 << 20 } }
end

-- What a walk cost, measured from an empty cache (as after a long while elsewhere).
local function walk(m, fn)
  m:cache_flush()
  local cost, sum = m:measure(fn)
  local c = cost.cache
  return { cycles = cost.cycles, loads = cost.loads, sum = sum, l1 = c.L1.misses,
           l2 = c.L2.misses, heap = m:stats().heap.heap_bytes }
end

local results = {}

-- 1. An array: one heap block, the integers side by side, eight to a line.
do
  local m = machine()
  local a = m:alloc(8 * N)
  for i = 1, N do m:store(a + 8 * (i - 1), i) end
  results[1] = walk(m, function() return m:sweep(a, N, 8, 8) end)
  results[1].name = "array in one block"
end

-- 2. A linked list whose nodes were allocated one after another on a quiet
--    heap: first fit puts each right after the last, so the list is laid
--    out in order and a line holds two nodes (32-byte blocks).
local m = machine()
local function build(place)
  local head, prev = 0, nil
  for i = 1, N do
    local p = place(i)
    m:store(p, i)
    if prev then m:store(prev + 8, p) else head = p end
    prev = p
  end
  m:store(prev + 8, 0)
  return head
end
local old = {}
local head = build(function(i) old[i] = m:alloc(16); return old[i] end)
results[2] = walk(m, function() return (m:chase(head, 8, N, 0, 8)) end)
results[2].name = "list, allocated in order"

-- 3. The program builds the list again while it drops the old one, node by
--    node in no particular order.  Each new node goes into the hole the
--    last free left (first fit: the lowest free block that fits), so
--    consecutive nodes end up anywhere in the heap.
local x = 12345                                 -- a fixed shuffle: the same run every time
for i = N, 2, -1 do
  x = (x * 1103515245 + 12345) % 2147483648
  local j = x % i + 1
  old[i], old[j] = old[j], old[i]
end
head = build(function(i) m:free(old[i]); return m:alloc(16) end)
results[3] = walk(m, function() return (m:chase(head, 8, N, 0, 8)) end)
results[3].name = "list, scattered by a busy heap"

print(("stackheap %s -- locality: summing %d integers (%s)"):format(
  sh._VERSION:match("%S+$"), N, NODE))
print()
local rows = {}
for _, r in ipairs(results) do
  assert(r.sum == N * (N + 1) // 2, "the sums must agree")
  rows[#rows + 1] = { r.name, r.cycles, ("%.1f"):format(r.cycles / N), r.loads, r.l1, r.l2 }
end
print(fmt.table(rows, { headers = { "how the integers are stored", "cycles", "per integer",
                                    "loads", "L1 misses", "L2 misses" } }))
print()
local a, l, s = results[1], results[2], results[3]
print(("The array: one load an integer, and a line of 64 bytes brings eight of them, so one load"
  .. " in eight goes to memory (%d L2 misses for %d integers)."):format(a.l2, N))
print(("The list in order: two loads a node (the value, then the pointer to follow), two nodes a"
  .. " line: %.1fx the array's cycles."):format(l.cycles / a.cycles))
print(("The scattered list: the same loads, but every next node is somewhere else in a %d MiB"
  .. " heap, so nearly every node is a trip to memory: %.1fx the array, %.1fx the ordered list.")
  :format(s.heap >> 20, s.cycles / a.cycles, s.cycles / l.cycles))
print()
print("The waiter of the seed: take every order at one table (the array) before walking to the"
  .. " next; following pointers around a fragmented heap is walking A, B, A, B all evening.")
