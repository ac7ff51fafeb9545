-- sizes.lua: "All data stored on the stack must have a known, fixed size", with numbers.
-- Layouts as rustc gives them, a String whose header stays put while its buffer moves.
local sh = require "stackheap"
local fmt = require "stackheap.format"
local hex = fmt.hex

print("1. Every stack slot has a size known before the program runs.")
print()
local rows = {}
for _, ty in ipairs{ "u8", "i32", "f64", "char", "(u8, u32, u16)", "[u16; 5]", "&u8", "&str", "&[u8]",
                     "Box<u64>", "Box<[u8]>", "String", "Vec<u64>", "Option<Box<u64>>", "Option<u64>" } do
  local l = sh.layout(ty)
  rows[#rows + 1] = { ty, l.size, l.align }
end
print(fmt.table(rows, { headers = { "type", "size", "align" } }))
print()
print("A pointer is one word whatever it points to; a pointer to something unsized (&str,")
print("&[u8], Box<[u8]>) carries the length beside it, two words, still a fixed size. String")
print("and Vec are three words (capacity, pointer, length) however much text they hold.")
print("Option<Box<u64>> costs nothing over Box<u64>: a Box is never null, so None is null.")
print()

print("2. rustc reorders a struct's fields to waste less space; #[repr(C)] keeps C's order.")
print()
for _, text in ipairs{ "struct Rec { a: u8, b: u32, c: u16 }", "#[repr(C)] struct Rec { a: u8, b: u32, c: u16 }" } do
  local l = sh.layout(text)
  local parts = {}
  table.sort(l.fields, function(x, y) return x.offset < y.offset end)
  for _, f in ipairs(l.fields) do parts[#parts + 1] = ("%s@%d"):format(f.name, f.offset) end
  print(("  %-48s size %2d  %s"):format(text, l.size, table.concat(parts, " ")))
end
print()

print("3. A type whose size is not fixed cannot be a stack slot.")
print()
local m = sh.machine{ heap = { policy = "first_fit" } }
local ok, err = pcall(m.call, m, "bad", "buf: [u8]")
print("  m:call(\"bad\", \"buf: [u8]\") -> " .. (ok and "accepted" or err:gsub("^[^:]*:%d+: ", "")))
local boxed = sh.layout("Box<[u8]>")
print(("  Box<[u8]> is fine: %d bytes in the frame, the bytes themselves on the heap."):format(boxed.size))
print()

print("4. A String grows: its 24-byte header stays in the frame, its bytes move on the heap.")
print()
local f <close> = m:call("main", "s: String, n: u64")
local s = m:string(f, "s", "hello")
local other = m:alloc(16)            -- something allocated right after the text
local steps = {}
local function step(what)
  steps[#steps + 1] = { what, hex(f:addr("s")), hex(s:ptr()), s:len(), s:capacity(), s:as_str() }
end
step('String::from("hello")')
s:push_str("!")
step('push_str("!")')
s:push_str(" Hello again,")
step('push_str(" Hello again,")')
s:push_str(" and again.")
step('push_str(" and again.")')
print(("(a 16-byte block was allocated right after the first buffer, at %s)"):format(hex(other)))
print(fmt.table(steps, { headers = { "after", "header (stack)", "buffer (heap)", "len", "capacity", "text" },
  align = { "l", "r", "r", "r", "r", "l" } }))
print()
print("The header's address never changes. A push that needs more than the capacity grows it")
print("to at least twice as much (Rust's rule) with realloc: in place while the block has room,")
print("else the bytes move to a new block and the header's pointer follows them.")
m:free(other)
print()

print("5. When the frame is popped, Rust drops its owners in reverse order of declaration:")
print("   the String's buffer is freed; a raw pointer would free nothing.")
local before = m:stats().heap.live_blocks
f:close()
print(("   live heap blocks: %d before the pop, %d after."):format(before, m:stats().heap.live_blocks))
