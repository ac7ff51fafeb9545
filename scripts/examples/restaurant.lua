-- restaurant.lua: the seed's restaurant, run on the machine.  Groups state their size,
-- the staff (the allocator) find a table that fits; latecomers ask the host where to go.
local sh = require "stackheap"
local fmt = require "stackheap.format"

local SEAT = 16     -- bytes per guest: the heap's unit of "room at a table"
local m = sh.machine{ heap = { size = 512, extend = 256, max = 4096 } }

-- The host's notebook is a stack frame: a fixed-size record per group,
-- each holding a pointer to where the group sits (Box<[u8]> is a pointer
-- and a length: the size is known, so it fits in a slot).
local host <close> = m:call("host", [[
  smiths: Box<[u8]>, lees: Box<[u8]>, garcias: Box<[u8]>, patels: Box<[u8]>, nguyens: Box<[u8]>
]])

local seated = {}   -- payload address -> group name, for the floor plan

local function floor_plan()
  local rows = {}
  for b in m:blocks() do
    rows[#rows + 1] = { fmt.hex(b.addr), b.size, b.state == "used" and seated[b.payload] or "(empty)",
                        b.state == "used" and b.requested // SEAT or "" }
  end
  print(fmt.table(rows, { headers = { "table at", "bytes", "group", "guests" } }))
  print()
end

local function arrive(name, guests)
  local cost, addr = m:measure(function() return m:alloc(guests * SEAT) end)
  if not addr then
    print(("The %s (%d) arrive: no room at all -- %s."):format(name, guests, "out of memory"))
    return
  end
  seated[addr] = name
  host[name] = { ptr = addr, len = guests * SEAT }
  print(("The %s, a group of %d, are seated at %s: the staff looked at %d table%s%s (%d cycles)."):format(
    name, guests, fmt.hex(addr), cost.heap.searched, cost.heap.searched == 1 and "" or "s",
    cost.heap.grows > 0 and " and had to set up a new one at the back" or "", cost.cycles))
end

local function leave(name)
  local at = host[name].ptr
  m:free(at)
  seated[at] = nil
  host[name] = { ptr = 0, len = 0 }
  print(("The %s leave; their table at %s is free again."):format(name, fmt.hex(at)))
end

print("Opening: the floor is one long empty table.")
floor_plan()

arrive("smiths", 4)
arrive("lees", 2)
arrive("garcias", 6)
floor_plan()

leave("lees")
arrive("patels", 2)          -- first fit: the Lees' old table is the first that fits
arrive("nguyens", 20)        -- nothing free is big enough: the restaurant grows
floor_plan()

-- A latecomer of the Garcia party asks the host (a load from the stack),
-- then walks to the table (following the pointer) and takes the last seat.
local cost = m:measure(function()
  local table_at = host.garcias.ptr                  -- ask the host
  m:store(table_at + 5 * SEAT, 0x6c617465)           -- sit down: "late"
end)
print(("A latecomer for the Garcias asks the host, who reads %s from the notebook, and follows it:"
  .. " %d loads, %d store, %d cycles -- no search, because the pointer says where."):format(
  fmt.hex(host.garcias.ptr), cost.loads, cost.stores, cost.cycles))
print()

local s = m:stats()
print(("At closing: %d groups seated, %d left, %d tables looked at in all, %d splits, %d merge%s,"
  .. " the floor grew %d time%s to %d bytes; peak utilization %.0f%%."):format(
  s.heap.allocs, s.heap.frees, s.heap.searched, s.heap.splits, s.heap.coalesces,
  s.heap.coalesces == 1 and "" or "s",
  s.heap.grows, s.heap.grows == 1 and "" or "s", s.heap.heap_bytes, 100 * s.heap.utilization))
print()
print(fmt.costs(s))

-- The waiter.  "It's most efficient to get all the orders at one table before moving on to
-- the next."  Two tables of eight, each guest's order a 16-byte line on the table's pad.
-- The waiter keeps one page of a pad in his head -- a cache of a single 64-byte line, four
-- orders -- and anything else is a walk across the room: 50 cycles, against 1 for jotting
-- down an order whose page he already holds.
print()
print("The waiter takes the orders of two tables of eight.")
local floor = sh.machine{ heap = { size = 1024 },
  cache = { levels = { { name = "head", size = 64, ways = 1, line = 64, latency = 1 } },
            memory = 50 } }
local A, B = floor:alloc(8 * SEAT, 64), floor:alloc(8 * SEAT, 64)

local function take(order_of)
  floor:cache_flush()
  local cost = floor:measure(function()
    for _, o in ipairs(order_of) do floor:store(o.at + o.seat * SEAT, 0x6f72646572) end
  end)
  return cost.cycles, cost.cache.head.misses
end

local by_table, alternating = {}, {}
for seat = 0, 7 do by_table[#by_table + 1] = { at = A, seat = seat } end
for seat = 0, 7 do by_table[#by_table + 1] = { at = B, seat = seat } end
for seat = 0, 7 do
  alternating[#alternating + 1] = { at = A, seat = seat }
  alternating[#alternating + 1] = { at = B, seat = seat }
end
local c1, w1 = take(by_table)
local c2, w2 = take(alternating)
print(fmt.table({ { "table A, then table B", #by_table, w1, c1 },
                  { "A, B, A, B, ...", #alternating, w2, c2 } },
  { headers = { "the waiter goes", "orders", "walks", "cycles" } }))
print(("Table by table he walks %d times, once per page of four orders; switching tables at"
  .. " every order he walks %d times, once per order: %.1fx the time."):format(w1, w2, c2 / c1))
