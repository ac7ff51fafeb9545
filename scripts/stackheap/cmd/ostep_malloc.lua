-- stackheap.cmd.ostep_malloc: `stackheap ostep-malloc`, OSTEP's free-space homework simulator
-- (vm-freespace/malloc.py): same flags, same draws, same printed text; plus --explain and engine policies.
--
-- The simulation yields one step table per operation (M.simulate); printing is one
-- consumer, the report writer (--html, --svg) another.
local core = require "stackheap.core"
local freespace = require "stackheap.freespace"
local pyint = require "stackheap.pyint"

local M = {}

-- Numbers beyond this are refused (Python takes any size): sums of a few of
-- them stay exact in a Lua integer.
local LIMIT = 1 << 53

-- malloc.py's options, then ours: short name, long name, kind ("int",
-- "string" or "flag"), the field it sets (malloc.py's dest), help, default.
local OPTIONS = {
  { "-s", "--seed", "int", "seed", "the random seed", 0 },
  { "-S", "--size", "int", "heapSize", "size of the heap", 100 },
  { "-b", "--baseAddr", "int", "baseAddr", "base address of heap", 1000 },
  { "-H", "--headerSize", "int", "headerSize", "size of the header", 0 },
  { "-a", "--alignment", "int", "alignment", "align allocated units to size; -1->no align", -1 },
  { "-p", "--policy", "string", "policy", "list search (BEST, WORST, FIRST); or a stackheap "
      .. "policy (first_fit, next_fit, buddy, ...), an extension malloc.py lacks", "BEST" },
  { "-l", "--listOrder", "string", "order",
    "list order (ADDRSORT, SIZESORT+, SIZESORT-, INSERT-FRONT, INSERT-BACK)", "ADDRSORT" },
  { "-C", "--coalesce", "flag", "coalesce", "coalesce the free list?" },
  { "-n", "--numOps", "int", "opsNum", "number of random ops to generate", 10 },
  { "-r", "--range", "int", "opsRange", "max alloc size", 10 },
  { "-P", "--percentAlloc", "int", "opsPAlloc", "percent of ops that are allocs", 50 },
  { "-A", "--allocList", "string", "opsList", "instead of random, list of ops (+10,-0,etc)", "" },
  { "-c", "--compute", "flag", "solve", "compute answers for me" },
  { nil, "--explain", "flag", "explain", "(stackheap) for each allocation, the entries "
      .. "examined and why the chosen one won; implies -c" },
  { nil, "--html", "string", "html", "(stackheap) write a step-through report of the "
      .. "free list and the heap at every operation to FILE", "" },
  { nil, "--svg", "string", "svg", "(stackheap) write the heap and free list at one "
      .. "operation (--step, default the last) as an SVG picture to FILE", "" },
  { nil, "--step", "int", "step", "(stackheap) the operation --svg draws, from 1", "" },
}

-- ---- the command line as optparse reads it ------------------------------

local function by_name()
  local names = { ["-h"] = { kind = "flag" }, ["--help"] = { kind = "flag" } }
  for _, o in ipairs(OPTIONS) do
    local spec = { kind = o[3], long = o[2] }
    if o[1] then names[o[1]] = spec end
    names[o[2]] = spec
  end
  return names
end

--- M.normalize(argv) -> argv for argparse, or nil, msg. optparse, unlike
--- argparse, takes the word after an option as its value even when it starts
--- with '-' (`-s -5`, `-A -0,+3`) and accepts any unique prefix of a long
--- option (`--se 5`); this rewrites those into forms argparse reads the same
--- way (`-s-5`, `--seed=5`).
function M.normalize(argv)
  local names, out, k = by_name(), {}, 1
  while k <= #argv do
    local a = argv[k]
    if a == "--" then
      table.move(argv, k, #argv, #out + 1, out)
      break
    elseif a:sub(1, 2) == "--" then
      local name, value = a:match("^([^=]*)=(.*)$")
      name = name or a
      if not names[name] then
        local found = {}
        for n in pairs(names) do
          if n:sub(1, 2) == "--" and n:sub(1, #name) == name then found[#found + 1] = n end
        end
        table.sort(found)
        if #found > 1 then
          return nil, ("ostep-malloc: ambiguous option: %s (%s?)"):format(name, table.concat(found, ", "))
        end
        name = found[1] or name
      end
      local spec = names[name]
      if spec and spec.kind ~= "flag" and not value and argv[k + 1] then
        value, k = argv[k + 1], k + 1
      end
      out[#out + 1] = value and name .. "=" .. value or name
    elseif a:sub(1, 1) == "-" and #a > 1 then
      -- A cluster of short flags may end in one option that takes a value:
      -- attached (`-s5`), or the next word, whatever it looks like.
      local i, word = 2, a
      while i <= #a do
        local spec = names["-" .. a:sub(i, i)]
        if spec and spec.kind ~= "flag" then
          if i == #a and argv[k + 1] then
            local value = argv[k + 1]
            k = k + 1
            if value == "" then
              -- argparse takes "-A" "" for a missing value; "--allocList=" keeps it empty.
              if i > 2 then out[#out + 1] = a:sub(1, -2) end
              word = spec.long .. "="
            else
              word = a .. value
            end
          end
          break
        end
        i = i + 1
      end
      out[#out + 1] = word
    else
      out[#out + 1] = a
    end
    k = k + 1
  end
  return out
end

local function int_option(flag)
  flag = flag or "--step"
  return function(text)
    local n = pyint.parse_option(text)
    if not n then return nil, ("option %s: invalid integer value: '%s'"):format(flag, text) end
    if flag == "-s" then return n end
    local v = pyint.tointeger(n, LIMIT)
    if not v then
      return nil, ("option %s: %s is beyond what stackheap simulates (at most 2^53 in size)")
        :format(flag, pyint.tostring(n))
    end
    return v
  end
end

local function configure(parser)
  for _, o in ipairs(OPTIONS) do
    local names = o[1] and o[1] .. " " .. o[2] or o[2]
    if o[3] == "flag" then
      parser:flag(names, o[5]):target(o[4])
    else
      local help = o[5] .. (o[6] ~= "" and (" (default %s)"):format(o[6]) or "")
      local opt = parser:option(names, help):target(o[4])
        :argname(o[3] == "int" and "<n>" or o[4] == "opsList" and "<ops>"
          or (o[4] == "html" or o[4] == "svg") and "<file>" or "<name>")
      if o[3] == "int" then opt:convert(int_option(o[1] or o[2])) end
    end
  end
  parser:argument("extra", "malloc.py ignores words that are not options; stackheap refuses them.")
    :args("*"):hidden(true)
end

-- ---- settings: the flags checked, before anything is printed -----------------

local FITS = { first_fit = true, next_fit = true, best_fit = true, worst_fit = true }
local ENGINE_ORDER = { ADDRSORT = "address", ["INSERT-FRONT"] = "lifo", ["INSERT-BACK"] = "fifo",
                       ["SIZESORT+"] = "size_asc", ["SIZESORT-"] = "size_desc" }

local function member(list, v)
  for _, x in ipairs(list) do if x == v then return true end end
  return false
end

--- M.parse_ops(text) -> a list of {kind = "alloc", size} / {kind = "free", index},
--- or nil, msg naming the item. malloc.py reads "+SIZE" and "-INDEX" with
--- Python's int(); what it crashes on, or misreads ("+5+3" as 5), is refused.
function M.parse_ops(text)
  local ops, i = {}, 0
  for item in (text .. ","):gmatch("([^,]*),") do
    i = i + 1
    local sign, rest = item:sub(1, 1), item:sub(2)
    local n = (sign == "+" or sign == "-") and not rest:find("[+-]") and pyint.parse(rest)
    local v = n and not n.negative and pyint.tointeger(n, LIMIT)
    if not v then
      local why = item == "" and "an empty item"
        or (sign ~= "+" and sign ~= "-") and "expected +SIZE or -INDEX"
        or n and not n.negative and "a number beyond 2^53"
        or "expected +SIZE or -INDEX, each a whole number from 0"
      return nil, ("-A item %d '%s': %s"):format(i, item, why)
    end
    ops[i] = sign == "+" and { kind = "alloc", size = v } or { kind = "free", index = v }
  end
  return ops
end

local function settings(args)
  local o = {}
  for _, opt in ipairs(OPTIONS) do
    local v = args[opt[4]]
    if v == nil then v = opt[6] end
    if v == nil then v = false end            -- a flag not given
    o[opt[4]] = v
  end
  if type(o.seed) == "number" then o.seed = pyint.parse_option(tostring(o.seed)) end
  if #args.extra > 0 then
    return nil, ("unexpected argument '%s' (malloc.py ignores it; every setting is a flag)")
      :format(args.extra[1])
  end
  if o.explain then o.solve = true end
  if o.html == "" then o.html = nil end
  if o.svg == "" then o.svg = nil end
  if o.step == "" then o.step = nil end
  if o.step and not o.svg then return nil, "--step needs --svg" end
  if o.step and o.step < 1 then return nil, ("--step must be 1 or more, got %d"):format(o.step) end
  if member(freespace.POLICIES, o.policy) then
    o.engine = nil
  elseif member(core.policies(), o.policy) then
    o.engine = o.policy
    if o.explain then
      return nil, "--explain follows malloc.py's own search; it cannot explain the stackheap "
        .. "policy '" .. o.policy .. "'"
    end
  else
    return nil, ("-p: policy must be BEST, WORST or FIRST (or, as a stackheap extension, one of "
      .. "%s), got '%s'"):format(table.concat(core.policies(), ", "), o.policy)
  end
  if not member(freespace.ORDERS, o.order) then
    return nil, ("-l: list order must be one of %s, got '%s'")
      :format(table.concat(freespace.ORDERS, ", "), o.order)
  end
  if o.alignment ~= -1 and o.alignment < 1 then
    return nil, ("-a: alignment must be -1 (none) or positive, got %d"):format(o.alignment)
  end
  if o.heapSize < 0 then return nil, ("-S: heap size must not be negative, got %d"):format(o.heapSize) end
  if o.headerSize < 0 then
    return nil, ("-H: header size must not be negative, got %d"):format(o.headerSize)
  end
  if o.opsList ~= "" then
    local err
    o.ops, err = M.parse_ops(o.opsList)
    if not o.ops then return nil, err end
  else
    if o.opsPAlloc <= 0 then
      return nil, ("-P: percent of allocations must be above 0 (malloc.py asserts it), got %d")
        :format(o.opsPAlloc)
    end
    if o.opsRange < 0 then
      return nil, ("-r: range must not be negative (sizes would be 0 or less), got %d"):format(o.opsRange)
    end
  end
  return o
end

-- ---- the heaps: malloc.py's model, or a stackheap policy ----------------------

-- A stackheap machine behind the model's interface. The engine's heap starts
-- on a page (0x1000); addresses are shown moved to -b.
local Engine = {}
Engine.__index = Engine

local function engine_heap(o)
  local sh = require "stackheap"
  local align = o.alignment == -1 and 1 or o.alignment
  if align & (align - 1) ~= 0 then
    return nil, ("-a: a stackheap policy needs a power-of-two alignment, got %d"):format(align)
  end
  local heap = { policy = o.engine, base = 0x1000, size = o.heapSize, extend = 0,
                 align = align, header = o.headerSize, footer = 0 }
  if o.engine == "buddy" then
    if o.heapSize < 2 or o.heapSize & (o.heapSize - 1) ~= 0 then
      return nil, ("--policy buddy: the heap is one buddy block, so -S must be a power of two "
        .. "(say -S 128), got %d"):format(o.heapSize)
    end
    local order = 1
    while (1 << order) <= o.headerSize + align do order = order + 1 end
    local top = order
    while (1 << top) < o.heapSize do top = top + 1 end
    heap.min_order, heap.max_order = order, top
  elseif o.engine == "csapp_implicit" then
    -- The textbook's fixed design: -S can only bound its growth; -H, -a, -l and -C do not apply.
    heap = { policy = o.engine, base = 0x1000, max = o.heapSize }
  else
    heap.min_block, heap.split_min = math.max(1, o.headerSize), 1
    if FITS[o.engine] then
      heap.order = ENGINE_ORDER[o.order]
      heap.coalesce = o.coalesce and "immediate" or "none"
    end
  end
  local ok, m = pcall(sh.machine, { heap = heap, cache = false })
  if not ok then
    local why = tostring(m):gsub("^machine: ", "")
    if o.engine == "csapp_implicit" then why = why .. " (-S is its growth limit)" end
    return nil, ("--policy %s: %s"):format(o.engine, why)
  end
  return setmetatable({ m = m, shift = o.baseAddr - 0x1000, live = {} }, Engine)
end

function Engine:malloc(size)
  local before = self.m:stats().heap.searched
  local payload = self.m:alloc(size)
  local searched = self.m:stats().heap.searched - before
  if not payload then return -1, searched, {} end
  local block
  for b in self.m:blocks() do
    if b.payload == payload then block = b.addr end
  end
  self.live[block] = payload
  return block + self.shift, searched, { payload = payload + self.shift }
end

function Engine:free(addr)
  local payload = self.live[addr - self.shift]
  if not payload then return -1 end
  self.m:free(payload)
  self.live[addr - self.shift] = nil
  return 0
end

local function engine_blocks(self, state)
  local out = {}
  for b in self.m:blocks() do
    if b.state == state then
      out[#out + 1] = { addr = b.addr + self.shift, size = b.size,
                        payload = b.payload and b.payload + self.shift, requested = b.requested }
    end
  end
  return out
end
function Engine:free_list() return engine_blocks(self, "free") end
function Engine:used() return engine_blocks(self, "used") end

-- ---- the simulation ---------------------------------------------------------

--- M.heap(o) -> the heap the exercise o runs on (malloc.py's model, or a
--- stackheap machine for an engine policy), or nil, msg.
function M.heap(o)
  if o.engine then return engine_heap(o) end
  return freespace.new { size = o.heapSize, base = o.baseAddr, header = o.headerSize,
    align = o.alignment, policy = o.policy, order = o.order, coalesce = o.coalesce }
end

--- M.simulate(o, on_step [, heap]) runs the exercise o (the settings) and calls
--- on_step(step) for each operation malloc.py prints, where step is
---   {kind = "alloc", ptr, size, block (-1: failed), payload, searched,
---    explain = {request, examined = {{addr, size, fits, wins}...}, chosen, split}}
---   {kind = "free", ptr, rc, merges}       {kind = "skip", ptr, reason}
--- each with item (its place in the -A list; nil in random mode), and, but
--- for skips, free_list (in list order) and used (address order) after the
--- operation: what a report draws. Returns true, or nil and a message when
--- the exercise cannot go on (malloc.py crashes there).
function M.simulate(o, on_step, heap)
  local err
  if not heap then
    heap, err = M.heap(o)
    if not heap then return nil, err end
  end
  local ptrs, live = {}, {}      -- ptr index -> block (false: failed); live indexes in order
  local freed = {}               -- ptr index -> true once freed
  local granted = 0              -- successful allocations: what malloc.py's -A mode checks indexes against
  local function emit(step)
    step.free_list, step.used = heap:free_list(), heap:used()
    on_step(step)
  end
  local function alloc(size, random_mode, item)
    local c = #ptrs
    local block, searched, info = heap:malloc(size)
    if not block then
      local holder = "?"
      for i, b in ipairs(ptrs) do
        if b == searched and not freed[i - 1] then holder = i - 1 end
      end
      return nil, ("ptr[%d] = Alloc(%d) would get address %d, where ptr[%s]'s zero-size block "
        .. "is still allocated; malloc.py stops here with an AssertionError"):format(c, size, searched, holder)
    end
    ptrs[c + 1] = block ~= -1 and block
    if block ~= -1 then granted = granted + 1 end
    if block ~= -1 and random_mode then live[#live + 1] = c end
    local payload = block == -1 and -1 or info.payload or block + o.headerSize
    emit { kind = "alloc", ptr = c, item = item, size = size, block = block, payload = payload,
           searched = searched, explain = not o.engine and info or nil }
    return true
  end
  local function free(c, item)
    local rc, merges = heap:free(ptrs[c + 1])
    if rc == 0 then freed[c] = true end
    -- malloc.py skips a free whose index is not below its count of
    -- successful allocations, even when that index allocated fine.
    emit { kind = "free", ptr = c, rc = rc, merges = merges, item = item,
           quirk = item and c >= granted and "skipped" or nil }
  end

  if o.ops then
    for i, op in ipairs(o.ops) do
      if op.kind == "alloc" then
        local ok, e = alloc(op.size, false, i)
        if not ok then return nil, e end
      elseif op.index >= #ptrs then
        on_step { kind = "skip", item = i, ptr = op.index, reason = "never allocated" }
      elseif not ptrs[op.index + 1] then
        -- malloc.py prints the same when the index is past its count of
        -- successful allocations, and crashes (KeyError) when it is not.
        on_step { kind = "skip", item = i, ptr = op.index, reason = "failed",
                  quirk = op.index < granted and "crash" or nil }
      else
        free(op.index, i)
      end
    end
    return true
  end

  local rng <close> = core.random(o.seed.words)
  local percent = o.opsPAlloc / 100.0
  local done = 0
  while done < o.opsNum do
    if rng:random() < percent then
      local ok, e = alloc(math.floor(rng:random() * o.opsRange) + 1, true)
      if not ok then return nil, e end
      done = done + 1
    elseif #live > 0 then
      local d = math.floor(rng:random() * #live) + 1
      free(table.remove(live, d))
      done = done + 1
    end
  end
  return true
end

--- M.steps(o) -> every step table of the exercise o, in order (what a report
--- draws); on failure nil, the message, and the steps before it.
function M.steps(o)
  local steps = {}
  local ok, err = M.simulate(o, function(s) steps[#steps + 1] = s end)
  if not ok then return nil, err, steps end
  return steps
end

-- ---- printing, as malloc.py prints -------------------------------------------

local function list_text(list)
  local parts = {}
  for i, e in ipairs(list) do parts[i] = ("[ addr:%d sz:%d ]"):format(e.addr, e.size) end
  return table.concat(parts)
end

local function explain_lines(o, s)
  local x, lines = s.explain, {}
  local need = x.request
  local how = tostring(x.size)
  if o.alignment ~= -1 then
    how = how .. (" rounded up to %d (alignment %d)"):format(need - o.headerSize, o.alignment)
  end
  if o.headerSize ~= 0 then how = how .. (" + %d (header)"):format(o.headerSize) end
  lines[1] = ("  wants %d bytes%s; %s"):format(need, how == tostring(need) and "" or ": " .. how,
    o.policy == "FIRST" and "first fit takes the first entry that fits"
    or o.policy == "BEST" and "best fit takes the smallest entry that fits, the first of equals"
    or "worst fit takes the largest entry, the first of equals, if it fits")
  for i, e in ipairs(x.examined) do
    local verdict
    if not e.fits then
      verdict = ("too small (%d < %d)"):format(e.size, need)
    elseif e.wins then
      verdict = o.policy == "FIRST" and "fits: the first that does, search stops"
        or o.policy == "BEST" and "fits, the smallest so far"
        or "fits, the largest so far"
    else
      verdict = o.policy == "BEST" and "fits, but is not smaller than the best so far"
        or "fits, but is not larger than the best so far"
    end
    lines[#lines + 1] = ("  %d. [ addr:%d sz:%d ] %s"):format(i, e.addr, e.size, verdict)
  end
  if not x.chosen then
    lines[#lines + 1] = "  no entry fits: the allocation fails and the list is unchanged"
  else
    local e = x.examined[x.chosen]
    lines[#lines + 1] = x.split
      and ("  entry %d wins: its low %d bytes become the block, [ addr:%d sz:%d ] stays in its place")
        :format(x.chosen, need, e.addr + need, e.size - need)
      or ("  entry %d wins: an exact fit, it leaves the list"):format(x.chosen)
  end
  return lines
end

local function printer(o, out)
  local random_mode = o.ops == nil
  local function list()
    if not o.solve then
      out:write(random_mode and "List? \n" or "List?\n")
    end
  end
  return function(s)
    if s.quirk then
      out:flush()
      io.stderr:write(("stackheap: ostep-malloc: note: -A item %d: %s\n"):format(s.item,
        s.quirk == "crash" and ("ptr[%d]'s allocation failed, so there is nothing to free; "
          .. "skipped (malloc.py stops here with a KeyError)"):format(s.ptr)
        or ("freed ptr[%d]; malloc.py would print 'Invalid Free: Skipping' (it compares the "
          .. "index with its count of successful allocations)"):format(s.ptr)))
    end
    if s.kind == "skip" then
      out:write("Invalid Free: Skipping\n")
      return
    end
    if s.kind == "alloc" then
      out:write(("ptr[%d] = Alloc(%d)"):format(s.ptr, s.size))
      if o.solve then
        local shown = random_mode and s.payload or s.block
        out:write((" returned %d (searched %d elements)\n"):format(shown, s.searched))
        if o.explain then out:write(table.concat(explain_lines(o, s), "\n"), "\n") end
      else
        out:write(" returned ?\n")
      end
    else
      out:write(("Free(ptr[%d])\n"):format(s.ptr))
      out:write(o.solve and ("returned %d\n"):format(s.rc) or "returned ?\n")
    end
    if o.solve then
      local name = o.engine and "Free Blocks" or "Free List"
      out:write(("%s [ Size %d ]: %s\n"):format(name, #s.free_list, list_text(s.free_list)))
    else
      list()
    end
    out:write("\n")
  end
end

-- ---- the report: each step's heap and free list, for --html and --svg ---------

-- malloc.py's ptr[] array drawn as a frame, so the picture shows which block
-- each ptr[i] names (in -A mode a freed one keeps its value and is drawn
-- dangling, as malloc.py keeps it; random mode forgets it, as malloc.py
-- does). The frame is fixed for the whole run and each step writes only the
-- pointer that changed, so a long run costs a word a step: one slot a
-- pointer up to SLOTS allocations, else one array slot.
local STACK_TOP, SLOTS = 0x7fff0000, 64

local function ptr_frame(n)
  local slots = {}
  if n <= SLOTS then
    for c = 0, n - 1 do
      slots[#slots + 1] = { name = ("ptr[%d]"):format(c), type = "*mut u8", size = 8, kind = "p",
                            addr = STACK_TOP - 8 * (c + 1) }
    end
  else
    slots[1] = { name = "ptr", type = ("[*mut u8; %d]"):format(n), size = 8 * n, kind = "a",
                 addr = STACK_TOP - 8 * n }
  end
  table.sort(slots, function(a, b) return a.addr > b.addr end)
  return { name = "malloc.py's ptr[]", sp = STACK_TOP - 8 * math.max(n, 1), fp = STACK_TOP,
           top = STACK_TOP, slots = slots }
end

-- ptr[c]'s word in the frame, holding v.
local function ptr_write(n, c, v)
  local addr = n <= SLOTS and STACK_TOP - 8 * (c + 1) or STACK_TOP - 8 * n + 8 * c
  return { addr = addr, bytes = (string.pack("<i8", v):gsub(".", function(ch)
    return ("%02x"):format(ch:byte()) end)) }
end

-- A step table as the report writer takes it (docs/REPORTS.md): the blocks
-- tiling the heap, the free list in its order, the line malloc.py printed.
local function report_step(o, s, text, requested)
  if s.kind == "skip" then
    return { op = "free", text = text, line = s.item or 0, error = "Invalid Free: Skipping" }
  end
  local blocks, order = {}, {}
  for _, b in ipairs(s.used) do
    if b.size > 0 then         -- a zero-size block covers no byte to draw
      blocks[#blocks + 1] = { addr = b.addr, size = b.size, state = "used",
        payload = b.payload or b.addr + o.headerSize, requested = b.requested or requested[b.addr] }
    end
  end
  for _, e in ipairs(s.free_list) do
    if e.size > 0 then
      blocks[#blocks + 1] = { addr = e.addr, size = e.size, state = "free" }
      order[#order + 1] = e.addr
    end
  end
  table.sort(blocks, function(a, b) return a.addr < b.addr end)
  local failed = s.kind == "alloc" and s.block == -1
  return { op = s.kind, text = text, line = s.item or 0, blocks = blocks, free_lists = { order },
           searched = s.searched, heap_bytes = o.heapSize,
           error = failed and "out of memory" or s.rc == -1 and "not a live block" or nil }
end

-- Returns on_step for the simulation, feeding print and the writer, and a
-- function that writes the files at the end.
local function reporter(o, print_step)
  if not (o.html or o.svg) then return print_step, function() return true end end
  local report = require "stackheap.report"
  local lines = {}
  if o.ops then
    for item in (o.opsList .. ","):gmatch("([^,]*),") do lines[#lines + 1] = item end
  end
  local title = ("ostep-malloc: %s, %s%s, %s"):format(o.policy, o.order,
    o.coalesce and ", coalescing" or "",
    o.ops and "-A " .. o.opsList or "seed " .. pyint.tostring(o.seed))
  local w = report.new { title = title,
    source = o.ops and { name = "-A", text = table.concat(lines, "\n") } or nil }
  w:machine(1, { word = 8, policy = o.policy, order = o.order })
  -- How many pointers ptr[] will hold: the -A list says; a random run is
  -- simulated once beforehand (the same draws) to count them.
  local n = 0
  if o.ops then
    for _, op in ipairs(o.ops) do if op.kind == "alloc" then n = n + 1 end end
  else
    M.simulate(o, function(s) if s.kind == "alloc" then n = n + 1 end end)
  end
  local requested, first = {}, true  -- block -> requested size
  local function on_step(s)
    print_step(s)
    local write
    if s.kind == "alloc" then
      if s.block ~= -1 then requested[s.block] = s.size end
      write = ptr_write(n, s.ptr, s.block ~= -1 and s.payload or 0)
    elseif s.kind == "free" and not o.ops then
      write = ptr_write(n, s.ptr, 0)
    end
    local text = s.kind == "alloc" and ("ptr[%d] = Alloc(%d) returned %d (searched %d elements)")
        :format(s.ptr, s.size, o.ops and s.block or s.payload, s.searched)
      or s.kind == "free" and ("Free(ptr[%d]) returned %d"):format(s.ptr, s.rc)
      or "Invalid Free: Skipping"
    local step = report_step(o, s, text, requested)
    if first then step.frames, first = { ptr_frame(n) }, false end
    step.memory = { write }
    w:step(step)
  end
  local function finish()
    if o.html then
      local ok, err = w:html(o.html)
      if not ok then return nil, "cannot write the report: " .. tostring(err) end
    end
    if o.svg then
      if w.n == 0 then return nil, "--svg: the exercise performed no operation to draw" end
      local step = o.step or w.n
      if step > w.n then return nil, ("--step %d: the exercise has %d operations"):format(step, w.n) end
      local ok, err = require("stackheap.svg").write_step(w, step, o.svg)
      if not ok then return nil, "cannot write the picture: " .. tostring(err) end
    end
    return true
  end
  return on_step, finish
end

local function header(o, out)
  local function py(v) return v == true and "True" or v == false and "False" or tostring(v) end
  if o.engine then
    out:write(("stackheap extension: policy %s is stackheap's allocator, not malloc.py's; "
      .. "its blocks, searches and splits follow docs/POLICIES.md, and its free blocks are "
      .. "listed in address order\n"):format(o.engine))
  end
  local lines = {
    { "seed", pyint.tostring(o.seed) }, { "size", o.heapSize }, { "baseAddr", o.baseAddr },
    { "headerSize", o.headerSize }, { "alignment", o.alignment }, { "policy", o.policy },
    { "listOrder", o.order }, { "coalesce", o.coalesce }, { "numOps", o.opsNum },
    { "range", o.opsRange }, { "percentAlloc", o.opsPAlloc }, { "allocList", o.opsList },
    { "compute", o.solve },
  }
  for _, l in ipairs(lines) do out:write(l[1], " ", py(l[2]), "\n") end
  out:write("\n")
end

local function fail(msg) return require("stackheap.cli").fail(msg, "ostep-malloc") end

local function run(args)
  local o, err = settings(args)
  if not o then return fail(err) end
  local heap, herr = M.heap(o)
  if not heap then return fail(herr) end
  header(o, io.stdout)
  local on_step, finish = reporter(o, printer(o, io.stdout))
  local ok, e = M.simulate(o, on_step, heap)
  -- The report is written even when the exercise stops: its steps up to
  -- there are the ones worth looking at.
  local written, werr = finish()
  if not ok then return fail(e) end
  if not written then return fail(werr) end
  return 0
end

M.name = "ostep-malloc"
M.summary = "OSTEP's free-space simulator (malloc.py): same flags, same answers."
M.description = "A drop-in for vm-freespace/malloc.py from Operating Systems: Three Easy "
  .. "Pieces: the same flags, the same random operations for a seed, the same printed "
  .. "answers with -c. Where malloc.py crashes (malformed -A items, freeing an allocation "
  .. "that failed, a block at an address already handed out) it prints a clear error "
  .. "instead; docs/COMPAT.md lists every difference. Extensions: --explain; --html and "
  .. "--svg, the heap and the free list drawn at each step; and -p with a stackheap policy "
  .. "name (next_fit, buddy, ...) to run the same exercise on stackheap's own allocator."
M.configure = configure
M.run = run

return M
