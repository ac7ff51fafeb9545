-- stackheap.grade.formats: a submission's report as text, JSON, TAP 13, JUnit XML or
-- Gradescope's results.json; and the class summary as CSV.  Same report, same bytes.
local json = require "stackheap.json"

local M = {}

local function num(x)
  if math.type(x) == "integer" then return ("%d"):format(x) end
  local s = ("%.4f"):format(x):gsub("0+$", ""):gsub("%.$", "")
  return s
end

function M.text(r)
  local out = { ("%s: %s"):format(r.suite, r.name) }
  for _, t in ipairs(r.tests) do
    local mark = t.passed == nil and "    " or (t.passed and "ok  " or "FAIL")
    out[#out + 1] = ("  %s %-40s %s/%s"):format(mark, t.name, num(t.score), num(t.max_score))
    if t.passed == false and t.message then out[#out + 1] = "       " .. t.message:gsub("\n", "\n       ") end
  end
  if r.output ~= "" then out[#out + 1] = r.output end
  out[#out + 1] = ("score: %s / %s"):format(num(r.score), num(r.max_score))
  return table.concat(out, "\n") .. "\n"
end

function M.json(r)
  local tests = {}
  for i, t in ipairs(r.tests) do
    tests[i] = { name = t.name, score = t.score, max_score = t.max_score, passed = t.passed,
                 message = t.message, output = t.output, visibility = t.visibility, data = t.data }
  end
  return json.encode{ suite = r.suite, submission = r.name, score = r.score,
                      max_score = r.max_score, output = r.output, tests = json.array(tests) } .. "\n"
end

function M.gradescope(r)
  local tests = {}
  for i, t in ipairs(r.tests) do
    tests[i] = { name = t.name, score = t.score, max_score = t.max_score, output = t.output,
                 visibility = t.visibility or "visible" }
  end
  return json.encode{ score = r.score, max_score = r.max_score, output = r.output,
                      stdout_visibility = "hidden", tests = json.array(tests) } .. "\n"
end

-- TAP 13: the plan first, a YAML block under each failure.
local function yaml_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == "\n" then return "\\n" end
    if c == '"' or c == "\\" then return "\\" .. c end
    return ("\\x%02x"):format(c:byte())
  end) .. '"'
end

function M.tap(r)
  local out = { "TAP version 13", ("1..%d"):format(#r.tests) }
  for i, t in ipairs(r.tests) do
    local ok = t.passed ~= false
    out[#out + 1] = ("%s %d - %s"):format(ok and "ok" or "not ok", i, t.name:gsub("#", "\\#"))
    if not ok or t.score ~= t.max_score then
      out[#out + 1] = "  ---"
      if t.message then out[#out + 1] = "  message: " .. yaml_string(t.message) end
      out[#out + 1] = ("  score: %s"):format(num(t.score))
      out[#out + 1] = ("  max_score: %s"):format(num(t.max_score))
      out[#out + 1] = "  ..."
    end
  end
  out[#out + 1] = ("# score %s / %s"):format(num(r.score), num(r.max_score))
  return table.concat(out, "\n") .. "\n"
end

-- XML text: the five entities, and control characters (not allowed in XML 1.0) dropped.
local function xml(s)
  return (tostring(s):gsub("[%z\1-\8\11\12\14-\31]", ""):gsub("[&<>\"']", {
    ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;" }))
end

function M.junit(r)
  local failures = 0
  for _, t in ipairs(r.tests) do if t.passed == false then failures = failures + 1 end end
  local out = { '<?xml version="1.0" encoding="UTF-8"?>',
    ('<testsuites name="%s" tests="%d" failures="%d">'):format(xml(r.suite), #r.tests, failures),
    ('  <testsuite name="%s" tests="%d" failures="%d" errors="0">'):format(xml(r.name), #r.tests, failures) }
  for _, t in ipairs(r.tests) do
    out[#out + 1] = ('    <testcase name="%s" classname="%s">'):format(xml(t.name), xml(r.suite))
    if t.passed == false then
      out[#out + 1] = ('      <failure message="%s">%s</failure>'):format(xml(t.message or "failed"),
        xml(t.message or ""))
    end
    if t.output and t.output ~= "" then
      out[#out + 1] = ("      <system-out>%s</system-out>"):format(xml(t.output))
    end
    out[#out + 1] = "    </testcase>"
  end
  out[#out + 1] = ('    <properties><property name="score" value="%s"/><property name="max_score" value="%s"/></properties>')
    :format(num(r.score), num(r.max_score))
  out[#out + 1] = "  </testsuite>"
  out[#out + 1] = "</testsuites>"
  return table.concat(out, "\n") .. "\n"
end

M.EXT = { text = "txt", json = "json", tap = "tap", junit = "xml", gradescope = "results.json" }

local function csv(s)
  s = tostring(s)
  if s:find('[,"\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

--- M.csv(reports) -> the class summary: one row per submission.
function M.csv(reports)
  local out = { "submission,score,max_score,passed,tests" }
  for _, r in ipairs(reports) do
    local passed = 0
    for _, t in ipairs(r.tests) do if t.passed then passed = passed + 1 end end
    out[#out + 1] = table.concat({ csv(r.name), num(r.score), num(r.max_score), passed, #r.tests }, ",")
  end
  return table.concat(out, "\n") .. "\n"
end

return M
