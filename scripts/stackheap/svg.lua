-- stackheap.svg: standalone SVG pictures for slides and handouts: one step of a
-- report (stack, heap to scale, pointers, free lists), and a trace's heap map
-- with its fragmentation plot.  Each file carries its own style (dark mode too).
local report = require "stackheap.report"

local M = {}

local esc = report.escape_html

local STYLE = [[
<style>
svg { --bg:#fff; --fg:#111; --muted:#555; --line:#222; --used:#4a7fd1; --usedfg:#fff;
  --free:#d8efd3; --freel:#2f7d32; --hdr:#6b6b6b; --pad:#e9d9a6; --bad:#c0392b;
  --list:#d35400; --ptr:#1b4f9c; --stack:#f7eadf; --stackl:#8a5a2b; }
@media (prefers-color-scheme: dark) {
  svg { --bg:#15171a; --fg:#f1f1f1; --muted:#b5b5b5; --line:#ddd; --used:#5b8fe0; --usedfg:#0b0b0b;
    --free:#1f3d22; --freel:#8fd694; --hdr:#9a9a9a; --pad:#6b5a22; --bad:#ff6b5b;
    --list:#ff9f43; --ptr:#8fb8ff; --stack:#33281e; --stackl:#e0b07a; } }
.bg { fill: var(--bg); }
text { fill: var(--fg); font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 15px; }
.mono { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 12px; }
.muted { fill: var(--muted); }
.h { font-size: 18px; font-weight: bold; }
.used { fill: var(--used); stroke: var(--line); stroke-width: 1.5; }
.onused { fill: var(--usedfg); font-size: 13px; }
.free { fill: url(#pfree); stroke: var(--freel); stroke-width: 1.5; }
.hdr { fill: url(#phdr); stroke: var(--line); }
.pad { fill: url(#ppad); stroke: var(--line); }
.leak { fill: none; stroke: var(--bad); stroke-width: 4; stroke-dasharray: 8 4; }
.frame { fill: var(--stack); stroke: var(--stackl); stroke-width: 2; }
.slot { fill: var(--bg); stroke: var(--stackl); }
.spad { fill: url(#ppad); stroke: var(--stackl); }
.ptr { stroke: var(--ptr); stroke-width: 2.5; fill: none; marker-end: url(#arrow); }
.dangling { stroke: var(--bad); stroke-width: 2.5; fill: none; stroke-dasharray: 6 4; marker-end: url(#cross); }
.link { stroke: var(--list); stroke-width: 2; fill: none; stroke-dasharray: 2 3; }
.badge { fill: var(--list); }
.badget { fill: #000; font-size: 11px; font-weight: bold; }
.axis { stroke: var(--line); stroke-width: 1.5; }
.l1 { stroke: var(--ptr); stroke-width: 2.5; fill: none; }
.l2 { stroke: var(--freel); stroke-width: 2.5; fill: none; stroke-dasharray: 8 4; }
</style>
<defs>
<pattern id="pfree" width="10" height="10" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="10" height="10" style="fill:var(--free)"/><line x1="0" y1="0" x2="0" y2="10" style="stroke:var(--freel);stroke-width:3"/></pattern>
<pattern id="phdr" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" style="fill:var(--hdr)"/><circle cx="3" cy="3" r="1.2" style="fill:var(--bg)"/></pattern>
<pattern id="ppad" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><rect width="8" height="8" style="fill:var(--pad)"/><line x1="0" y1="0" x2="0" y2="8" style="stroke:var(--line)"/></pattern>
<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" style="fill:var(--ptr)"/></marker>
<marker id="cross" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="9" markerHeight="9"><path d="M1,1L9,9M9,1L1,9" style="stroke:var(--bad);stroke-width:2.5"/></marker>
</defs>
]]

local function hex(v) return v and ("0x%x"):format(v) or "nil" end
local function plural(n) return n == 1 and "1 byte" or n .. " bytes" end
local function f1(x) return ("%.1f"):format(x) end

local function open_svg(w, h, title)
  return { ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
            .. 'role="img" aria-label="%s">'):format(w, h, w, h, esc(title)),
           "<title>" .. esc(title) .. "</title>", STYLE,
           ('<rect class="bg" width="%d" height="%d"/>'):format(w, h) }
end

-- Blocks as rows of bytes, to scale.  blocks: {{addr, size, payload, requested}...}
-- in address order (payload 0: free).  Returns the elements and where an
-- address is drawn.
function M.heap_rows(blocks, x, y, width, opts)
  opts = opts or {}
  local out = {}
  if #blocks == 0 then return out, nil, 0 end
  local lo, last = blocks[1][1], blocks[#blocks]
  local hi = last[1] + last[2]
  local R = 64
  while (hi - lo) / R > (opts.rows or 16) do R = R * 2 end
  local rows = (hi - lo + R - 1) // R
  local rowh, scale = 46, width / R
  local function pos(a)
    local off = a - lo
    local r = math.min(off // R, rows - 1)
    return x + (off - r * R) * scale, y + r * rowh
  end
  local function seg(a, b, cls, extra)
    while a < b do
      local px, py = pos(a)
      local row_end = lo + ((a - lo) // R + 1) * R
      local e = math.min(b, row_end)
      out[#out + 1] = ('<rect class="%s" x="%s" y="%d" width="%s" height="%d"%s/>')
        :format(cls, f1(px), py + 4, f1(math.max(1, (e - a) * scale)), rowh - 12, extra or "")
      a = e
    end
  end
  for r = 0, rows - 1 do
    out[#out + 1] = ('<text class="mono muted" x="%d" y="%d" text-anchor="end">%s</text>')
      :format(x - 6, y + r * rowh + 26, hex(lo + r * R))
  end
  for _, b in ipairs(blocks) do
    local addr, size, payload, req = b[1], b[2], b[3], b[4]
    if payload ~= 0 then
      seg(addr, payload, "hdr")
      seg(payload, payload + req, "used")
      seg(payload + req, addr + size, "pad")
    else
      seg(addr, addr + size, "free")
    end
    local px, py = pos(payload ~= 0 and payload or addr)
    if math.min(size * scale, x + width - px) > 50 then
      out[#out + 1] = ('<text x="%s" y="%d"%s>%s</text>'):format(f1(px + 4), py + 24,
        payload ~= 0 and ' class="onused"' or "", payload ~= 0 and plural(req) or "free " .. size)
    end
  end
  return out, { pos = pos, seg = seg, lo = lo, hi = hi, R = R, rowh = rowh }, rows * rowh
end

local function word_at(mem, addr, w)
  local v, known = 0, false
  for j = w - 1, 0, -1 do
    local b = mem[addr + j]
    if b then known = true end
    v = v * 256 + (b or 0)
  end
  return known and v or nil
end

local function slot_value(mem, s, word)
  if s[7] then return s[7] end
  local addr, size, kind = s[3], s[4], s[5]
  if kind == "p" then local v = word_at(mem, addr, size); return (v and v ~= 0) and hex(v) or "null" end
  if (kind == "i" or kind == "u") and size <= 8 then
    local bytes = {}
    for j = 0, size - 1 do bytes[j + 1] = string.char(mem[addr + j] or 0) end
    local fmt = (kind == "i" and "<i" or "<I") .. size
    local ok, v = pcall(string.unpack, fmt, table.concat(bytes))
    return ok and tostring(v) or "?"
  end
  if kind == "b" then return (mem[addr] or 0) ~= 0 and "true" or "false" end
  local hexes = {}
  for j = 0, math.min(size, 8) - 1 do hexes[#hexes + 1] = ("%02x"):format(mem[addr + j] or 0) end
  return table.concat(hexes, " ") .. (size > 8 and " …" or "")
end
M.slot_value = slot_value

-- The text of a step, as the page shows it (shorter).
local function step_text(w, i)
  for _, t in ipairs(w.text) do if t[1] == i then return t[2] end end
  local shape = w.shapes[w.col.s[i]]
  local op, a = w.kinds[shape[2]], w.col.a[i]
  local parts = {}
  for j = 1, #a do parts[j] = a[j] == report.null and "nil" or tostring(a[j]) end
  return op .. "(" .. table.concat(parts, ", ") .. ")"
end

--- svg.step(w, i) -> the SVG text of step i of writer w: its machine's stack
--- and heap after the step.
function M.step(w, i)
  local st = w:state_at(i)
  local mn = st.machine
  local word = 8
  for _, info in ipairs(w.machines) do if info.n == mn then word = info.word or 8 end end
  local body, ROW, SX, SW, HX, HW, top = {}, 30, 10, 430, 560, 640, 70
  local slotpos = {}
  local y = top
  body[#body + 1] = ('<text class="h" x="%d" y="26">Step %d of %d: %s</text>'):format(SX, i, w.n,
    esc(step_text(w, i)))
  body[#body + 1] = ('<text class="h" x="%d" y="56">Stack (grows down)</text>'):format(SX)
  for fi, f in ipairs(st.frames) do
    local slots = {}
    for k, s in ipairs(f[5]) do slots[k] = s end
    table.sort(slots, function(a, b) return a[3] > b[3] end)
    local rows = { { "ret", "return address, saved frame pointer", f[3], f[4] - f[3] } }
    local at = f[3]
    for _, s in ipairs(slots) do
      local e = s[3] + s[4]
      if e < at then rows[#rows + 1] = { "pad", "padding", e, at - e } end
      rows[#rows + 1] = { "slot", s }
      at = s[3]
    end
    if at > f[2] then rows[#rows + 1] = { "pad", "padding", f[2], at - f[2] } end
    local h = ROW * (#rows + 1) + 8
    body[#body + 1] = ('<rect class="frame" x="%d" y="%d" width="%d" height="%d" rx="6"/>'):format(SX, y, SW, h)
    body[#body + 1] = ('<text x="%d" y="%d" font-weight="bold">%s%s</text>'):format(SX + 8, y + 21,
      fi == #st.frames and "▶ " or "", esc(f[1]))
    local ry = y + ROW
    for _, r in ipairs(rows) do
      body[#body + 1] = ('<rect class="%s" x="%d" y="%d" width="%d" height="%d"/>')
        :format(r[1] == "pad" and "spad" or "slot", SX + 6, ry, SW - 12, ROW - 2)
      if r[1] == "slot" then
        local s = r[2]
        body[#body + 1] = ('<text x="%d" y="%d"><tspan font-weight="bold">%s</tspan>: %s</text>')
          :format(SX + 12, ry + 19, esc(s[1]), esc(s[2]))
        body[#body + 1] = ('<text class="mono" x="%d" y="%d" text-anchor="end">%s</text>')
          :format(SX + SW - 12, ry + 19, esc(slot_value(st.mem, s, word)))
        slotpos[#slotpos + 1] = { s = s, x = SX + SW - 6, y = ry + ROW // 2 }
      else
        body[#body + 1] = ('<text class="muted" x="%d" y="%d">%s (%s)</text>')
          :format(SX + 12, ry + 19, r[2], plural(r[4]))
      end
      ry = ry + ROW
    end
    y = y + h + 10
  end
  local blocks = st.blocks
  body[#body + 1] = ('<text class="h" x="%d" y="56">Heap%s</text>'):format(HX,
    #blocks > 0 and (" — " .. plural(blocks[#blocks][1] + blocks[#blocks][2] - blocks[1][1])) or ", empty")
  local rows, at, hh = M.heap_rows(blocks, HX, top, HW)
  table.move(rows, 1, #rows, #body + 1, body)
  if at then
    local used = {}
    for _, b in ipairs(blocks) do if b[3] ~= 0 then used[#used + 1] = b end end
    local function used_at(v)
      local lo, hi = 1, #used
      while lo <= hi do
        local mid = (lo + hi) // 2
        local b = used[mid]
        if v < b[1] then hi = mid - 1 elseif v >= b[1] + b[2] then lo = mid + 1 else return b end
      end
    end
    local reached, arrows = {}, {}
    for _, sp in ipairs(slotpos) do
      local s = sp.s
      if s[5] == "p" or s[5] == "a" then
        for off = 0, s[4] - word, word do
          local v = word_at(st.mem, s[3] + off, word)
          if v and v ~= 0 then
            local t = used_at(v)
            if t then reached[t[1]] = true; arrows[#arrows + 1] = { "ptr", sp.x, sp.y, v }
            elseif s[5] == "p" and v >= at.lo and v < at.hi then arrows[#arrows + 1] = { "dangling", sp.x, sp.y, v } end
          end
        end
      end
    end
    for _, b in ipairs(used) do
      local first = b[3] + (-b[3] % word)
      for a = first, b[3] + b[4] - word, word do
        local v = word_at(st.mem, a, word)
        local t = v and v ~= 0 and used_at(v)
        if t then
          reached[t[1]] = true
          local px, py = at.pos(a)
          arrows[#arrows + 1] = { "ptr", px + 3, py + 8, v }
        end
      end
    end
    local n0 = #rows
    for _, b in ipairs(used) do
      if not reached[b[1]] then at.seg(b[1], b[1] + b[2], "leak") end
    end
    table.move(rows, n0 + 1, #rows, #body + 1, body)   -- seg() draws into rows
    local lists = st.lists
    if not lists then
      local fr = {}
      for _, b in ipairs(blocks) do if b[3] == 0 then fr[#fr + 1] = b[1] end end
      lists = #fr > 0 and { { 0, fr } } or {}
    end
    for _, l in ipairs(lists) do
      for k, a in ipairs(l[2]) do
        local px, py = at.pos(a)
        body[#body + 1] = ('<circle class="badge" cx="%s" cy="%d" r="9"/><text class="badget" x="%s" y="%d" text-anchor="middle">%d</text>')
          :format(f1(px + 10), py + at.rowh - 6, f1(px + 10), py + at.rowh - 2, k)
        local nxt = l[2][k + 1]
        if nxt then
          local qx, qy = at.pos(nxt)
          local bend = math.max(18, math.abs(qx - px) / 6)
          body[#body + 1] = ('<path class="link" d="M%s,%d C%s,%s %s,%s %s,%d"/>'):format(f1(px + 18),
            py + at.rowh - 6, f1(px + 18), f1(py + at.rowh - 6 + bend), f1(qx + 2),
            f1(qy + at.rowh - 6 + bend), f1(qx + 2), qy + at.rowh - 6)
        end
      end
    end
    for _, a in ipairs(arrows) do
      local x2, y2 = at.pos(a[4])
      x2, y2 = x2 + 2, y2 + 10
      local mx = (a[2] + x2) / 2
      body[#body + 1] = ('<path class="%s" d="M%s,%s C%s,%s %s,%s %s,%s"/>'):format(a[1], f1(a[2]),
        f1(a[3]), f1(mx), f1(a[3]), f1(mx), f1(y2), f1(x2), f1(y2))
      if a[1] == "dangling" then
        body[#body + 1] = ('<text x="%s" y="%s" font-weight="bold" style="fill:var(--bad)">dangling</text>')
          :format(f1(x2 + 8), f1(y2 - 4))
      end
    end
  end
  -- the legend: every state named, not only coloured
  local ly = math.max(y, top + (hh or 0) + 20) + 10
  local legend = { { "used", "used (payload)" }, { "hdr", "header / alignment" },
                   { "pad", "padding, footer" }, { "free", "free (hatched)" },
                   { "leak", "unreachable" } }
  for k, l in ipairs(legend) do
    local lx = SX + (k - 1) * 240
    body[#body + 1] = ('<rect class="%s" x="%d" y="%d" width="32" height="16"/><text x="%d" y="%d">%s</text>')
      :format(l[1], lx, ly, lx + 40, ly + 14, l[2])
  end
  local H = ly + 30
  local out = open_svg(HX + HW + 20, H, ("stackheap: step %d of %d"):format(i, w.n))
  table.move(body, 1, #body, #out + 1, out)
  out[#out + 1] = "</svg>\n"
  return table.concat(out, "\n")
end

--- svg.write_step(w, i, path) -> true | nil, msg
function M.write_step(w, i, path)
  return report.write_file(path, M.step(w, i))
end

--- svg.trace(t) -> the SVG text of a replayed trace: t = {title, heading, blocks =
--- {{addr, size, payload, requested}...}, series = {op = {...}, heap = {...},
--- live = {...}}}: the heap map at the end and heap size against live bytes.
function M.trace(t)
  local W, HX, HW = 1000, 90, 880
  local body = {}
  body[#body + 1] = ('<text class="h" x="10" y="26">%s</text>'):format(esc(t.title or "trace"))
  body[#body + 1] = ('<text class="h" x="10" y="58">%s</text>'):format(esc(t.heading or "Heap at the end"))
  local rows, _, hh = M.heap_rows(t.blocks or {}, HX, 70, HW, { rows = 24 })
  table.move(rows, 1, #rows, #body + 1, body)
  local py = 70 + hh + 50
  local s = t.series or {}
  local ops, heap, live = s.op or {}, s.heap or {}, s.live or {}
  local PH = 220
  body[#body + 1] = ('<text class="h" x="10" y="%d">Heap size and live bytes over the trace (the gap is fragmentation)</text>'):format(py - 12)
  local n, ymax, xmax = #ops, 1, 1
  for k = 1, n do
    ymax = math.max(ymax, heap[k], live[k])
    xmax = math.max(xmax, ops[k])
  end
  local function sx(o) return HX + o / xmax * HW end
  local function sy(v) return py + PH - v / ymax * (PH - 10) end
  body[#body + 1] = ('<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/><line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>')
    :format(HX, py + PH, HX + HW, py + PH, HX, py, HX, py + PH)
  body[#body + 1] = ('<text x="%d" y="%d" text-anchor="end">%d</text><text x="%d" y="%d" text-anchor="end">0</text>')
    :format(HX - 6, py + 12, ymax, HX - 6, py + PH)
  body[#body + 1] = ('<text x="%d" y="%d" text-anchor="end">op %d</text>'):format(HX + HW, py + PH + 20, xmax)
  local step = math.max(1, n // 2000)
  for _, line in ipairs{ { heap, "l1", "heap size" }, { live, "l2", "live bytes" } } do
    local d = {}
    for k = 1, n, step do d[#d + 1] = (k == 1 and "M" or "L") .. f1(sx(ops[k])) .. "," .. f1(sy(line[1][k])) end
    if #d > 0 then body[#body + 1] = ('<path class="%s" d="%s"/>'):format(line[2], table.concat(d)) end
  end
  local ky = py + PH + 44
  body[#body + 1] = ('<line class="l1" x1="%d" y1="%d" x2="%d" y2="%d"/><text x="%d" y="%d">heap size</text>')
    :format(HX, ky, HX + 40, ky, HX + 48, ky + 5)
  body[#body + 1] = ('<line class="l2" x1="%d" y1="%d" x2="%d" y2="%d"/><text x="%d" y="%d">live bytes</text>')
    :format(HX + 200, ky, HX + 240, ky, HX + 248, ky + 5)
  local legend = { { "used", "used" }, { "hdr", "header" }, { "pad", "padding" }, { "free", "free (hatched)" } }
  for k, l in ipairs(legend) do
    local lx = HX + 400 + (k - 1) * 140
    body[#body + 1] = ('<rect class="%s" x="%d" y="%d" width="28" height="14"/><text x="%d" y="%d">%s</text>')
      :format(l[1], lx, ky - 8, lx + 34, ky + 5, l[2])
  end
  local out = open_svg(W, ky + 20, t.title or "trace")
  table.move(body, 1, #body, #out + 1, out)
  out[#out + 1] = "</svg>\n"
  return table.concat(out, "\n")
end

return M
