-- ostep_malloc_spec.lua -- `stackheap ostep-malloc` against the table of flag combinations in
-- tests/cli/fixtures/ostep_malloc/cases.txt: exit status, stdout and stderr byte for byte.
-- In one process through cli.main (the shell test runs the executable on a few of them).
local cli = require "stackheap.cli"

local DIR = "tests/cli/fixtures/ostep_malloc/"

-- The arguments column is shell words: plain, "double" or 'single' quoted.
local function words(text)
  local list, i = {}, 1
  while true do
    i = text:find("%S", i)
    if not i then return list end
    local word = ""
    while i <= #text and not text:sub(i, i):match("%s") do
      local c = text:sub(i, i)
      if c == '"' or c == "'" then
        local j = assert(text:find(c, i + 1, true), "unclosed quote in: " .. text)
        word, i = word .. text:sub(i + 1, j - 1), j + 1
      else
        word, i = word .. c, i + 1
      end
    end
    list[#list + 1] = word
  end
end

local function slurp(path)
  local f <close> = io.open(path, "rb")
  return f and f:read("a")
end

-- Runs the command with io.stdout and io.stderr sent to temporary files.
local function run(argv)
  local out, err = io.tmpfile(), io.tmpfile()
  local saved_out, saved_err = io.stdout, io.stderr
  io.stdout, io.stderr = out, err
  local ok, status = pcall(cli.main, table.unpack(argv))
  io.stdout, io.stderr = saved_out, saved_err
  assert(ok, status)
  out:seek("set"); err:seek("set")
  local o, e = out:read("a"), err:read("a")
  out:close(); err:close()
  return status, o, e
end

describe("ostep-malloc's table of cases", function()
  for line in io.lines(DIR .. "cases.txt") do
    local name, source, want, args = line:match("^([^#|][^|]*)|([^|]*)|([^|]*)|(.*)$")
    if name then
      it(("%s (%s): %s"):format(name, source, args), function()
        local argv = words(args)
        table.insert(argv, 1, "ostep-malloc")
        local status, out, err = run(argv)
        assert.equal(tonumber(want), status)
        assert.equal(assert(slurp(DIR .. name .. ".out")), out)
        assert.equal(slurp(DIR .. name .. ".err") or "", err)
      end)
    end
  end
end)

describe("the argument words of the table", function()
  it("are split as the shell splits them", function()
    assert.same({ "-A", "+ 1_0,- 0,+007", "-c" }, words('-A "+ 1_0,- 0,+007" -c'))
    assert.same({ "-A", "", "-n", "5" }, words('-A "" -n 5'))
    assert.same({}, words(""))
  end)
end)
