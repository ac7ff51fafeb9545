-- stackheap.cmd.layout: a type's size, alignment and field offsets as rustc or
-- gcc lay it out, with the padding between fields shown.
local json = require "stackheap.json"

local function rows(fields, size)
  local sorted = {}
  for i, f in ipairs(fields) do sorted[i] = f end
  table.sort(sorted, function(a, b)
    if a.offset ~= b.offset then return a.offset < b.offset end
    return (a.size or 0) < (b.size or 0)
  end)
  local out, at = {}, 0
  for _, f in ipairs(sorted) do
    if f.offset > at then out[#out + 1] = { at, f.offset - at, "", "(padding)", "" } end
    out[#out + 1] = { f.offset, f.size or "?", f.align, f.name, f.type }
    if f.size then at = math.max(at, f.offset + f.size) end
  end
  if size and size > at then out[#out + 1] = { at, size - at, "", "(padding)", "" } end
  return out
end

local function text(l)
  local fmt = require "stackheap.format"
  local lines = {}
  local function add(s) lines[#lines + 1] = s end
  local heads = { "offset", "size", "align", "field", "type" }
  local opts = { headers = heads, align = { "r", "r", "r", "l", "l" } }
  if l.sized then
    add(("%s: size %d, align %d"):format(l.text, l.size, l.align))
  else
    add(("%s: unsized%s, align %d"):format(l.text, l.size and (" (sizeof counts " .. l.size .. ")") or "",
      l.align or 1))
    add("  " .. l.why)
  end
  if l.tag then
    add(("tag: %d byte%s at offset %d (%s)"):format(l.tag.size, l.tag.size == 1 and "" or "s", l.tag.offset,
      l.tag.encoding == "niche" and "stored in a niche of the largest variant's fields" or "a discriminant"))
  end
  if l.niche then
    add(("niche: %.0f unused value%s in the %d byte%s at offset %d"):format(
      l.niche.values, l.niche.values == 1 and "" or "s",
      l.niche.size, l.niche.size == 1 and "" or "s", l.niche.offset))
  end
  if #l.fields > 0 then add(fmt.table(rows(l.fields, l.size), opts)) end
  for _, v in ipairs(l.variants or {}) do
    add(("variant %s (discriminant %d): %d byte%s"):format(v.name, v.discr, v.size, v.size == 1 and "" or "s"))
    if #v.fields > 0 then add(fmt.table(rows(v.fields), opts)) end
  end
  return table.concat(lines, "\n")
end

local function run(args)
  local sh = require "stackheap"
  local ok, l = pcall(sh.layout, args.text, { lang = args.lang, word = args.word })
  if not ok then
    io.stderr:write("stackheap: " .. tostring(l):gsub("^[^:]*:%d+: ", "") .. "\n")
    return 2
  end
  if args.json then
    l.fields = json.array(l.fields)
    for _, v in ipairs(l.variants or {}) do v.fields = json.array(v.fields) end
    print(json.encode(l))
  else
    print(text(l))
  end
  return 0
end

return {
  name = "layout",
  summary = "Print a type's size, alignment and field offsets (rustc's or gcc's).",
  description = "TEXT is a type (\"Option<Box<u8>>\", \"int (*)[4]\") or struct, enum and union "
    .. "declarations, the last of which is described; a type after the declarations is described "
    .. "instead. Rust is laid out as rustc does on x86_64 (i686 with --word 4): fields reordered, "
    .. "niches filled; C as gcc does on x86-64 System V (i386 with --word 4).",
  configure = function(parser)
    parser:argument("text", "A type, or declarations.")
    parser:option("--lang", "The language of TEXT."):choices({ "rust", "c" }):default("rust")
    parser:option("--word", "Pointer size in bytes: 8 (x86_64) or 4 (i686/i386).")
      :choices({ "4", "8" }):default("8"):convert(tonumber)
    parser:flag("--json", "Print the sh.layout table as one JSON object.")
  end,
  run = run,
}
