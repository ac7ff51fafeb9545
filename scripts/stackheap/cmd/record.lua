-- stackheap.cmd.record: `stackheap record [-o FILE] -- PROGRAM ARGS...` runs a program with
-- glibc's malloc debugging library and stackheap's preload library, which turns mtrace(3)
-- on in every process (forked or exec'd) with a file each, then merges or lists the files.
local core = require "stackheap.core"

local M = {}

local function quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function fail(msg) return require("stackheap.cli").fail(msg, "record") end

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- The per-process files "mtrace.<pid>.<parent pid>", the root's first, then by pid.
local function files_in(dir, root_parent)
  local p = io.popen("ls -1 " .. quote(dir))
  local list = {}
  for name in p:lines() do
    local pid, ppid = name:match("^mtrace%.(%d+)%.(%d+)$")
    if pid then
      list[#list + 1] = { path = dir .. "/" .. name, pid = tonumber(pid), ppid = tonumber(ppid) }
    end
  end
  p:close()
  table.sort(list, function(a, b)
    local ra, rb = a.ppid == root_parent, b.ppid == root_parent
    if ra ~= rb then return ra end
    return a.pid < b.pid
  end)
  return list
end

local function run(args)
  local argv = args.program or {}
  if #argv == 0 then return fail("name the program to run after --") end
  local lib = core.record_library()
  if not lib then
    return fail("cannot find libstackheap_record.so (built next to the stackheap executable, "
      .. "installed under <libdir>/stackheap; $STACKHEAP_RECORD_LIB names it)")
  end
  local debug_lib = os.getenv("STACKHEAP_MALLOC_DEBUG") or "libc_malloc_debug.so.0"
  local out = args.output or ((argv[1]:match("([^/]+)$") or "program") .. ".mtrace")

  local dir = os.tmpname()
  os.remove(dir)
  if not os.execute("mkdir -m 700 " .. quote(dir)) then return fail("cannot make " .. dir) end
  local function cleanup()
    for _, f in ipairs(files_in(dir, -1)) do os.remove(f.path) end
    os.remove(dir)
  end

  local preload = debug_lib .. ":" .. lib
  local old = os.getenv("LD_PRELOAD")
  if old and old ~= "" then preload = preload .. ":" .. old end
  local words = {}
  for i, a in ipairs(argv) do words[i] = quote(a) end
  -- exec: the shell becomes the program, so the root's parent is this process.
  local cmd = ("LD_PRELOAD=%s STACKHEAP_RECORD_DIR=%s exec %s"):format(quote(preload), quote(dir),
    table.concat(words, " "))
  io.stdout:flush()
  local _, how, code = os.execute(cmd)

  local files = files_in(dir, core.getpid())
  if #files == 0 then
    cleanup()
    if how == "exit" and code == 127 then return fail(("cannot run %s"):format(argv[1])) end
    return fail(("%s wrote no trace: it ignored LD_PRELOAD (statically linked, or setuid?) "
      .. "or %s is missing"):format(argv[1], debug_lib))
  end

  local written = {}
  if args.split then
    for _, f in ipairs(files) do
      local path = #files == 1 and out or (out .. "." .. f.pid)
      local data = read_all(f.path) or ""
      local o = io.open(path, "wb")
      if not o then cleanup(); return fail("cannot write " .. path) end
      o:write(data)
      o:close()
      written[#written + 1] = path
    end
  else
    -- One file: each process's log begins with '= Start', which the reader
    -- takes as a new address space, so the processes' pointers never meet.
    local o = io.open(out, "wb")
    if not o then cleanup(); return fail("cannot write " .. out) end
    for _, f in ipairs(files) do o:write(read_all(f.path) or "") end
    o:close()
    written[1] = out
  end
  cleanup()

  local status = how == "exit" and code or 128 + (code or 0)
  io.stderr:write(("stackheap: record: %s (%d process%s) -> %s\n"):format(argv[1], #files,
    #files == 1 and "" or "es", table.concat(written, ", ")))
  if status ~= 0 then
    io.stderr:write(("stackheap: record: %s exited with status %d\n"):format(argv[1], status))
  end
  return 0
end

M.name = "record"
M.summary = "Run a program and record its allocations (glibc mtrace)."
M.description = "Run PROGRAM with glibc's libc_malloc_debug.so.0 and stackheap's preload "
  .. "library, which calls mtrace() in every process, children included, each into its own "
  .. "file; then write them into one trace (each process a '= Start' section, replayed as its "
  .. "own address space) or, with --split, one file per process. Exit status 0 when a trace "
  .. "was written (the program's own status is reported on stderr), 2 when none was."
M.passthrough = "program"
M.configure = function(parser)
  parser:option("-o --output", "The trace file (default: PROGRAM.mtrace).")
  parser:flag("--split", "One file per process, FILE.<pid> (just FILE when there is one).")
  parser:argument("program", "The program and its arguments (after --)."):args("+")
end
M.run = run

return M
