-- stackheap.json: JSON text that is the same bytes on every run.
-- lua-cjson writes each string and float; this module only orders the keys
-- (cjson follows the table's hash order, which Lua 5.4 seeds randomly per
-- process) and writes integers itself (cjson 2.1 rounds those above 1e14).
local cjson = require "cjson"

local M = {}

-- An empty table is an array if marked so, else an object.
local array_mt = {}
function M.array(t)
  return setmetatable(t or {}, array_mt)
end

local function is_array(t)
  if getmetatable(t) == array_mt then return true end
  local n = #t
  if n == 0 then return false end
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
  end
  return true
end

local function encode(v, out)
  local ty = type(v)
  if ty == "table" then
    if is_array(v) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode(v[i], out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do
        if type(k) ~= "string" then
          error(("json: object keys must be strings, got %s"):format(type(k)), 0)
        end
        keys[#keys + 1] = k
      end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = cjson.encode(k)
        out[#out + 1] = ":"
        encode(v[k], out)
      end
      out[#out + 1] = "}"
    end
  elseif math.type(v) == "integer" then
    out[#out + 1] = ("%d"):format(v)
  else
    out[#out + 1] = cjson.encode(v)
  end
end

--- json.encode(value) -> text, objects with their keys sorted.
function M.encode(v)
  local out = {}
  encode(v, out)
  return table.concat(out)
end

M.decode = cjson.decode
M.null = cjson.null

return M
