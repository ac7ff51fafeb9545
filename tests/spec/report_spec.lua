-- report_spec.lua: what the step recorder records, the writer's data-in
-- interface (whole states or changes), the pictures, and m:map().
local sh = require "stackheap"
local report = require "stackheap.report"
local steps = require "stackheap.steps"
local svg = require "stackheap.svg"
local cjson = require "cjson"
local core = require "stackheap.core"

-- Runs fn while a recorder feeds a new writer; returns the writer.
local function recorded(fn, limit)
  local w = report.new{ title = "spec" }
  local rec = steps.recorder{ writer = w, script = debug.getinfo(1, "S").short_src, limit = limit }
  rec:start()
  local ok, err = pcall(fn)
  rec:stop()
  if not ok then error(err, 0) end
  return w
end

local function kinds(w)
  local out = {}
  for i = 1, w.n do out[i] = w.kinds[w.shapes[w.col.s[i]][2]] end
  return out
end

local function page_data(w)
  return cjson.decode(w:json())
end

describe("the step recorder", function()
  it("makes one step per operation, with its arguments, costs and changes", function()
    local m
    local w = recorded(function()
      m = sh.machine{ heap = { policy = "first_fit" } }
      local f <close> = m:call("main", "n: i64, p: *mut u8")
      f.n = 7
      f.p = m:alloc(24)
      m:store(f.p, 5)
      m:free(f.p)
    end)
    assert.same({ "call", "set", "alloc", "set", "get", "store", "get", "free", "ret" }, kinds(w))
    assert.same({ 24 }, { w.col.a[3][1] })                 -- alloc(24) ...
    local addr = w.col.a[3][3]                             -- ... -> its address
    assert.equals(addr, w.col.a[6][1])                     -- the store went there
    -- the alloc's cycles are the machine's: stack, memory, alloc, meta columns
    local shape = w.shapes[w.col.s[3]]
    local s = sh.machine{ heap = { policy = "first_fit" } }
    local cost = s:measure(function() s:alloc(24) end)
    assert.same({ cost.cost.stack, cost.cost.memory, cost.cost.alloc, cost.cost.meta, cost.heap.searched },
                { shape[4], shape[5], shape[6], shape[7], shape[8] })
    -- the frame was pushed at step 1 and popped at the last
    assert.equals(1, w.fr[1][1])
    assert.equals(0, w.fr[1][2])
    assert.equals(w.n, w.fr[#w.fr][1])
    assert.equals(0, w.fr[#w.fr][2])
    -- after the free the payload's block is free again
    local st = w:state_at(8)
    for _, b in ipairs(st.blocks) do assert.equals(0, b[3]) end
    local before = w:state_at(7)
    local used = 0
    for _, b in ipairs(before.blocks) do if b[3] ~= 0 then used = used + 1 end end
    assert.equals(1, used)
  end)

  it("names the script line of each step", function()
    local here = debug.getinfo(1, "l").currentline
    local w = recorded(function()
      local m = sh.machine()
      m:alloc(8)
    end)
    assert.equals(here + 3, w.shapes[w.col.s[1]][3])
  end)

  it("puts the methods back, so a run without a report pays nothing", function()
    local alloc, newindex = core.machine_methods.alloc, debug.getregistry()["stackheap.frame"].__newindex
    recorded(function() sh.machine():alloc(8) end)
    assert.equals(alloc, core.machine_methods.alloc)
    assert.equals(newindex, debug.getregistry()["stackheap.frame"].__newindex)
  end)

  it("keeps errors pointing at the script's line, and records the failed step", function()
    local w = report.new{}
    local rec = steps.recorder{ writer = w, script = "nothing" }
    rec:start()
    local m = sh.machine()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(function() m:free(0x999) end)
    rec:stop()
    assert.is_false(ok)
    assert.matches("report_spec.lua:" .. line .. ": free: ", err, 1, true)
    assert.equals(1, #w.err)
    assert.matches("free: ", w.err[1][2], 1, true)
  end)

  it("places the checker's findings at the step that caused them", function()
    local w = recorded(function()
      local m = sh.machine{ check = true }
      local p = m:alloc(8)
      m:store(m:alloc(16), 1)
      m:free(p)
      m:free(p)                      -- step 5: the double free
      m:close()                      -- its findings are kept all the same
    end)
    assert.equals(1, #w.findings)
    assert.equals("double_free", w.findings[1].kind)
    assert.equals(5, w.findings[1].step)
  end)

  it("records the free lists in the order a search walks them", function()
    local w = recorded(function()
      local m = sh.machine{ heap = { policy = "first_fit", order = "lifo" } }
      local a = m:alloc(16)
      m:alloc(16)                    -- neighbours that stay, so nothing coalesces
      local b = m:alloc(16)
      m:alloc(16)
      m:free(a)
      m:free(b)
    end)
    local st = w:state_at(w.n)
    -- lifo: b freed last comes first, then a, then the rest of the heap
    local order = st.lists[1][2]
    local blocks = {}
    for _, bl in ipairs(st.blocks) do blocks[#blocks + 1] = bl[1] end
    assert.same({ blocks[3], blocks[1], blocks[5] }, order)
  end)

  it("stops keeping steps at the limit and counts the rest", function()
    local w = recorded(function()
      local m = sh.machine()
      for _ = 1, 10 do m:free(m:alloc(8)) end
    end, 5)
    assert.equals(5, w.n)
    assert.same({ recorded = 5, total = 20 }, w.run_note)
  end)
end)

describe("the report writer", function()
  it("takes whole states and stores only what changed", function()
    local w = report.new{ title = "whole" }
    w:machine(1, { word = 8, policy = "mine" })
    local frame = { name = "main", sp = 100, fp = 120, top = 136,
                    slots = { { name = "x", type = "int", addr = 112, size = 4, kind = "i", value = 3 } } }
    w:step{ op = "alloc", args = { 16 }, blocks = {
      { addr = 0, size = 32, state = "used", payload = 8, requested = 16 },
      { addr = 32, size = 96, state = "free" } }, frames = { frame }, free_lists = { { 32 } } }
    w:step{ op = "alloc", args = { 8 }, blocks = {
      { addr = 0, size = 32, state = "used", payload = 8, requested = 16 },
      { addr = 32, size = 32, state = "used", payload = 40, requested = 8 },
      { addr = 64, size = 64, state = "free" } }, frames = { frame }, free_lists = { { 64 } } }
    local d = page_data(w)
    assert.equals(2, d.n)
    -- step 2 changed one block into two and left block 0 alone
    assert.same({ 1, { 32 }, { 32, 32, 40, 8, 64, 64, 0, 0 } }, d.bl[2])
    assert.equals(1, #d.fr)                     -- the same stack is not stored twice
    assert.same({ 1, { { 0, 0, 0, 64 } } }, d.fl[2])
    assert.equals("3", d.frames[1][5][1][7])    -- a slot's value as given
    local st = w:state_at(2)
    assert.same({ { 0, 32, 8, 16 }, { 32, 32, 40, 8 }, { 64, 64, 0, 0 } }, st.blocks)
    assert.same({ { 0, { 64 } } }, st.lists)
  end)

  it("writes one self-contained page, nothing fetched", function()
    local path = os.tmpname()
    assert.is_true(report.html({ title = "a <title>", steps = { { op = "alloc", args = { 8 } } } }, path))
    local text = assert(io.open(path)):read("a")
    os.remove(path)
    assert.matches("<title>a &lt;title&gt;</title>", text, 1, true)
    assert.is_nil(text:find("https?://[%w.]+/[%w/]*%.js"))
    assert.is_nil(text:find("<script src", 1, true))
    assert.is_nil(text:find("<link ", 1, true))
    local data = text:match('<script id="data" type="application/json">(.-)</script>')
    assert.equals(1, cjson.decode(data).n)
  end)

  it("says why it cannot write", function()
    local ok, err = report.html({ steps = {} }, "/nonexistent/dir/x.html")
    assert.is_nil(ok)
    assert.matches("/nonexistent/dir/x.html", err, 1, true)
  end)

  it("is the same bytes on every run", function()
    local function page()
      return recorded(function()
        local m = sh.machine{ heap = { policy = "best_fit" } }
        local f <close> = m:call("main", "p: *mut u8")
        for i = 1, 20 do f.p = m:alloc(i * 8); if i % 3 == 0 then m:free(f.p) end end
      end):page()
    end
    assert.equals(page(), page())
  end)
end)

describe("pictures", function()
  it("draw one step as SVG: frames, blocks, pointers, dangling ones", function()
    local w = recorded(function()
      local m = sh.machine()
      local f <close> = m:call("main", "p: *mut u8, q: *mut u8")
      f.p = m:alloc(8)
      f.q = m:alloc(8)
      m:free(f.q)
    end)
    local text = svg.step(w, w.n - 1)            -- after the free, before the pop
    assert.matches("^<svg ", text)
    assert.matches("main", text, 1, true)
    local ptr = select(2, text:gsub('class="ptr"', ""))
    local dangling = select(2, text:gsub('class="dangling"', ""))
    assert.same({ 1, 1 }, { ptr, dangling })
    assert.matches("prefers-color-scheme: dark", text, 1, true)
  end)

  it("draw a trace's heap and fragmentation plot", function()
    local text = svg.trace{ title = "t", blocks = { { 4096, 32, 4104, 16 }, { 4128, 64, 0, 0 } },
                            series = { op = { 1, 2 }, heap = { 4096, 4096 }, live = { 16, 0 } } }
    assert.matches("free 64", text, 1, true)
    assert.matches("16 bytes", text, 1, true)
    assert.matches('class="l2"', text, 1, true)
  end)
end)

describe("m:map()", function()
  it("prints the heap block by block and the stack's slots", function()
    local m = sh.machine()
    local f <close> = m:call("main", "n: i64, b: Box<i64>")
    f.n = 41
    f.b = m:alloc(8)
    local text = m:map()
    assert.matches("0x1008%s+32%s+used%s+8 requested", text)
    assert.matches("free", text, 1, true)
    assert.matches("main", text, 1, true)
    assert.matches("n%s+i64%s+= 41", text)
    assert.matches("b%s+Box<i64>%s+= 0x1010  %-> block 0x1008", text)
    local strip = text:match("|([^|]*)|")
    assert.matches("^[h#%-]+%.+$", strip)
  end)

  it("refuses bad options", function()
    local m = sh.machine()
    assert.has_error(function() m:map(3) end, "map: options must be a table, got number")
    assert.has_error(function() m:map{ width = 2 } end,
      "map: width must be an integer of at least 8, got 2")
  end)
end)

describe("findings at the end of a run", function()
  it("go to the machine's last step, unless steps were cut", function()
    local w = report.new{}
    w:step{ machine = 1, op = "alloc", args = { 8 }, ops = 1 }
    w:step{ machine = 1, op = "store", args = { 4112, 1 }, ops = 2 }
    w:note{ recorded = 2, total = 2 }
    w:finding{ machine = 1, op = 2, kind = "leak", message = "8 bytes" }   -- after every op
    w:finding{ machine = 1, op = 0, kind = "double_free", message = "x" }
    assert.same({ 2, 1 }, { w.findings[1].step, w.findings[2].step })
    local cut = report.new{}
    cut:step{ machine = 1, op = "alloc", ops = 1 }
    cut:note{ recorded = 1, total = 5 }
    cut:finding{ machine = 1, op = 3, kind = "leak", message = "y" }
    assert.equals(report.null, cut.findings[1].step)
  end)
end)
