-- stackheap.pyint: integers as Python's optparse reads them (any size: "0x" hex, "0b" binary,
-- a leading 0 octal, underscores between digits), kept as 32-bit words for seeding Python's generator.
local M = {}

local RADIX_DIGITS = { [2] = "01", [8] = "0-7", [10] = "%d", [16] = "%x" }
local PREFIX = { [2] = "0[bB]", [8] = "0[oO]", [16] = "0[xX]" }

-- int(text, radix) as Python 3 reads it: spaces around, a sign, the radix's
-- own prefix (optional), digits with single underscores between them.
local function parse(text, radix)
  local s = text:match("^%s*(.-)%s*$")
  local sign = s:match("^[+-]") or ""
  s = s:sub(#sign + 1)
  local prefixed = PREFIX[radix] and s:match("^" .. PREFIX[radix])
  if prefixed then s = s:sub(3):gsub("^_", "", 1) end
  local digit = RADIX_DIGITS[radix]
  if s == "" or s:sub(1, 1) == "_" or s:sub(-1) == "_" or s:find("__", 1, true)
     or s:gsub("_", ""):find("[^" .. digit .. "]") then
    return nil
  end
  s = s:gsub("_", "")
  local words = { 0 }
  for c in s:gmatch(".") do
    local carry = tonumber(c, 16)
    for i = 1, #words do
      local v = words[i] * radix + carry
      words[i], carry = v & 0xffffffff, v >> 32
    end
    if carry > 0 then words[#words + 1] = carry end
  end
  return { negative = sign == "-" and (#words > 1 or words[1] ~= 0), words = words }
end

--- pyint.parse_option(text) -> {negative, words} or nil: optparse's type="int",
--- which picks the radix from the prefix before calling int(text, radix).
function M.parse_option(text)
  local head = text:sub(1, 2):lower()
  if head == "0x" then return parse(text, 16) end
  if head == "0b" then return parse(text:sub(3) == "" and "0" or text:sub(3), 2) end
  if text:sub(1, 1) == "0" then return parse(text, 8) end
  return parse(text, 10)
end

--- pyint.parse(text) -> {negative, words} or nil: Python's int(text).
function M.parse(text)
  return parse(text, 10)
end

--- pyint.tointeger(n [, limit]) -> a Lua integer, or nil when |n| > limit
--- (default 2^62).
function M.tointeger(n, limit)
  limit = limit or (1 << 62)
  local v = 0
  for i = #n.words, 1, -1 do
    if v > (limit >> 32) then return nil end
    v = (v << 32) | n.words[i]
  end
  if v > limit then return nil end
  return n.negative and -v or v
end

--- pyint.tostring(n) -> decimal text, as Python prints the int.
function M.tostring(n)
  local words, parts = table.move(n.words, 1, #n.words, 1, {}), {}
  repeat
    -- Divide the whole number by 10^9; the remainder is the next 9 digits.
    local rem = 0
    for i = #words, 1, -1 do
      local v = (rem << 32) | words[i]
      words[i], rem = v // 1000000000, v % 1000000000
    end
    while #words > 1 and words[#words] == 0 do words[#words] = nil end
    table.insert(parts, 1, rem)
  until #words == 1 and words[1] == 0
  local text = tostring(parts[1])
  for i = 2, #parts do text = text .. ("%09d"):format(parts[i]) end
  return (n.negative and "-" or "") .. text
end

return M
