-- freespace_spec.lua -- malloc.py's free-list rules (stackheap.freespace), Python's integers
-- (stackheap.pyint), core.random, and ostep-malloc's step tables; every expectation worked out by hand.
local core = require "stackheap.core"
local freespace = require "stackheap.freespace"
local pyint = require "stackheap.pyint"
local ostep = require "stackheap.cmd.ostep_malloc"

local function heap(opts)
  local o = { size = 100, base = 1000, header = 0, align = -1, policy = "BEST",
              order = "ADDRSORT", coalesce = false }
  for k, v in pairs(opts or {}) do o[k] = v end
  return freespace.new(o)
end

-- The free list as malloc.py prints it after "Free List [ Size N ]: ".
local function shown(h)
  local parts = {}
  for i, e in ipairs(h:free_list()) do parts[i] = ("[ addr:%d sz:%d ]"):format(e.addr, e.size) end
  return table.concat(parts)
end

describe("freespace (malloc.py's allocator)", function()
  it("rounds the request up to the alignment, then adds the header unaligned", function()
    local h = heap { header = 3, align = 8 }
    assert.equal(11, h:request(1))     -- 1 -> 8, + 3
    assert.equal(11, h:request(8))     -- already aligned
    assert.equal(19, h:request(9))     -- 9 -> 16, + 3
    assert.equal(3, h:request(0))
    local addr, searched = h:malloc(9)
    assert.equal(1000, addr)           -- the block's address: the header's, not the payload's
    assert.equal(1, searched)
    assert.equal("[ addr:1019 sz:81 ]", shown(h))
  end)

  it("keeps the first of equal candidates for best and worst fit, and counts the whole list", function()
    for _, policy in ipairs { "BEST", "WORST" } do
      local h = heap { policy = policy, order = "INSERT-BACK" }
      -- Carve 10, 20, 10, 60 and free the two tens: list [60@1040][10@1000][10@1030].
      local a = h:malloc(10); h:malloc(20); local c = h:malloc(10)
      h:free(a); h:free(c)
      assert.equal("[ addr:1040 sz:60 ][ addr:1000 sz:10 ][ addr:1030 sz:10 ]", shown(h))
      local got, searched = h:malloc(10)
      assert.equal(3, searched)
      assert.equal(policy == "BEST" and 1000 or 1040, got)
    end
  end)

  it("stops first fit at the first entry that fits", function()
    local h = heap { policy = "FIRST", order = "INSERT-FRONT" }
    local a = h:malloc(10); h:malloc(20); local c = h:malloc(5)
    h:free(a); h:free(c)           -- front: [5@1030][10@1000][65@1035]
    assert.equal("[ addr:1030 sz:5 ][ addr:1000 sz:10 ][ addr:1035 sz:65 ]", shown(h))
    local got, searched = h:malloc(6)
    assert.equal(1000, got)
    assert.equal(2, searched)
  end)

  it("leaves a split remainder in its place, so a size-sorted list falls out of order", function()
    local h = heap { order = "SIZESORT+" }
    local a = h:malloc(10); local b = h:malloc(20); h:malloc(30)
    h:free(b); h:free(a)           -- [10@1000][20@1010][40@1060]
    assert.equal("[ addr:1000 sz:10 ][ addr:1010 sz:20 ][ addr:1060 sz:40 ]", shown(h))
    h:malloc(15)                   -- best fit: 20@1010, remainder 5@1025 stays second
    assert.equal("[ addr:1000 sz:10 ][ addr:1025 sz:5 ][ addr:1060 sz:40 ]", shown(h))
  end)

  it("sorts stably on free: equal sizes keep their list order", function()
    local h = heap { order = "SIZESORT-", policy = "FIRST" }
    local a = h:malloc(10); h:malloc(5); local c = h:malloc(10); h:malloc(75)
    h:free(c); h:free(a)           -- [10@1015] then 10@1000 appended after it
    assert.equal("[ addr:1015 sz:10 ][ addr:1000 sz:10 ]", shown(h))
  end)

  it("coalesces in one pass over list neighbours only", function()
    local h = heap { order = "INSERT-FRONT", coalesce = true, policy = "FIRST" }
    local a = h:malloc(10); local b = h:malloc(10); h:malloc(80)
    h:free(b)                      -- [10@1010]
    local rc, merges = h:free(a)   -- front: [10@1000][10@1010] -> one merge
    assert.equal(0, rc)
    assert.equal(1, merges)
    assert.equal("[ addr:1000 sz:20 ]", shown(h))
    -- Address neighbours apart in the list are not merged.
    local g = heap { order = "INSERT-BACK", coalesce = true, policy = "FIRST" }
    local x = g:malloc(10); local y = g:malloc(10); g:malloc(80)
    g:free(x); g:free(y)           -- [10@1000][10@1010] back to back: merged
    assert.equal("[ addr:1000 sz:20 ]", shown(g))
    local k = heap { order = "INSERT-FRONT", coalesce = true, policy = "FIRST" }
    local p = k:malloc(10); local q = k:malloc(10); k:malloc(80)
    k:free(p); k:free(q)           -- front: [10@1010][10@1000]: 1010 + 10 ~= 1000
    assert.equal("[ addr:1010 sz:10 ][ addr:1000 sz:10 ]", shown(k))
  end)

  it("changes nothing when an allocation fails or a free is not of a live block", function()
    local h = heap { size = 20 }
    h:malloc(5)
    local got, searched, info = h:malloc(16)
    assert.equal(-1, got)
    assert.equal(1, searched)
    assert.is_nil(info.chosen)
    assert.equal("[ addr:1005 sz:15 ]", shown(h))
    assert.equal(-1, h:free(1005))
    assert.equal(0, h:free(1000))
    assert.equal(-1, h:free(1000))
  end)

  it("refuses an address a zero-size block still holds", function()
    local h = heap {}
    assert.equal(1000, h:malloc(0))
    local got, addr = h:malloc(5)
    assert.is_nil(got)
    assert.equal(1000, addr)
    assert.equal("[ addr:1000 sz:100 ]", shown(h))
  end)

  it("refuses unknown settings", function()
    assert.has_error(function() heap { policy = "NEXT" } end,
      "freespace: policy must be one of BEST, WORST, FIRST, got 'NEXT'")
    assert.has_error(function() heap { align = 0 } end,
      "freespace: align must be -1 (none) or positive, got 0")
  end)
end)

describe("pyint (optparse's integers)", function()
  it("reads the radix from the prefix as optparse does", function()
    local function v(t) local n = pyint.parse_option(t); return n and pyint.tostring(n) end
    assert.equal("8", v("010"))
    assert.equal("31", v("0x1F"))
    assert.equal("5", v("0b101"))
    assert.equal("1000", v("1_000"))
    assert.equal("-10", v("-010"))       -- a sign first: decimal
    assert.is_nil(v("08"))
    assert.is_nil(v("-0x10"))
    assert.is_nil(v("1__0"))
    assert.is_nil(v(""))
  end)

  it("keeps any size as 32-bit words and prints it back in decimal", function()
    local n = pyint.parse("12345678901234567890123")
    assert.same({ 0x714244cb, 0x42b64e76, 0x29d }, n.words)
    assert.equal("12345678901234567890123", pyint.tostring(n))
    assert.is_nil(pyint.tointeger(n))
    assert.equal(-4294967296, pyint.tointeger(pyint.parse("-4294967296")))
    assert.equal("0", pyint.tostring(pyint.parse("-0")))
  end)
end)

describe("core.random (Python's generator)", function()
  it("draws what CPython draws after random.seed", function()
    -- CPython 3.11: random.seed(0); random.random() twice.
    local r = core.random(0)
    assert.equal(0.8444218515250481, r:random())
    assert.equal(0.7579544029403025, r:random())
    -- seed(-42) is seed(42); a word list is init_by_array's key.
    assert.equal(0.6394267984578837, core.random(-42):random())
    assert.equal(0.15803717805068784, core.random { 0x714244cb, 0x42b64e76, 0x29d }:random())
    -- mt19937ar.c's reference key and first output.
    assert.equal(1067595299, core.random { 0x123, 0x234, 0x345, 0x456 }:u32())
    -- The module's sh.random is the same; reseeding restarts the sequence.
    local g = require("stackheap").random(1)
    local first = g:random()
    assert.equal(0.13436424411240122, first)
    assert.equal(first, g:seed(1):random())
  end)

  it("refuses a bad key", function()
    assert.has_error(function() core.random {} end, "random: a seed key has 1 to 2^20 words, got 0")
    assert.has_error(function() core.random { -1 } end,
      "random: seed word 1 must be an integer from 0 to 4294967295")
  end)
end)

describe("ostep-malloc's steps", function()
  it("hands each operation to the caller as a table a report can draw", function()
    local o = { heapSize = 20, baseAddr = 0, headerSize = 0, alignment = -1, policy = "FIRST",
                order = "ADDRSORT", coalesce = true, ops = assert(ostep.parse_ops("+5,+30,-1,-0,-7")) }
    local steps = {}
    assert.is_true(ostep.simulate(o, function(s) steps[#steps + 1] = s end))
    assert.equal(5, #steps)
    assert.same({ kind = "alloc", ptr = 0, block = 0, payload = 0, searched = 1 },
      { kind = steps[1].kind, ptr = steps[1].ptr, block = steps[1].block,
        payload = steps[1].payload, searched = steps[1].searched })
    assert.same({ { addr = 5, size = 15 } }, steps[1].free_list)
    assert.same({ { addr = 0, size = 5 } }, steps[1].used)
    assert.equal(-1, steps[2].block)
    assert.same({ "skip", "failed" }, { steps[3].kind, steps[3].reason })
    assert.same({ "free", 0 }, { steps[4].kind, steps[4].rc })
    assert.same({ { addr = 0, size = 20 } }, steps[4].free_list)   -- coalesced
    assert.same({}, steps[4].used)
    assert.same({ "skip", "never allocated" }, { steps[5].kind, steps[5].reason })
  end)

  it("collects the steps, and keeps those before a step malloc.py cannot take", function()
    local o = { heapSize = 100, baseAddr = 1000, headerSize = 0, alignment = -1, policy = "BEST",
                order = "ADDRSORT", coalesce = false, ops = assert(ostep.parse_ops("+0,+5")) }
    local steps, err, before = ostep.steps(o)
    assert.is_nil(steps)
    assert.equal("ptr[1] = Alloc(5) would get address 1000, where ptr[0]'s zero-size block is "
      .. "still allocated; malloc.py stops here with an AssertionError", err)
    assert.equal(1, #before)
    assert.same({ { addr = 1000, size = 0 } }, before[1].used)
    o.ops = assert(ostep.parse_ops("+30,+20,-0"))
    steps = assert(ostep.steps(o))
    assert.same({ { addr = 1000, size = 30 }, { addr = 1050, size = 50 } }, steps[3].free_list)
  end)

  it("names the item of a malformed -A list", function()
    local ops, err = ostep.parse_ops("+5,-0,+x")
    assert.is_nil(ops)
    assert.equal("-A item 3 '+x': expected +SIZE or -INDEX, each a whole number from 0", err)
  end)

  it("rewrites optparse's forms into argparse's", function()
    assert.same({ "-s-5", "-A-0,+3", "--seed=4", "-c" },
      ostep.normalize { "-s", "-5", "-A", "-0,+3", "--se", "4", "-c" })
    assert.same({ "--allocList=" }, ostep.normalize { "-A", "" })
    local argv, err = ostep.normalize { "--s", "1" }
    assert.is_nil(argv)
    assert.equal("ostep-malloc: ambiguous option: --s (--seed, --size, --step, --svg?)", err)
  end)
end)
