-- trace_spec.lua -- the trace readers (mtrace, .rep, JSONL, binary), the writers, caches and
-- core.replay: every line kind of the hand-written samples, and a message for each malformed kind.
local sh = require "stackheap"
local core = require "stackheap.core"
local gen = require "stackheap.cmd.gen"
local replay_cmd = require "stackheap.cmd.replay"

local T = "tests/traces/"

-- Every op of a trace as {kind, id, size, line}; on bad input, the ops so far and the message.
local function ops_of(t)
  local list = {}
  while true do
    local k, id, size, line = t:next()
    if k == nil then return list end
    if k == false then return list, id end
    list[#list + 1] = { k, id, size, line }
  end
end

local function read(name, text, format)
  local t = assert(core.trace_from_string(name, text, format))
  local warnings = {}
  t:on_warning(function(m) warnings[#warnings + 1] = m end)
  local list, err = ops_of(t)
  return list, err, warnings, t:info()
end

local function read_file(path, format)
  local t = assert(core.trace_open(path, format))
  local warnings = {}
  t:on_warning(function(m) warnings[#warnings + 1] = m end)
  local list, err = ops_of(t)
  return list, err, warnings, t:info()
end

local tmpname = os.tmpname

describe("the mtrace reader", function()
  it("reads every line kind glibc writes", function()
    local list, err, warnings, info = read_file(T .. "sample.mtrace")
    assert.is_nil(err)
    assert.equals("mtrace", info.format)
    assert.same({
      { "alloc", 0, 24, 2 },        -- '@ obj:[addr] +'
      { "alloc", 1, 4096, 3 },      -- '@ obj:(sym+off)[addr] +'
      { "alloc", 2, 472, 4 },       -- '@ [addr] +'
      { "alloc", 3, 0, 5 },         -- no caller; size 0 written as '0'
      { "realloc", 0, 2048, 6 },    -- '<' then '>' to a new address, both with callers
      { "realloc", 1, 64, 8 },      -- in place
      -- '!' (failed realloc) and '+ (nil)' (failed malloc) change nothing
      { "free", 2, 0, 12 },
      { "free", 3, 0, 13 },
      { "free", 1, 0, 14 },
      { "free", 0, 0, 16 },         -- the realloc's new address frees id 0
    }, list)
    assert.equals(1, #warnings)
    assert.equals(T .. "sample.mtrace:15: warning: free of 0x7f3a5c000b20, which the trace "
      .. "never allocated (ignored)", warnings[1])
    assert.equals(1, info.warnings)
    assert.equals(17, info.lines)
  end)

  it("gives each '= Start' section its own address space", function()
    local list = read("m", "= Start\n+ 0x10 0x8\n= Start\n+ 0x10 0x8\n- 0x10\n")
    assert.same({ { "alloc", 0, 8, 2 }, { "alloc", 1, 8, 4 }, { "free", 1, 0, 5 } }, list)
  end)

  it("warns about a realloc of a pointer it never saw and replays it as a malloc", function()
    local list, err, warnings = read("m", "< 0x50\n> 0x60 0x20\n- 0x60\n")
    assert.is_nil(err)
    assert.same({ { "alloc", 0, 32, 1 }, { "free", 0, 0, 3 } }, list)
    assert.matches("m:2: warning: realloc of 0x50, which the trace never allocated", warnings[1],
      1, true)
  end)

  it("frees a block whose address is allocated again, with a warning", function()
    local list, _, warnings = read("m", "+ 0x10 0x8\n+ 0x10 0x9\n")
    assert.same({ { "alloc", 0, 8, 1 }, { "free", 0, 0, 2 }, { "alloc", 0, 9, 2 } }, list)
    assert.equals(1, #warnings)
  end)

  it("reuses the id of a freed block, last freed first, so ids stay below the live count", function()
    local list = read("m", "+ 0x10 0x8\n+ 0x20 0x8\n+ 0x30 0x8\n- 0x10\n- 0x30\n"
      .. "+ 0x40 0x8\n+ 0x50 0x8\n+ 0x60 0x8\n< 0x20\n> 0x70 0x10\n+ 0x20 0x8\n")
    assert.same({ { "alloc", 0, 8, 1 }, { "alloc", 1, 8, 2 }, { "alloc", 2, 8, 3 },
                  { "free", 0, 0, 4 }, { "free", 2, 0, 5 }, { "alloc", 2, 8, 6 },
                  { "alloc", 0, 8, 7 }, { "alloc", 3, 8, 8 }, { "realloc", 1, 16, 9 },
                  { "alloc", 4, 8, 11 } }, list)
  end)

  local bad = {
    { "= Begin\n", "m:1: expected '= Start' or '= End', got '= Begin'" },
    { "@ nowhere + 0x10 0x8\n", "m:1: expected a caller '@ [0xADDR] ' before the operation" },
    { "* 0x10\n", "m:1: expected an mtrace operation" },
    { "+ 0x10\n", "m:1: expected a space before the size, got ''" },
    { "+ 0xzz 0x8\n", "m:1: expected a pointer (0x... or (nil)), got '0xzz 0x8'" },
    { "+ 0x10 17\n", "m:1: expected a size in hex (0x... or 0), got '17'" },
    { "+ 0x10 0x8 more\n", "m:1: unexpected text after the operation: 'more'" },
    { "+ 0x1ffffffffffffffff 0x8\n", "m:1: a pointer '0x1ffffffffffffffff 0x8' does not fit in 64 bits" },
    { "+ 0x10 0x8\n< 0x10\n", "m:2: the realloc of 0x10 has no '>' line after it (truncated?)" },
    { "< 0x10\n+ 0x20 0x8\n", "m:2: expected '> NEW SIZE' completing the realloc of line 1" },
    { "> 0x10 0x8\n", "m:1: a '>' line without the '<' line that begins a realloc" },
    { "- \0\1\2\n", "m:1: expected a pointer (0x... or (nil)), got '\\x00\\x01\\x02'" },
  }
  for _, case in ipairs(bad) do
    it("refuses " .. case[1]:gsub("%c", "?"), function()
      local _, err = read("m", case[1], "mtrace")
      assert.is_string(err)
      assert.matches(case[2], err, 1, true)
    end)
  end
end)

describe("the .rep reader", function()
  it("reads the classic header, with CRLF line ends", function()
    local list, err, _, info = read_file(T .. "classic.rep")
    assert.is_nil(err)
    assert.equals("rep", info.format)
    assert.same({
      { "alloc", 0, 512, 5 }, { "alloc", 1, 128, 6 }, { "realloc", 0, 640, 7 },
      { "alloc", 2, 128, 8 }, { "free", 1, 0, 9 }, { "realloc", 0, 768, 10 },
      { "free", 0, 0, 11 }, { "free", 2, 0, 12 },
    }, list)
  end)

  it("reads the newer header and 'f -1'", function()
    local list, err = read_file(T .. "newer.rep")
    assert.is_nil(err)
    assert.same({ "free", -1, 0, 7 }, list[3])
    assert.equals(7, #list)
  end)

  it("takes a header on one line", function()
    local list = read("r", "100 1 2 1\na 0 8\nf 0\n", "rep")
    assert.same({ { "alloc", 0, 8, 2 }, { "free", 0, 0, 3 } }, list)
  end)

  local bad = {
    { "20000\n3\n", "r:2: the header ends after 2 numbers; expected the number of operations" },
    { "x\n", "r:1: expected the suggested heap size (or the weight) (a number), got 'x'" },
    { "1 1 1 1\nz 0 1\n", "r:2: expected an operation 'a ID SIZE', 'r ID SIZE' or 'f ID', got 'z 0 1'" },
    { "1 1 1 1\na 0\n", "r:2: expected a space before the size, got ''" },
    { "1 1 1 1\na 0 -5\n", "r:2: the size must not be negative, got '-5'" },
    { "1 1 1 1\nf -3\n", "r:2: the id must not be negative, got '-3'" },
    { "1 1 1 1\na 5 1\n", "r:2: id 5 is not below the header's number of ids (1)" },
    { "1 1 1 1\na 0 1\nf 0\n", "r:3: more operations than the 1 the header announces" },
    { "1 1 3 1\na 0 1\nf 0\n", "r:3: the trace ends after 2 operations, but its header says 3 (truncated?)" },
    { "1 1 1 1\na 0 99999999999999999999999\n", "r:2: the size '99999999999999999999999' is too large" },
    { "1 1 1 1\nf 0 x\n", "r:2: unexpected text after the operation: 'x'" },
    { "1 1 1 1\na 0x1 1\n", "r:2: expected the id (a number), got '0x1 1'" },
  }
  for _, case in ipairs(bad) do
    it("refuses " .. case[1]:gsub("%c", "|"), function()
      local _, err = read("r", case[1], "rep")
      assert.is_string(err)
      assert.matches(case[2], err, 1, true)
    end)
  end
end)

describe("the JSONL reader", function()
  it("reads keys in any order, skips other keys and blank lines", function()
    local list, err, _, info = read_file(T .. "sample.jsonl")
    assert.is_nil(err)
    assert.equals("jsonl", info.format)
    assert.same({
      { "alloc", 1, 24, 1 }, { "alloc", 2, 100, 2 }, { "realloc", 1, 48, 4 },
      { "free", -1, 0, 5 }, { "free", 2, 0, 6 }, { "free", 1, 0, 7 },
    }, list)
  end)

  local bad = {
    { "not json\n", "j:1: cannot tell the trace's format", "auto" },
    { "[1]\n", "j:1: expected a JSON object '{...}' at column 1, got '[1]'" },
    { '{"op":"alloc","id":1}\n', 'j:1: an "alloc" needs a "size"' },
    { '{"op":"grow","id":1}\n', 'j:1: expected "op" to be "alloc", "free" or "realloc", got \'"grow"\'' },
    { '{"id":1,"size":2}\n', 'j:1: the object has no "op"' },
    { '{"op":"free"}\n', 'j:1: the object has no "id"' },
    { '{"op":"alloc","id":1.5,"size":2}\n', 'j:1: "id" must be a non-negative (or -1 for NULL) integer below 2^63, got \'1.5\'' },
    { '{"op":"alloc","id":1,"size":-2}\n', 'j:1: "size" must be a non-negative integer' },
    { '{"op":"alloc","id":"x","size":2}\n', "j:1: expected an integer id at column 20" },
    { '{"op":"alloc","id":1,"size":2} x\n', "j:1: expected the end of the line after the object" },
    { '{"op":"alloc","id":1,"size":2\n', "j:1: expected ',' or '}', but the line ends" },
    { '{"op":"free","id":1,"id":2}\n', 'j:1: the key "id" appears twice' },
    { '{"op":"free","id":1,"x":"abc\n', "j:1: a string is not closed before the line ends" },
    { '{"op":"free","id":1,"x":[1,2}\n', "j:1: expected ',' or ']'" },
    { '{"op":"alloc","id":-1,"size":2}\n', 'j:1: an "alloc" needs a real id, not -1 or null' },
  }
  for _, case in ipairs(bad) do
    it("refuses " .. case[1]:gsub("%c", ""), function()
      local t, err = core.trace_from_string("j", case[1], case[3] or "jsonl")
      local list
      if t then list, err = ops_of(t) end
      assert.is_string(err)
      assert.matches(case[2], err, 1, true)
    end)
  end

  it("refuses a line longer than its buffer", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write('{"op":"free","id":1}\n', ("x"):rep(2 * 1024 * 1024))
    f:close()
    local _, err = read_file(path, "jsonl")
    os.remove(path)
    assert.matches(path .. ":2: a line longer than 1048576 bytes", err, 1, true)
  end)
end)

describe("writers", function()
  -- A trace with every op kind, written in a format and read back.
  local ops = {
    { "alloc", 7, 24 }, { "alloc", 9, 100 }, { "realloc", 7, 4000 }, { "free", 9, 0 },
    { "alloc", 11, 0 }, { "free", -1, 0 }, { "realloc", 7, 8 }, { "free", 7, 0 },
  }
  for _, f in ipairs { "jsonl", "rep", "mtrace", "bin" } do
    it("writes " .. f .. " that reads back as the same operations", function()
      local path = tmpname()
      local w = assert(core.trace_writer(path, f))
      for _, op in ipairs(ops) do assert(w:write(op[1], op[2], op[3])) end
      assert(w:close())
      local list, err, _, info = read_file(path)
      os.remove(path)
      assert.is_nil(err)
      assert.equals(f, info.format)
      -- rep renumbers ids densely; mtrace invents addresses and skips free(NULL).
      local kinds, sizes = {}, {}
      for _, op in ipairs(list) do kinds[#kinds + 1] = op[1]; sizes[#sizes + 1] = op[3] end
      local want_k, want_s = {}, {}
      for _, op in ipairs(ops) do
        if not (f == "mtrace" and op[2] == -1) then
          want_k[#want_k + 1] = op[1]; want_s[#want_s + 1] = op[3]
        end
      end
      assert.same(want_k, kinds)
      assert.same(want_s, sizes)
    end)
  end

  it("refuses a free of an id that is not live (mtrace, rep)", function()
    local w = assert(core.trace_writer(os.tmpname(), "rep"))
    local ok, err = w:write("free", 3, 0)
    assert.is_nil(ok)
    assert.matches("free of id 3, which is not live", err, 1, true)
  end)
end)

describe("the binary cache", function()
  it("is written on the first read and read on the second, with the same ops and warnings", function()
    local src = T .. "sample.mtrace"
    local cache = os.tmpname()
    os.remove(cache)
    local t = assert(core.trace_open(src, "auto", cache))
    local w1 = {}
    t:on_warning(function(m) w1[#w1 + 1] = m end)
    local first = ops_of(t)
    assert.equals("writing", t:info().cache)
    t:close()
    local t2 = assert(core.trace_open(src, "auto", cache))
    local w2 = {}
    t2:on_warning(function(m) w2[#w2 + 1] = m end)
    assert.equals("read", t2:info().cache)
    local second = ops_of(t2)
    t2:close()
    assert.same(first, second)
    assert.same(w1, w2)
    -- A damaged cache is bad input, never a crash.
    local f = assert(io.open(cache, "rb"))
    local bytes = f:read("a")
    f:close()
    local t3 = assert(core.trace_from_string("c", bytes:sub(1, #bytes - 3)))
    local _, err = ops_of(t3)
    assert.matches("c: the parsed trace is damaged", err, 1, true)
    os.remove(cache)
  end)
end)

describe("core.replay", function()
  it("replays one trace through several machines in one pass", function()
    local ms = {}
    for i, name in ipairs(core.policies()) do ms[i] = sh.machine{ heap = { policy = name } } end
    local t = assert(core.trace_open(T .. "classic.rep"))
    local res = assert(core.replay(t, ms))
    for i, m in ipairs(ms) do
      assert.equals(8, res[i].ops)
      assert.equals(0, res[i].errors)
      assert.equals(0, m:stats().heap.live_bytes)
    end
  end)

  it("reports a free of an id that is not live as bad input naming file and line", function()
    local t = assert(core.trace_from_string("x.rep", "1 2 2 1\na 0 8\nf 1\n", "rep"))
    local res, err = core.replay(t, { sh.machine() })
    assert.is_nil(res)
    assert.equals("x.rep:3: free of id 1, which is not live (never allocated, or freed already)", err)
  end)

  it("keeps small ids in an array and far ones in a hash map, and finds each wherever it is", function()
    -- 7000 starts in the hash map; the array then grows past it while it is live there.
    local lines, far = {}, { 7000, 1e12 // 1, 2^62 // 1 }
    local function add(op, id, size)
      lines[#lines + 1] = ('{"op":"%s","id":%d%s}'):format(op, id, size and (',"size":' .. size) or "")
    end
    for _, id in ipairs(far) do add("alloc", id, 24) end
    for id = 0, 6000 do add("alloc", id, 16) end
    for _, id in ipairs(far) do add("realloc", id, 40) end
    for id = 0, 6000, 2 do add("free", id) end
    for _, id in ipairs(far) do add("free", id) end
    add("alloc", 7000, 8)
    for id = 1, 6000, 2 do add("free", id) end
    local text = table.concat(lines, "\n") .. "\n"
    local m = sh.machine()
    local res = assert(core.replay(assert(core.trace_from_string("ids", text)), { m }))
    assert.equals(#lines, res[1].ops)
    assert.equals(0, res[1].errors)
    assert.equals(8, m:stats().heap.live_bytes)      -- 7000's second life
    -- A second alloc of 7000 while its first (in the hash map) is live is caught.
    text = text:gsub('{"op":"free","id":7000}\n', "")
    local _, err = core.replay(assert(core.trace_from_string("ids", text)), { sh.machine() })
    assert.matches("alloc of id 7000, which is still live", err, 1, true)
  end)

  it("reports an alloc of a live id", function()
    local t = assert(core.trace_from_string("x", '{"op":"alloc","id":1,"size":1}\n{"op":"alloc","id":1,"size":1}\n'))
    local res, err = core.replay(t, { sh.machine() })
    assert.is_nil(res)
    assert.equals("x:2: alloc of id 1, which is still live (never freed)", err)
  end)

  it("counts a failed allocation as a failed check and goes on", function()
    local t = assert(core.trace_from_string("x", '{"op":"alloc","id":1,"size":100000}\n{"op":"free","id":1}\n'))
    local m = sh.machine{ heap = { size = 4096, max = 8192 } }
    local res = assert(core.replay(t, { m }))
    assert.equals(2, res[1].ops)
    assert.equals(1, res[1].errors)
    assert.matches("x:1: alloc of 100000 bytes for id 1 failed: out of memory", res[1].messages[1], 1, true)
  end)

  it("finds a payload changed behind the allocator's back", function()
    local t = assert(core.trace_from_string("x", '{"op":"alloc","id":1,"size":64}\n{"op":"free","id":1}\n'))
    local m = sh.machine()
    -- The sample hook runs between the two ops: scribble on the payload then.
    local res = assert(core.replay(t, { m }, { every = 1, sample = function(k)
      if k == 1 then
        for b in m:blocks() do if b.state == "used" then m:write(b.payload + 10, "!") end end
      end
    end }))
    assert.equals(1, res[1].errors)
    assert.matches("changed before its free: byte 10 is not what was written", res[1].messages[1], 1, true)
  end)
end)

describe("stackheap gen", function()
  it("makes the same ops from the same seed, and other ops from another", function()
    local function ops(seed)
      local list = {}
      gen.generate({ ops = 500, alloc = 0.6, realloc = 0.2, sizes = "lognormal:4,1", lifetime = "lifo",
        phases = 3, seed = seed }, function(k, id, size) list[#list + 1] = k .. id .. ":" .. size end)
      return table.concat(list, " ")
    end
    assert.equals(ops(5), ops(5))
    assert.not_equals(ops(5), ops(6))
  end)

  it("parses every size distribution", function()
    for _, spec in ipairs { "uniform:1,10", "exp:50", "lognormal:3,0.5", "classes:16=3,64=1" } do
      local draw = gen.sizes(spec, math.random)
      for _ = 1, 100 do assert.is_true(draw() >= 1) end
    end
    local draw = gen.sizes("classes:16=1,64=0.000001", math.random)
    assert.equals(16, draw())
  end)
end)

describe("--set values", function()
  it("become integers, booleans, lists or strings", function()
    local p = replay_cmd.parse_value
    assert.equals(4096, p("4096"))
    assert.equals(4096, p("0x1000"))
    assert.equals(4096, p("4K"))
    assert.equals(1 << 20, p("1M"))
    assert.same({ 16, 32, 64 }, p("16,32,64"))
    assert.equals(true, p("true"))
    assert.equals("lifo", p("lifo"))
    local opts = assert(replay_cmd.heap_options { "size=8K", "order=lifo" })
    assert.same({ size = 8192, order = "lifo" }, opts)
    assert.is_nil((replay_cmd.heap_options { "nonsense" }))
  end)
end)
