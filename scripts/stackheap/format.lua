-- stackheap.format: plain-text tables and numbers for scenarios and reports.
-- Output is a pure function of the values, so two runs print the same bytes.
local M = {}

--- format.hex(addr) -> "0x1010"
function M.hex(n)
  if n == nil then return "-" end
  return ("0x%x"):format(n)
end

local function cell(v)
  if v == nil then return "" end
  if math.type(v) == "float" then
    if v == math.floor(v) and math.abs(v) < 1e15 then return ("%d"):format(v) end
    return ("%.2f"):format(v)
  end
  return tostring(v)
end

--- format.table(rows, {columns = {"name", ...}, headers = {"Name", ...},
---   align = {"l", "r", ...}}) -> a string with aligned columns.
--- rows are arrays, or records when `columns` names their keys.
function M.table(rows, opts)
  opts = opts or {}
  local cols, heads = opts.columns, opts.headers
  local grid, width = {}, {}
  local function add(line)
    for i, v in ipairs(line) do
      if #v > (width[i] or 0) then width[i] = #v end
    end
    grid[#grid + 1] = line
  end
  if heads then add(heads) end
  for _, r in ipairs(rows) do
    local line = {}
    local n = cols and #cols or #r
    for i = 1, n do line[i] = cell(cols and r[cols[i]] or r[i]) end
    add(line)
  end
  local out = {}
  for li, line in ipairs(grid) do
    local parts = {}
    for i, v in ipairs(line) do
      local a = opts.align and opts.align[i] or (i == 1 and "l" or "r")
      local pad = (" "):rep(width[i] - #v)
      parts[i] = a == "l" and v .. pad or pad .. v
    end
    out[#out + 1] = (table.concat(parts, "  "):gsub("%s+$", ""))
    if heads and li == 1 then
      local rule = {}
      for i = 1, #width do rule[i] = ("-"):rep(width[i]) end
      out[#out + 1] = table.concat(rule, "  ")
    end
  end
  return table.concat(out, "\n")
end

--- format.costs(stats) -> a table of where the cycles went, by category.
function M.costs(stats)
  local rows, total = {}, stats.cycles
  for _, k in ipairs{ "stack", "memory", "alloc", "meta" } do
    local c = stats.cost[k] or 0
    rows[#rows + 1] = { k, c, total > 0 and ("%.1f%%"):format(100 * c / total) or "-" }
  end
  rows[#rows + 1] = { "total", total, total > 0 and "100.0%" or "-" }
  return M.table(rows, { headers = { "category", "cycles", "share" } })
end

--- format.wrap(text, width, indent) -> text broken at spaces into lines of
--- at most width characters (a longer word stands alone), each indented.
function M.wrap(text, width, indent)
  indent = indent or ""
  local lines, line = {}, nil
  for word in text:gmatch("%S+") do
    if line and #indent + #line + 1 + #word > width then
      lines[#lines + 1] = indent .. line
      line = word
    else
      line = line and line .. " " .. word or word
    end
  end
  if line then lines[#lines + 1] = indent .. line end
  return table.concat(lines, "\n")
end

--- format.diagnostic(e [, {where = "file", label = "machine 2", explain = true}])
--- -> a checker report (an m:errors() entry) as a compiler prints one:
--- "FILE:LINE: error: KIND: MESSAGE", then a note for each place the memory
--- involved was allocated, freed or popped, then the explanation, indented.
--- `where` stands in for the line when the report has none (leaks at the end);
--- `explain = false` leaves the explanation out.
function M.diagnostic(e, opts)
  opts = opts or {}
  local where = opts.where or "stackheap"
  local head = e.kind == "leak" and ("leak (%s lost)"):format(e.leak) or e.kind
  local out = { ("%s: error: %s: %s%s"):format(e.site or where, head, e.message,
                                                opts.label and " [" .. opts.label .. "]" or "") }
  local b, f = e.block, e.frame
  if b and b.alloc_op then
    out[#out + 1] = ("%s: note: the %d-byte block at %s was allocated here (op %d)")
      :format(b.alloc_site or where, b.size, M.hex(b.addr), b.alloc_op)
  end
  if b and b.free_op then
    out[#out + 1] = ("%s: note: and freed here (op %d)"):format(b.free_site or where, b.free_op)
  end
  if f and f.pop_op then
    out[#out + 1] = ("%s: note: frame '%s' returned here (op %d)")
      :format(f.pop_site or where, f.name, f.pop_op)
  end
  if e.explain and opts.explain ~= false then out[#out + 1] = M.wrap(e.explain, 78, "    ") end
  return table.concat(out, "\n")
end

return M
