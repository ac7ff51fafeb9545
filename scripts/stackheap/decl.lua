-- Slot declarations for stack frames, in Rust or C syntax, and the size,
-- alignment and kind of each slot's type on a 32- or 64-bit machine.
local lpeg = require "lpeg"

local P, R, set, V = lpeg.P, lpeg.R, lpeg.S, lpeg.V
local C, Cc, Cp, Ct, Cg, Cb, Cmt = lpeg.C, lpeg.Cc, lpeg.Cp, lpeg.Ct, lpeg.Cg, lpeg.Cb, lpeg.Cmt

local LIMIT = 1 << 53 -- beyond this, sizes stop being exact in a double

---------------------------------------------------------------------------
-- Errors. Both the grammar and the layout raise {pos, msg} and the public
-- functions turn it into one line; raising lets a failure deep inside a
-- type abort at once with the most precise position.

local function fail_at(pos, msg) error({pos = pos, msg = msg}, 0) end

local function expected(what)
  return Cmt(P(true), function(_, i) fail_at(i, "expected " .. what) end)
end

local function expect(patt, what) return patt + expected(what) end

-- The message names the slot being declared, found through the "name"
-- group of the enclosing slot capture.
local function expected_in_slot(fmt)
  return Cmt(Cb("name"), function(_, i, name) fail_at(i, "expected " .. fmt:format(name)) end)
end

---------------------------------------------------------------------------
-- Lexical pieces shared by both languages.

local idchar = R("az", "AZ", "09") + "_"
local ident = (R("az", "AZ") + "_") * idchar^0
local function kw(word) return P(word) * -idchar end

local comment = "//" * (1 - P"\n")^0
  + "/*" * (1 - P"*/")^0 * expect("*/", "'*/' to close the comment")
local sp = (set" \t\r\n\f\v" + comment)^0
local function tok(p) return P(p) * sp end
local eof = -P(1)

local function count(digits)
  return Cmt(C(digits), function(_, i, text)
    local n = math.tointeger(tonumber((text:gsub("_", ""))))
    if not n or n > LIMIT then
      fail_at(i - #text, "array length " .. text .. " is too large (the limit is 2^53)")
    end
    return i, n
  end)
end

---------------------------------------------------------------------------
-- The type AST the grammars build, and layout() consumes:
--   {tag = "named", name, args?}   a primitive, library or (later) user type
--   {tag = "ptr", ref, to}          ref: "&", "&mut", "*const", "*mut", "*" (C)
--   {tag = "array", elem, count}    {tag = "slice", elem}
--   {tag = "tuple", elems}          {tag = "dyn", bounds}
-- Every node has pos, the subject position errors about it point at.

local function named(pos, name, args) return {tag = "named", pos = pos, name = name, args = args} end

---------------------------------------------------------------------------
-- Rust.

local rust_type = P{ "ty",
  ty = V"ref" + V"raw" + V"array" + V"tuple" + V"dyn" + V"named",

  lifetime = "'" * ident * sp,
  ref = (Cp() * tok"&" * V"lifetime"^-1 * (kw"mut" * sp * Cc"&mut" + Cc"&")
        * expect(V"ty", "a type after '&'"))
    / function(pos, ref, to) return {tag = "ptr", pos = pos, ref = ref, to = to} end,
  raw = (Cp() * tok"*" * expect(C(kw"const" + kw"mut"), "'const' or 'mut' after '*'") * sp
        * expect(V"ty", "a type after the raw pointer"))
    / function(pos, which, to) return {tag = "ptr", pos = pos, ref = "*" .. which, to = to} end,

  array = (Cp() * tok"[" * expect(V"ty", "an element type after '['")
        * (tok";" * expect(count(R"09" * (R"09" + "_")^0), "an array length (a whole number)") * sp
           * expect(tok"]", "']' to close the array type")
           + expect(tok"]", "';' or ']' after the element type") * Cc(false)))
    / function(pos, elem, n)
      if n then return {tag = "array", pos = pos, elem = elem, count = n} end
      return {tag = "slice", pos = pos, elem = elem}
    end,

  -- (T) is only parentheses; (T,) is a one-element tuple.
  tuple = (Cp() * tok"("
        * (Ct(V"ty" * (tok"," * V"ty")^0) * (tok"," * Cc(true) + Cc(false)) + Ct(P(true)))
        * expect(tok")", "')' to close the tuple type"))
    / function(pos, elems, trailing)
      if #elems == 1 and not trailing then return elems[1] end
      return {tag = "tuple", pos = pos, elems = elems}
    end,

  -- A trait's own arguments do not change any layout, so they are only
  -- skimmed (balanced brackets) and kept as text.
  angle = "<" * (P"->" + (1 - set"<>") + V"angle")^0 * ">",
  paren = "(" * ((1 - set"()") + V"paren")^0 * ")",
  bound = V"lifetime" + ident * sp * V"angle"^-1 * sp * (V"paren" * sp * ("->" * sp * V"ty")^-1)^-1,
  bounds = V"bound" * sp * ("+" * sp * V"bound")^0,
  dyn = (Cp() * kw"dyn" * sp * expect(C(V"bounds" / 0), "a trait name after 'dyn'"))
    / function(pos, bounds)
      bounds = bounds:gsub("%s+", " "):gsub("%s*%+%s*", " + "):gsub("%s+$", "")
      return {tag = "dyn", pos = pos, bounds = bounds}
    end,

  named = (Cp() * C(ident) * sp
        * (tok"<" * expect(Ct(V"ty" * (tok"," * V"ty")^0 * tok","^-1), "a type argument after '<'")
           * expect(tok">", "'>' to close the type arguments"))^-1)
    / named,
}

local rust_slot = Ct((kw"mut" * sp)^-1 * Cg(Cp(), "pos") * Cg(expect(C(ident), "a slot name"), "name") * sp
  * (tok":" + expected_in_slot("':' after the slot name '%s'"))
  * Cg(rust_type + expected_in_slot("a type after '%s:'"), "type"))

local rust_slots = Ct(sp * (eof + rust_slot * (tok"," * (eof + rust_slot))^0))
  * expect(eof, "',' or the end of the declarations")

local rust_one_type = sp * (rust_type + expected("a type")) * expect(eof, "the end of the type")

---------------------------------------------------------------------------
-- C.

local function any_of(words)
  local p = P(false)
  for _, w in ipairs(words) do p = p + kw(w) end
  return p
end
local qualifier = any_of{"const", "volatile", "restrict"}
local specifier = any_of{"signed", "unsigned", "char", "short", "int", "long", "float", "double", "void", "_Bool"}
local tag = any_of{"struct", "union", "enum"}
local c_ident = -(qualifier + specifier + tag) * ident
local quals = (qualifier * sp)^0

-- C lets the specifier keywords come in any order ("long unsigned int"),
-- so they are counted and named canonically. A combination C has no name
-- for is left as written and later reported as an unknown type.
local function c_base(words)
  local n = {}
  for _, w in ipairs(words) do n[w] = (n[w] or 0) + 1 end
  local sign = n.unsigned and "unsigned " or n.signed and "signed " or ""
  local name
  if #words == 1 and (n.void or n._Bool or n.float or n.double) then
    name = words[1]
  elseif #words == 2 and n.long == 1 and n.double == 1 then
    name = "long double"
  elseif n.char == 1 and #words == (n.signed or n.unsigned or 0) + 1 then
    name = sign .. "char"
  elseif not (n.char or n.void or n._Bool or n.float or n.double) and (n.signed or 0) + (n.unsigned or 0) <= 1
      and (n.int or 0) <= 1 and (n.short or 0) <= 1 and (n.long or 0) <= 2 and not (n.short and n.long) then
    name = (sign == "signed " and "" or sign)
      .. (n.short and "short" or n.long == 2 and "long long" or n.long and "long" or "int")
  end
  return name or table.concat(words, " ")
end

local specifiers = (Cp() * quals
    * (Ct(C(specifier) * sp * (quals * C(specifier) * sp)^0) / c_base
       + C(tag * sp * ident) / function(s) return (s:gsub("%s+", " ")) end
       + C(c_ident))
    * sp * quals)
  / named

-- Declarators read inside out: in "*a[4]" a is an array of pointers, in
-- "(*p)[4]" p is a pointer to an array. A declarator is kept as
-- {stars, core, dims, pos}, core a name, a nested declarator or false
-- (abstract, as in "char *"), and applied to the base type by declare().
local function c_declarator(name_required)
  local core = Cp() * C(c_ident) * sp
  if name_required then core = core + expected("a slot name") else core = core + Cp() * Cc(false) end
  return P{ "decl",
    decl = (Ct((tok"*" * quals * Cc(true))^0) * (tok"(" * V"decl" * expect(tok")", "')'") * Cc(nil) + core)
          * Ct((tok"[" * expect(count(R"09"^1), "an array length (a whole number)") * sp
                * expect(tok"]", "']' to close the array"))^0))
      / function(stars, inner, name, dims)
        if type(inner) == "table" then return {stars = #stars, core = inner, dims = dims, pos = inner.pos} end
        return {stars = #stars, core = name, dims = dims, pos = inner}
      end,
  }
end

local function declare(ty, d)
  for _ = 1, d.stars do ty = {tag = "ptr", pos = d.pos, ref = "*", to = ty} end
  for i = #d.dims, 1, -1 do ty = {tag = "array", pos = d.pos, elem = ty, count = d.dims[i]} end
  if type(d.core) == "table" then return declare(ty, d.core) end
  return ty, d.core, d.pos
end

local c_named = c_declarator(true)
local c_declaration = (specifiers * c_named * (tok"," * c_named)^0
    * expect(tok";" + eof, "';' after the declaration"))
  / function(base, ...)
    local out = {}
    for i, d in ipairs{...} do
      local ty, name, pos = declare(base, d)
      out[i] = {pos = pos, name = name, type = ty}
    end
    return table.unpack(out)
  end

local c_slots = Ct(sp * c_declaration^0) * expect(eof, "a declaration (a type, then slot names)")

local c_one_type = sp * (specifiers + expected("a type")) * c_declarator(false)
    * expect(eof, "the end of the type")
  / function(base, d) return (declare(base, d)) end

---------------------------------------------------------------------------
-- Layout: a type AST and a word size give a type table. Primitive sizes
-- are per language and word, built once.

local function rust_prims(word)
  -- rustc's i686-unknown-linux-gnu follows the i386 C ABI: 64-bit integers
  -- and f64 are 4-aligned there (i686 Windows differs and is not modelled);
  -- i128 is 16-aligned on both word sizes since Rust 1.77.
  local a64 = word == 8 and 8 or 4
  return {
    i8 = {"int", 1, 1, true}, i16 = {"int", 2, 2, true}, i32 = {"int", 4, 4, true},
    i64 = {"int", 8, a64, true}, i128 = {"int", 16, 16, true}, isize = {"int", word, word, true},
    u8 = {"int", 1, 1, false}, u16 = {"int", 2, 2, false}, u32 = {"int", 4, 4, false},
    u64 = {"int", 8, a64, false}, u128 = {"int", 16, 16, false}, usize = {"int", word, word, false},
    f32 = {"float", 4, 4}, f64 = {"float", 8, a64},
    bool = {"bool", 1, 1}, char = {"char", 4, 4},
  }
end

local function c_prims(word)
  -- LP64 on word 8; on word 4 the i386 System V ABI, which aligns 8-byte
  -- scalars (long long, double) to 4.
  local a64 = word == 8 and 8 or 4
  return {
    char = {"int", 1, 1, true}, ["signed char"] = {"int", 1, 1, true}, ["unsigned char"] = {"int", 1, 1, false},
    short = {"int", 2, 2, true}, ["unsigned short"] = {"int", 2, 2, false},
    int = {"int", 4, 4, true}, ["unsigned int"] = {"int", 4, 4, false},
    long = {"int", word, word, true}, ["unsigned long"] = {"int", word, word, false},
    ["long long"] = {"int", 8, a64, true}, ["unsigned long long"] = {"int", 8, a64, false},
    float = {"float", 4, 4}, double = {"float", 8, a64}, _Bool = {"bool", 1, 1},
    size_t = {"int", word, word, false}, ptrdiff_t = {"int", word, word, true},
    intptr_t = {"int", word, word, true}, uintptr_t = {"int", word, word, false},
    int8_t = {"int", 1, 1, true}, int16_t = {"int", 2, 2, true}, int32_t = {"int", 4, 4, true},
    int64_t = {"int", 8, a64, true}, uint8_t = {"int", 1, 1, false}, uint16_t = {"int", 2, 2, false},
    uint32_t = {"int", 4, 4, false}, uint64_t = {"int", 8, a64, false},
  }
end

local PRIMS = {rust = {[4] = rust_prims(4), [8] = rust_prims(8)}, c = {[4] = c_prims(4), [8] = c_prims(8)}}

local function unsized(t, homes)
  t.sized = false
  t.why = t.text .. " is unsized: its size is not known at compile time, so it cannot live in a stack slot;"
    .. " keep it on the heap behind a pointer (" .. table.concat(homes, ", ") .. ")"
  return t
end

local function need_sized(t, pos, role)
  if not t.sized then
    fail_at(pos, t.text .. (t.kind == "void" and " has no size" or " is unsized") .. ", so it cannot be " .. role)
  end
end

local function scalar(text, p)
  return {text = text, kind = p[1], size = p[2], align = p[3], signed = p[4], sized = true}
end

local function check_size(t, pos)
  if t.size > LIMIT then fail_at(pos, t.text .. " is too large (more than 2^53 bytes)") end
  return t
end

-- Fields in declaration order with C padding. rustc may reorder the fields
-- of tuples and structs to save space; a later issue models that.
local function struct(text, fields, pos)
  local off, align, out = 0, 1, {}
  for i, f in ipairs(fields) do
    local a = f.type.align
    off = (off + a - 1) // a * a
    out[i] = {name = f.name, offset = off, type = f.type}
    off, align = off + f.type.size, math.max(align, a)
  end
  return check_size({text = text, kind = "struct", size = (off + align - 1) // align * align,
    align = align, fields = out, sized = true}, pos)
end

-- C writes a declarator around the name ("int (*)[4]", "char *[2]"), so a C
-- type's text is built inside out from the whole type.
local function c_text(t, inner)
  if t.kind == "ptr" then
    return c_text(t.pointee, t.pointee.kind == "array" and "(*" .. inner .. ")" or "*" .. inner)
  elseif t.kind == "array" then
    return c_text(t.elem, inner .. "[" .. t.count .. "]")
  elseif inner == "" or inner:sub(1, 1) == "[" then
    return t.text .. inner
  end
  return t.text .. " " .. inner
end

local function ctext(t) t.text = c_text(t, ""); return t end

local layout

local function pointer(to, text, cx)
  local t = {text = text, kind = "ptr", size = cx.word, align = cx.word, to = to.text, pointee = to, sized = true}
  if to.meta then -- a pointer to an unsized value carries its length or vtable
    t.kind, t.size, t.meta = "fatptr", 2 * cx.word, to.meta
  end
  return t
end

local function one_arg(ast, cx)
  if not ast.args or #ast.args ~= 1 then fail_at(ast.pos, ast.name .. " takes exactly one type argument") end
  return layout(ast.args[1], cx)
end

local function vec_like(text, elem, cx)
  local usize = scalar("usize", PRIMS.rust[cx.word].usize)
  return struct(text, {
    {name = "ptr", type = pointer(elem, "*mut " .. elem.text, cx)},
    {name = "cap", type = usize},
    {name = "len", type = usize},
  })
end

local function smart_pointer(ast, cx)
  local to = one_arg(ast, cx)
  return pointer(to, ast.name .. "<" .. to.text .. ">", cx)
end

local RUST_LIBRARY = {
  Box = smart_pointer, Rc = smart_pointer, Arc = smart_pointer, NonNull = smart_pointer,
  Vec = function(ast, cx)
    local elem = one_arg(ast, cx)
    need_sized(elem, ast.args[1].pos, "a Vec element")
    return vec_like("Vec<" .. elem.text .. ">", elem, cx)
  end,
  String = function(ast, cx)
    if ast.args then fail_at(ast.pos, "String takes no type arguments") end
    return vec_like("String", scalar("u8", PRIMS.rust[cx.word].u8), cx)
  end,
  str = function(ast)
    if ast.args then fail_at(ast.pos, "str takes no type arguments") end
    return unsized({text = "str", kind = "str", align = 1, meta = "len"}, {"&str", "Box<str>", "String"})
  end,
}

local LAYOUT = {}

function LAYOUT.named(ast, cx)
  local p = PRIMS[cx.lang][cx.word][ast.name]
  if p then
    if ast.args then fail_at(ast.pos, ast.name .. " takes no type arguments") end
    return scalar(ast.name, p)
  elseif cx.lang == "rust" and RUST_LIBRARY[ast.name] then
    return RUST_LIBRARY[ast.name](ast, cx)
  elseif cx.lang == "c" and ast.name == "void" then
    return {text = "void", kind = "void", sized = false,
      why = "void has no size, so it cannot live in a stack slot; only a pointer to it can (void *)"}
  elseif cx.lang == "c" and ast.name == "long double" then
    fail_at(ast.pos, "long double is not supported: its size and alignment differ between ABIs")
  end
  fail_at(ast.pos, "unknown type '" .. ast.name .. "'")
end

function LAYOUT.ptr(ast, cx)
  local to = layout(ast.to, cx)
  if cx.lang == "c" then return ctext(pointer(to, nil, cx)) end
  return pointer(to, ast.ref .. (ast.ref == "&" and "" or " ") .. to.text, cx)
end

function LAYOUT.array(ast, cx)
  local elem = layout(ast.elem, cx)
  need_sized(elem, ast.elem.pos, "an array element")
  local t = {text = "[" .. elem.text .. "; " .. ast.count .. "]", kind = "array", elem = elem, count = ast.count,
    align = elem.align, sized = true}
  if cx.lang == "c" then ctext(t) end
  if elem.size > 0 and ast.count > LIMIT // elem.size then
    fail_at(ast.pos, t.text .. " is too large (more than 2^53 bytes)")
  end
  t.size = ast.count * elem.size
  return t
end

function LAYOUT.slice(ast, cx)
  local elem = layout(ast.elem, cx)
  need_sized(elem, ast.elem.pos, "a slice element")
  local text = "[" .. elem.text .. "]"
  return unsized({text = text, kind = "slice", elem = elem, align = elem.align, meta = "len"},
    {"&" .. text, "Box<" .. text .. ">", "Vec<" .. elem.text .. ">"})
end

function LAYOUT.dyn(ast)
  local text = "dyn " .. ast.bounds
  return unsized({text = text, kind = "dyn", meta = "vtable"}, {"&" .. text, "Box<" .. text .. ">"})
end

function LAYOUT.tuple(ast, cx)
  local fields, texts = {}, {}
  for i, e in ipairs(ast.elems) do
    local t = layout(e, cx)
    if i < #ast.elems then need_sized(t, e.pos, "a tuple element other than the last") end
    fields[i], texts[i] = {name = tostring(i - 1), type = t}, t.text
  end
  local text = "(" .. table.concat(texts, ", ") .. (#texts == 1 and ",)" or ")")
  local last = fields[#fields]
  if last and not last.type.sized then -- an unsized tail makes the whole tuple unsized
    return unsized({text = text, kind = "struct", meta = last.type.meta}, {"&" .. text, "Box<" .. text .. ">"})
  end
  return struct(text, fields, ast.pos)
end

-- LPeg stops the grammar at about this depth too; a bound here also keeps
-- c_text, which is quadratic in the depth, cheap.
local MAX_DEPTH = 200
local TOO_DEEP = "the type is nested too deeply (the limit is " .. MAX_DEPTH .. " levels)"

function layout(ast, cx)
  cx.depth = (cx.depth or 0) + 1
  if cx.depth > MAX_DEPTH then fail_at(ast.pos, TOO_DEEP) end
  local t = LAYOUT[ast.tag](ast, cx)
  cx.depth = cx.depth - 1
  return t
end

---------------------------------------------------------------------------
-- Public functions: never raise, answer nil and one line instead.

local GRAMMARS = {rust = {slots = rust_slots, type = rust_one_type}, c = {slots = c_slots, type = c_one_type}}

local function where(text, pos)
  local line, start = 1, 1
  for nl in text:sub(1, pos - 1):gmatch("()\n") do line, start = line + 1, nl + 1 end
  local col = "column " .. (pos - start + 1)
  return text:find("\n", 1, true) and "line " .. line .. ", " .. col or col
end

local function run(what, grammar, text, opts, finish)
  if type(text) ~= "string" then return nil, what .. ": expected a string, got " .. type(text) end
  if opts ~= nil and type(opts) ~= "table" then return nil, what .. ": options must be a table, got " .. type(opts) end
  opts = opts or {}
  local cx = {lang = opts.lang or "rust", word = opts.word or 8}
  if not GRAMMARS[cx.lang] then return nil, what .. ": lang must be \"rust\" or \"c\", got " .. tostring(cx.lang) end
  if cx.word ~= 4 and cx.word ~= 8 then return nil, what .. ": word must be 4 or 8, got " .. tostring(cx.word) end
  local ok, res, msg = pcall(function() return finish(lpeg.match(GRAMMARS[cx.lang][grammar], text), cx) end)
  if ok then return res, msg end
  if type(res) == "table" then return nil, where(text, res.pos) .. ": " .. res.msg end
  if tostring(res):find("stack overflow", 1, true) then return nil, what .. ": " .. TOO_DEEP end
  return nil, what .. ": internal error: " .. tostring(res)
end

local decl = {}

function decl.parse(text, opts)
  return run("decl.parse", "slots", text, opts, function(slots, cx)
    local out, seen = {}, {}
    for i, s in ipairs(slots) do
      if seen[s.name] then fail_at(s.pos, "duplicate slot name '" .. s.name .. "'") end
      seen[s.name] = true
      local t = layout(s.type, cx)
      if not t.sized then return nil, s.name .. ": " .. t.why end
      out[i] = {name = s.name, type = t}
    end
    return out
  end)
end

function decl.type(text, opts)
  return run("decl.type", "type", text, opts, layout)
end

return decl
