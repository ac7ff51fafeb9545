-- stackheap.cmd.replay: `stackheap replay TRACE --policy NAME[,NAME...]` replays an
-- allocation trace through one or more heap policies in one pass over the input.
-- Reading and replaying happen in C (core.replay); this file sets up and reports.
local sh = require "stackheap"
local core = require "stackheap.core"
local fmt = require "stackheap.format"
local json = require "stackheap.json"

local M = {}

local SUFFIX = { K = 1 << 10, k = 1 << 10, M = 1 << 20, m = 1 << 20, G = 1 << 30, g = 1 << 30 }

-- A --set value: integers (4096, 0x1000, 4K), true/false, comma lists as
-- arrays, else the string itself; the machine's option parser judges it.
function M.parse_value(text)
  if text:find(",", 1, true) then
    local list = {}
    for item in (text .. ","):gmatch("([^,]*),") do list[#list + 1] = M.parse_value(item) end
    return list
  end
  if text == "true" then return true end
  if text == "false" then return false end
  local hex = text:match("^0[xX](%x+)$")
  if hex then return math.tointeger(tonumber(hex, 16)) or text end
  local digits, suffix = text:match("^(%d+)([KkMmGg]?)$")
  if digits then
    local n = math.tointeger(tonumber(digits))
    if n and suffix ~= "" then n = n * SUFFIX[suffix] end
    return n or text
  end
  return text
end

-- "--set key=value" pairs into a heap options table; nil, msg when malformed.
function M.heap_options(sets)
  local opts = {}
  for _, s in ipairs(sets or {}) do
    local k, v = s:match("^([%a_][%w_]*)=(.*)$")
    if not k then
      return nil, ("--set expects key=value (a heap option, as in sh.machine{heap = {...}}), got '%s'"):format(s)
    end
    if k == "policy" then return nil, "--set policy=...: use --policy" end
    opts[k] = M.parse_value(v)
  end
  return opts
end

local function split_policies(text)
  local list = {}
  for name in text:gmatch("[^,]+") do list[#list + 1] = name end
  return list
end

-- Lua's os.clock is CPU time, which is what a replay spends anyway.
local function progress_bar()
  local t0, last = os.clock(), -1
  local drawn = false
  local function draw(read, total, ops)
    local dt = math.max(os.clock() - t0, 1e-6)
    local rate = ("%.1f M ops/s"):format(ops / dt / 1e6)
    local line
    if total > 0 then
      local frac = math.min(read / total, 1)
      local pct = math.floor(frac * 100)
      if pct == last then return end
      last = pct
      local w = 30
      local full = math.floor(frac * w)
      line = ("[%s%s] %3d%%  %.1f of %.1f MB  %s"):format(("#"):rep(full), (" "):rep(w - full),
        pct, read / 1e6, total / 1e6, rate)
    else
      line = ("%.1f MB read  %s"):format(read / 1e6, rate)
    end
    io.stderr:write("\r", line, "\27[K")
    drawn = true
  end
  local function clear()
    if drawn then io.stderr:write("\r\27[K") end
  end
  return draw, clear
end

local function fail(msg) return require("stackheap.cli").fail(msg) end

-- The log file for policy i: FILE itself for one policy, FILE.<policy> for several.
local function log_paths(path, policies)
  if not path then return nil end
  local logs = {}
  for i, name in ipairs(policies) do
    logs[i] = #policies == 1 and path or (path .. "." .. name)
  end
  return logs
end

local function per_op(n, ops)
  return ops > 0 and n / ops or 0
end

local function summary(name, st, res)
  local h = st.heap
  return {
    policy = name,
    ops = res.ops,
    errors = res.errors,
    messages = json.array(res.messages),
    heap = h,
    cycles = st.cycles,
    cycles_per_op = per_op(st.cycles, res.ops),
    searched_per_op = per_op(h.searched, res.ops),
  }
end

local function text_report(trace, info, results, warnings)
  local out = {}
  out[#out + 1] = ("%s: %s, %d operations, %d warning%s"):format(trace, info.format,
    info.ops, warnings, warnings == 1 and "" or "s")
  local rows = {}
  for _, r in ipairs(results) do
    local h = r.heap
    rows[#rows + 1] = {
      r.policy, ("%.1f%%"):format(100 * h.utilization), ("%.3f"):format(h.frag.jw3),
      ("%.3f"):format(h.frag.jw4), h.peak_heap_bytes, h.peak_live_bytes,
      ("%.2f"):format(r.searched_per_op), ("%.1f"):format(r.cycles_per_op), r.errors,
    }
  end
  out[#out + 1] = fmt.table(rows, { headers = { "policy", "util", "jw3", "jw4", "heap peak",
    "live peak", "searched/op", "cycles/op", "errors" } })
  return table.concat(out, "\n")
end

local function series_report(results)
  local out = {}
  for _, r in ipairs(results) do
    out[#out + 1] = ("heap over time, %s:"):format(r.policy)
    out[#out + 1] = fmt.table(r.series, {
      columns = { "op", "live_bytes", "live_blocks", "heap_bytes", "free_blocks", "cycles" },
      headers = { "op", "live bytes", "live blocks", "heap bytes", "free blocks", "cycles" } })
  end
  return table.concat(out, "\n")
end

local MAX_WARNINGS_SHOWN = 20

local function run(args)
  local policies = split_policies(args.policy)
  if #policies == 0 then return fail("--policy names no policy") end
  local heap, err = M.heap_options(args.set)
  if not heap then return fail(err) end
  if args.every and args.every < 1 then return fail("--every must be at least 1") end

  -- --svg plots heap size against live bytes: the engine samples them, about
  -- 4000 times over the trace (its length guessed from its size).
  local every_heap_op
  if args.svg then
    local f = io.open(args.trace, "rb")
    local size = f and f:seek("end") or 0
    if f then f:close() end
    every_heap_op = math.max(1, size // 10 // 4000)
  end

  local machines = {}
  for i, name in ipairs(policies) do
    local opts = {}
    for k, v in pairs(heap) do opts[k] = v end
    opts.policy = name
    local ok, m = pcall(sh.machine, { heap = opts, series = every_heap_op })
    if not ok then return fail(tostring(m)) end
    machines[i] = m
  end

  local cache = args.cache
  if cache ~= nil then cache = cache[1] or (args.trace .. ".shbin") end
  local trace, terr = core.trace_open(args.trace, args.format, cache)
  if not trace then return fail(terr) end

  local warnings = 0
  trace:on_warning(function(msg)
    warnings = warnings + 1
    if warnings <= MAX_WARNINGS_SHOWN then io.stderr:write("stackheap: ", msg, "\n") end
  end)

  local series = {}
  for i = 1, #machines do series[i] = json.array() end
  local sample
  -- --svg draws each heap when it held the most live bytes, as sampled.
  local fullest = {}
  local function keep_fullest(op)
    for i, m in ipairs(machines) do
      local live = m:stats().heap.live_bytes
      if not fullest[i] or live > fullest[i].live then
        local blocks = {}
        for b in m:blocks() do
          blocks[#blocks + 1] = { b.addr, b.size, b.payload or 0, b.requested or 0 }
        end
        fullest[i] = { live = live, op = op, blocks = blocks }
      end
    end
  end
  if args.svg and not args.every then sample = keep_fullest end
  if args.every then
    sample = function(op)
      if args.svg then keep_fullest(op) end
      for i, m in ipairs(machines) do
        local s = m:stats()
        local list = series[i]
        list[#list + 1] = { op = op, live_bytes = s.heap.live_bytes, live_blocks = s.heap.live_blocks,
          heap_bytes = s.heap.heap_bytes, free_blocks = s.heap.free_blocks, cycles = s.cycles }
      end
    end
  end
  local draw, clear
  if core.isatty(2) then draw, clear = progress_bar() end

  local results, rerr = core.replay(trace, machines, {
    check = not args.no_check, every = args.every or every_heap_op, sample = sample, progress = draw,
    logs = log_paths(args.log, policies) })
  if clear then clear() end
  if warnings > MAX_WARNINGS_SHOWN then
    io.stderr:write(("stackheap: %s: %d more warnings not shown\n"):format(args.trace,
      warnings - MAX_WARNINGS_SHOWN))
  end
  if not results then return fail(rerr) end
  local info = trace:info()
  trace:close()

  local svg_err
  if args.svg then
    local svg = require "stackheap.svg"
    local paths = log_paths(args.svg, policies)
    for i, m in ipairs(machines) do
      local f = fullest[i] or { blocks = {}, op = 0, live = 0 }
      local ok, werr = require("stackheap.report").write_file(paths[i], svg.trace{
        title = ("%s replayed by %s"):format(args.trace:match("[^/]*$"), policies[i]),
        heading = ("Heap when it held the most live bytes (%d, after op %d)"):format(f.live, f.op),
        blocks = f.blocks, series = m:series() })
      if not ok and not svg_err then svg_err = ("cannot write the picture: %s"):format(werr) end
    end
  end

  local report, errors = {}, 0
  for i, name in ipairs(policies) do
    local r = summary(name, machines[i]:stats(), results[i])
    if args.every then r.series = series[i] end
    report[i] = r
    errors = errors + r.errors
  end

  if args.json then
    local doc
    if #report == 1 then
      doc = report[1]
    else
      doc = { policies = report, ops = info.ops, errors = errors }
    end
    doc.trace = args.trace
    doc.format = info.format
    doc.warnings = warnings
    io.stdout:write(json.encode(doc), "\n")
  else
    io.stdout:write(text_report(args.trace, info, report, warnings), "\n")
    if args.every then io.stdout:write(series_report(report), "\n") end
  end
  io.stdout:flush()
  for _, r in ipairs(report) do
    for _, msg in ipairs(r.messages) do io.stderr:write("stackheap: ", r.policy, ": ", msg, "\n") end
    if r.errors > #r.messages then
      io.stderr:write(("stackheap: %s: %d more failed checks not shown\n"):format(r.policy,
        r.errors - #r.messages))
    end
  end
  if svg_err then return fail(svg_err) end   -- after the results, which stand
  return errors > 0 and 1 or 0
end

M.name = "replay"
M.summary = "Replay an allocation trace through heap policies."
M.description = "Replay an allocation trace (glibc mtrace, malloc-lab .rep, stackheap JSONL, "
  .. "or the parsed binary form) through one or more heap policies, in one pass over the "
  .. "input, with the malloc-lab driver's checks on every operation: alignment, inside the "
  .. "heap, no overlap, and payload integrity (each block is filled with bytes derived from "
  .. "its id and verified on realloc and free).\n"
  .. "Exit status: 0 when every check passed, 1 when one failed (each is printed), 2 on bad "
  .. "usage or bad input (the message names the file and line)."
M.configure = function(parser)
  parser:argument("trace", "The trace file ('-' reads standard input).")
  parser:option("--policy", "Heap policy, or several separated by commas.", "first_fit")
  parser:option("--set", "A heap option key=value (as in sh.machine{heap = {...}}); repeatable.")
    :count("*")
  parser:option("--format", "The trace's format.", "auto")
    :choices({ "auto", "mtrace", "rep", "jsonl", "bin" })
  parser:flag("--json", "Print one JSON object: the heap statistics, ops, errors, warnings.")
  parser:option("--log", "Write one JSON line per operation to FILE (FILE.<policy> for "
    .. "several policies); the log is itself a JSONL trace.")
  parser:option("--every", "Sample the heap every N operations (and at the end).")
    :convert(math.tointeger)
  parser:option("--cache", "Keep the parsed trace in FILE (default: TRACE.shbin) and read it "
    .. "instead of the text while the text is unchanged."):args("?")
  parser:option("--svg", "Draw the heap at the end and its size against live bytes over "
    .. "the trace as an SVG picture in FILE (FILE.<policy> for several policies).")
  parser:flag("--no-check", "Skip the driver's placement and payload checks (faster).")
end
M.run = run

return M
