-- tiny.lua: a scenario whose every operation is known, for the report's tests.
local sh = require "stackheap"
local m = sh.machine{ check = true, heap = { policy = "first_fit", order = "lifo" } }
local f <close> = m:call("main", "n: i64, p: Box<i64>, q: *const u8")
f.n = 41
f.p = m:alloc(8)
m:store(f.p, f.n + 1)
f.q = m:alloc(24)
local r = m:alloc(16)
m:store(f.q, r)            -- a heap word that points at another block
m:free(r)                  -- now that word dangles (drawn only from typed slots)
m:free(f.q)                -- q's slot dangles
m:free(f.q)                -- a double free: the checker's finding
print(m:load(f.p))
