-- stackheap.map: a compact text picture of a machine (m:map()): the heap as a
-- scaled strip of characters, block by block, and the stack's frames and slots.
-- Drawn from m:snapshot(), so it shows what the report writers show.
local fmt = require "stackheap.format"

local M = {}

local USED, FREE, HDR, PAD = "#", ".", "h", "-"

-- Every char stands for `per` bytes; a block gets at least one char, so
-- small blocks stay visible (the strip is to scale above that).
local function strip(blocks, per)
  local out = {}
  for _, b in ipairs(blocks) do
    local n = math.max(1, (b.size + per - 1) // per)
    if b.state == "used" then
      local h = math.min(n - 1, (b.payload - b.addr) // per)
      local p = math.max(1, math.min(n - h, (b.requested + per - 1) // per))
      out[#out + 1] = HDR:rep(h) .. USED:rep(p) .. PAD:rep(n - h - p)
    else
      out[#out + 1] = FREE:rep(n)
    end
  end
  return table.concat(out)
end

--- map.text(snap, {width = 64}) -> the picture of a snapshot, as lines.
function M.text(snap, opts)
  opts = opts or {}
  local width = opts.width or 64
  local lines, blocks = {}, snap.blocks
  if #blocks == 0 then
    lines[#lines + 1] = "heap: empty"
  else
    local lo, last = blocks[1].addr, blocks[#blocks]
    local span = last.addr + last.size - lo
    local per = 1
    while span / per > width * 4 do per = per * 2 end     -- at most about four rows
    local s = strip(blocks, per)
    lines[#lines + 1] = ("heap %s..%s, %d bytes, one char = %d byte%s (%s used  %s header  %s padding  %s free)")
      :format(fmt.hex(lo), fmt.hex(lo + span), span, per, per == 1 and "" or "s", USED, HDR, PAD, FREE)
    for i = 1, #s, width do lines[#lines + 1] = "  |" .. s:sub(i, i + width - 1) .. "|" end
    local pointed = {}
    for _, p in ipairs(snap.pointers) do pointed[p.block] = true end
    for _, b in ipairs(blocks) do
      if b.state == "used" then
        lines[#lines + 1] = ("  %-10s %6d  used  %d requested%s"):format(fmt.hex(b.addr), b.size,
          b.requested, pointed[b.addr] and "" or "  (no pointer in memory refers to it)")
      else
        lines[#lines + 1] = ("  %-10s %6d  free"):format(fmt.hex(b.addr), b.size)
      end
    end
  end
  if #snap.frames == 0 then
    lines[#lines + 1] = "stack: empty"
  else
    lines[#lines + 1] = "stack, innermost first:"
    local targets = {}
    for _, p in ipairs(snap.pointers) do if p.slot then targets[p.from] = p.block end end
    for _, f in ipairs(snap.frames) do
      lines[#lines + 1] = ("  %s  sp %s, %d bytes"):format(f.name, fmt.hex(f.sp), f.size)
      for _, s in ipairs(f.slots) do
        local v = s.value
        if s.kind == "ptr" and v then v = v == 0 and "null" or fmt.hex(v)
        elseif v == nil then v = "(" .. s.size .. " bytes)" end
        local to = targets[s.addr]
        lines[#lines + 1] = ("    %-12s %-16s = %s%s"):format(s.name, s.type, tostring(v),
          to and ("  -> block " .. fmt.hex(to)) or "")
      end
    end
  end
  return lines
end

return M
