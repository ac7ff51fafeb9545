-- check.lua DOM LOG [key=value ...]: reads what a report page's self-test
-- wrote into the DOM Chromium dumped, and checks it: every check the page
-- ran passed, the browser logged nothing from the page, and each key (a
-- dotted path into the self-test's JSON, e.g. at.dangling or kinds.alloc)
-- has the value given.  Prints each failure; exits 1 if any.
local cjson = require "cjson"
local dom_path, log_path = arg[1], arg[2]
local failures = 0
local function fail(msg) failures = failures + 1; io.stderr:write("FAIL: ", msg, "\n") end

local dom = assert(io.open(dom_path)):read("a")
local text = dom:match('<pre id="selftest">(.-)</pre>')
if not text then
  fail(dom_path .. ": the page wrote no self-test result")
  os.exit(1)
end
text = text:gsub("&lt;", "<"):gsub("&gt;", ">"):gsub("&quot;", '"'):gsub("&amp;", "&")
local r = cjson.decode(text)
if r.exception then fail("the self-test raised: " .. r.exception) end
for _, c in ipairs(r.checks or {}) do
  if not c.ok then fail(("page check '%s': saw %s"):format(c.name, cjson.encode(c.detail))) end
end
if r.ok ~= true then fail("the page's self-test did not pass") end
if type(r.errors) ~= "table" or #r.errors > 0 then
  fail("console errors: " .. cjson.encode(r.errors))
end
for line in assert(io.open(log_path)):lines() do
  if line:find(":CONSOLE", 1, true) then fail("the browser logged: " .. line) end
end
for i = 3, #arg do
  local key, want = arg[i]:match("^([^=]+)=(.*)$")
  local v = r
  for part in key:gmatch("[^.]+") do
    if type(v) ~= "table" then v = nil; break end
    v = v[tonumber(part) or part]
  end
  if math.type(v) == "float" and v == math.floor(v) then v = math.tointeger(v) end
  if tostring(v) ~= want then fail(("%s: want %s, the page shows %s"):format(key, want, tostring(v))) end
end
if failures > 0 then os.exit(1) end
print(("ok: %s (%d page checks, %d expectations)"):format(dom_path, #(r.checks or {}), #arg - 2))
