-- Declarations in Rust or C syntax (types, struct/enum/union items, frame slots)
-- parsed with LPeg into ASTs; types.lua lays them out with layout.lua's rules.
local lpeg = require "lpeg"
local layout = require "stackheap.layout"
local types = require "stackheap.types"

local P, R, set, V = lpeg.P, lpeg.R, lpeg.S, lpeg.V
local C, Cc, Cp, Ct, Cg, Cb, Cmt = lpeg.C, lpeg.Cc, lpeg.Cp, lpeg.Ct, lpeg.Cg, lpeg.Cb, lpeg.Cmt

local LIMIT, fail_at = layout.LIMIT, layout.fail_at

---------------------------------------------------------------------------
-- Errors. The grammar raises {pos, msg} (layout.fail_at) and the public
-- functions turn it into one line; raising lets a failure deep inside a
-- type abort at once with the most precise position.

local function expected(what)
  return Cmt(P(true), function(_, i) fail_at(i, "expected " .. what) end)
end

local function expect(patt, what) return patt + expected(what) end

local function refuse(patt, msg)
  return Cmt(Cp() * patt, function(_, _, pos) fail_at(pos, msg) end)
end

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

local function number(text)
  local s = text:gsub("_", "")
  local neg = s:sub(1, 1) == "-"
  if neg then s = s:sub(2) end
  local n = s:match("^0[xX]") and tonumber(s:sub(3), 16) or s:match("^0[bB]") and tonumber(s:sub(3), 2)
    or tonumber(s, 10)
  n = n and math.tointeger(n)
  if n and n <= LIMIT then return neg and -n or n end
end

local digits = R"09" * (R"09" + "_")^0
local hex = "0" * set"xX" * (R("09", "af", "AF") + "_")^1
local integer = hex + "0" * set"bB" * set"01_"^1 + digits

local function count(patt)
  return Cmt(C(patt), function(_, i, text)
    local n = number(text)
    if not n then fail_at(i - #text, "array length " .. text .. " is too large (the limit is 2^53)") end
    return i, n
  end)
end

-- A signed integer literal with an optional type suffix (Rust) or C suffix.
local literal = Cp() * C(P"-"^-1 * sp * integer) * (ident^-1) / function(pos, text)
  local n = number((text:gsub("%s", "")))
  if not n then fail_at(pos, text .. " is too large (the limit is 2^53)") end
  return n
end

---------------------------------------------------------------------------
-- The type AST the grammars build, and types.lua consumes:
--   {tag = "named", name, args?}   a primitive, library or user type
--   {tag = "ptr", ref, to}          ref: "&", "&mut", "*const", "*mut", "*" (C)
--   {tag = "array", elem, count}    count false: C's "[]"
--   {tag = "slice", elem}           {tag = "tuple", elems}
--   {tag = "dyn", bounds}           {tag = "fn"}: a function (pointer)
--   {tag = "record", kind, name?, members?}  {tag = "cenum", name?, values?}  (C)
-- Every node has pos, the subject position errors about it point at.
-- Items: {item = "struct"|"enum"|"union"|"type", name, pos, repr, ...}.

local function named(pos, name, args) return {tag = "named", pos = pos, name = name, args = args} end

---------------------------------------------------------------------------
-- Rust.

local path = ident * (sp * "::" * sp * ident)^0

local rust_type = P{ "ty",
  ty = V"ref" + V"raw" + V"array" + V"tuple" + V"dyn" + V"fn" + V"never" + V"named",

  lifetime = "'" * ident * sp,
  ref = (Cp() * tok"&" * V"lifetime"^-1 * (kw"mut" * sp * Cc"&mut" + Cc"&")
        * expect(V"ty", "a type after '&'"))
    / function(pos, ref, to) return {tag = "ptr", pos = pos, ref = ref, to = to} end,
  raw = (Cp() * tok"*" * expect(C(kw"const" + kw"mut"), "'const' or 'mut' after '*'") * sp
        * expect(V"ty", "a type after the raw pointer"))
    / function(pos, which, to) return {tag = "ptr", pos = pos, ref = "*" .. which, to = to} end,

  array = (Cp() * tok"[" * expect(V"ty", "an element type after '['")
        * (tok";" * expect(count(digits), "an array length (a whole number)") * sp
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
  bound = V"lifetime" + path * sp * V"angle"^-1 * sp * (V"paren" * sp * ("->" * sp * V"ty")^-1)^-1,
  bounds = V"bound" * sp * ("+" * sp * V"bound")^0,
  dyn = (Cp() * kw"dyn" * sp * expect(C(V"bounds" / 0), "a trait name after 'dyn'"))
    / function(pos, bounds)
      bounds = bounds:gsub("%s+", " "):gsub("%s*%+%s*", " + "):gsub("%s+$", "")
      return {tag = "dyn", pos = pos, bounds = bounds}
    end,
  fn = (Cp() * C((kw"unsafe" * sp)^-1 * (kw"extern" * sp * ('"' * (1 - P'"')^0 * '"')^-1 * sp)^-1
        * kw"fn" * sp * expect(V"paren", "'(' after fn") * sp * ("->" * sp * V"ty" / 0)^-1))
    / function(pos, text) return {tag = "fn", pos = pos, text = (text:gsub("%s+", " "))} end,
  never = refuse(P"!", "the never type ! is not modelled; use () for a value with nothing in it"),

  named = (Cp() * C(path) * sp
        * (tok"<" * expect(Ct(V"ty" * (tok"," * V"ty")^0 * tok","^-1), "a type argument after '<'")
           * expect(tok">", "'>' to close the type arguments"))^-1)
    / function(pos, name, args) return named(pos, name:match("([%w_]+)$"), args) end,
}

-- #[repr(...)] gives a representation; any other attribute is skipped.
local balanced = P{ "b", b = "(" * ((1 - set"()") + V"b")^0 * ")" + "[" * ((1 - set"[]") + V"b")^0 * "]" }
local repr_arg = Ct(Cp() * C(ident) * sp * (tok"(" * expect(count(digits), "a number") * sp
  * expect(tok")", "')'"))^-1) * sp
local attr = tok"#" * tok"[" * (
    kw"repr" * sp * tok"(" * Ct(repr_arg * (tok"," * repr_arg)^0 * tok","^-1) * expect(tok")", "')' to close repr")
    + (1 - set"[]()") ^ 1 * (balanced * sp)^0 / function() end
  ) * expect(tok"]", "']' to close the attribute")
local attrs = Ct(attr^0)
local vis = (kw"pub" * sp * balanced^-1 * sp)^-1

local generics = refuse(P"<", "generic declarations are not supported: declare the type with concrete "
  .. "types instead (struct PairU8 { a: u8, b: u8 })")

local rust_field = Ct(attrs * vis * Cg(Cp(), "pos") * Cg(C(ident), "name") * sp
  * expect(tok":", "':' after the field name") * Cg(expect(rust_type, "a field type"), "type"))
local function list(item, close, what)
  return Ct((item * (tok"," * item)^0 * tok","^-1)^-1) * expect(tok(close), what)
end
local tuple_fields = list(Ct(attrs * vis * Cg(Cp(), "pos") * Cg(rust_type, "type")), ")",
  "')' to close the tuple fields")
local named_fields = list(rust_field, "}", "'}' to close the fields")

local item_name = Cg(Cp(), "pos") * Cg(expect(C(ident), "a name"), "name") * sp * generics^-1

local struct_item = Ct(Cg(attrs, "attrs") * vis * Cg(kw"struct" * Cc"struct", "item") * sp * item_name
  * (tok"{" * Cg(named_fields, "fields")
     + tok"(" * Cg(tuple_fields, "fields") * Cg(Cc(true), "tuple") * expect(tok";", "';' after a tuple struct")
     + tok";" * Cg(Ct(""), "fields")
     + expected("'{', '(' or ';' after the struct's name")))

local union_item = Ct(Cg(attrs, "attrs") * vis * Cg(kw"union" * Cc"union", "item") * sp * item_name
  * expect(tok"{", "'{' after the union's name") * Cg(named_fields, "fields"))

local variant = Ct(attrs * Cg(Cp(), "pos") * Cg(C(ident), "name") * sp
  * (tok"{" * Cg(named_fields, "fields") + tok"(" * Cg(tuple_fields, "fields") * Cg(Cc(true), "tuple"))^-1
  * (tok"=" * Cg(expect(literal, "a discriminant (a whole number)"), "discr") * sp)^-1)
local enum_item = Ct(Cg(attrs, "attrs") * vis * Cg(kw"enum" * Cc"enum", "item") * sp * item_name
  * expect(tok"{", "'{' after the enum's name") * Cg(list(variant, "}", "'}' to close the variants"), "variants"))

local alias_item = Ct(vis * Cg(kw"type" * Cc"type", "item") * sp * item_name * expect(tok"=", "'=' after the name")
  * Cg(expect(rust_type, "a type after '='"), "type") * expect(tok";", "';' after the type alias"))

local rust_item = (struct_item + union_item + enum_item + alias_item) * (tok";")^0
local rust_items = Ct(rust_item^0)

local rust_slot = Ct((kw"let" * sp)^-1 * (kw"mut" * sp)^-1 * Cg(Cp(), "pos")
  * Cg(expect(C(ident), "a slot name"), "name") * sp
  * (tok":" + expected_in_slot("':' after the slot name '%s'"))
  * Cg(rust_type + expected_in_slot("a type after '%s:'"), "type"))

local rust_slots = sp * rust_items * Ct(eof + rust_slot * (set",;" * sp * (eof + rust_slot))^0)
  * expect(eof, "',' or the end of the declarations")

local rust_text = sp * rust_items * (rust_type + Cc(nil)) * expect(eof, "the end of the type")

---------------------------------------------------------------------------
-- C.

local function any_of(words)
  local p = P(false)
  for _, w in ipairs(words) do p = p + kw(w) end
  return p
end
local qualifier = any_of{"const", "volatile", "restrict", "static", "extern", "register", "auto", "inline",
  "_Thread_local", "_Noreturn"}
local specifier = any_of{"signed", "unsigned", "char", "short", "int", "long", "float", "double", "void",
  "_Bool", "_Complex", "__int128"}
local tag = any_of{"struct", "union", "enum"}
local c_ident = -(qualifier + specifier + tag + kw"typedef" + kw"_Alignas" + kw"sizeof") * ident

-- C lets the specifier keywords come in any order ("long unsigned int"),
-- so they are counted and named canonically. A combination C has no name
-- for is left as written and later reported as an unknown type.
local function c_base(words)
  local n = {}
  for _, w in ipairs(words) do n[w] = (n[w] or 0) + 1 end
  local complex = n._Complex == 1
  if complex then
    local rest = {}
    for _, w in ipairs(words) do if w ~= "_Complex" then rest[#rest + 1] = w end end
    local base = #rest == 0 and "double" or c_base(rest)
    return base .. " _Complex"
  end
  local sign = n.unsigned and "unsigned " or n.signed and "signed " or ""
  local name
  if #words == 1 and (n.void or n._Bool or n.float or n.double) then
    name = words[1]
  elseif #words == 2 and n.long == 1 and n.double == 1 then
    name = "long double"
  elseif n.char == 1 and #words == (n.signed or n.unsigned or 0) + 1 then
    name = sign .. "char"
  elseif n.__int128 == 1 and #words == (n.signed or n.unsigned or 0) + 1 then
    name = (sign == "signed " and "" or sign) .. "__int128"
  elseif not (n.char or n.void or n._Bool or n.float or n.double or n.__int128)
      and (n.signed or 0) + (n.unsigned or 0) <= 1
      and (n.int or 0) <= 1 and (n.short or 0) <= 1 and (n.long or 0) <= 2 and not (n.short and n.long) then
    name = (sign == "signed " and "" or sign)
      .. (n.short and "short" or n.long == 2 and "long long" or n.long and "long" or "int")
  end
  return name or table.concat(words, " ")
end

-- Pieces around the type proper: qualifiers (ignored), typedef, _Alignas.
local c_type_name = V"type_name"
local c_other = (qualifier * sp) / function() end
  + kw"typedef" * sp * Cc{typedef = true}
  + kw"_Alignas" * sp * expect(tok"(", "'(' after _Alignas")
    * (Cp() * count(integer) * sp / function(pos, n) return {alignas = n, pos = pos} end
       + c_type_name / function(t) return {alignas_type = t} end)
    * expect(tok")", "')' to close _Alignas")
  + refuse(kw"__attribute__", "__attribute__ is not supported: use _Alignas(N) on a member for alignment;"
      .. " packed C structs are not modelled")

local function flags(...)
  local out = {}
  for _, f in ipairs{...} do for k, v in pairs(f) do out[k] = v end end
  return out
end

-- Declarators read inside out: in "*a[4]" a is an array of pointers, in
-- "(*p)[4]" p is a pointer to an array. A declarator is kept as
-- {stars, core, dims, pos}, core a name, a nested declarator or false
-- (abstract, as in "char *"), dims lengths, false ("[]") or "fn".
local function make_decl(stars, inner, name, dims)
  if type(inner) == "table" then return {stars = #stars, core = inner, dims = dims, pos = inner.pos} end
  return {stars = #stars, core = name, dims = dims, pos = inner}
end

local c_grammar = P{ "text",
  text = sp * Ct(V"declaration"^0) * (V"type_name" + Cc(nil)) * expect(eof, "a declaration or the end of the text"),

  -- (flags, base type AST)
  specs = Cp() * Ct(c_other^0)
    * (Ct(C(specifier) * sp * (c_other^0 * C(specifier) * sp)^0) / c_base
       + V"record" + V"enum" + C(c_ident) * sp)
    * Ct(c_other^0)
    / function(pos, pre, base, post)
      local f = flags(table.unpack(pre))
      for k, v in pairs(flags(table.unpack(post))) do f[k] = v end
      if type(base) == "string" then base = named(pos, base) end
      return f, base
    end,

  record = Cp() * C(kw"struct" + kw"union") * sp * (C(c_ident) * sp + Cc(nil))
    * (tok"{" * Ct(V"member"^0) * expect(tok"}", "'}' to close the members") + Cc(nil))
    / function(pos, kind, name, members)
      if not name and not members then fail_at(pos, "expected a name or '{' after " .. kind) end
      return {tag = "record", pos = pos, kind = kind, name = name, members = members}
    end,

  enum = Cp() * kw"enum" * sp * (C(c_ident) * sp + Cc(nil))
    * (tok"{" * Ct(V"enumerator" * (tok"," * V"enumerator")^0 * tok","^-1)
       * expect(tok"}", "'}' to close the enumerators") + Cc(nil))
    / function(pos, name, values)
      if not name and not values then fail_at(pos, "expected a name or '{' after enum") end
      return {tag = "cenum", pos = pos, name = name, values = values}
    end,
  enumerator = Ct(Cg(Cp(), "pos") * Cg(C(c_ident), "name") * sp
    * (tok"=" * Cg(expect(literal, "a whole number (other constant expressions are not supported)"), "value")
       * sp)^-1),

  -- a member: specifiers, then declarators (none for an anonymous struct or union)
  member = Cp() * V"specs"
    * Ct((V"d" * V"bitfield"^-1 * (tok"," * V"d" * V"bitfield"^-1)^0)^-1)
    * expect(tok";", "';' after the member")
    / function(pos, f, base, decls) return {pos = pos, flags = f, base = base, decls = decls} end,
  bitfield = refuse(P":", "bit-fields are not supported: declare the member without ': width'"
      .. " (an unsigned int, or a uint8_t for a few flags)"),

  -- a declaration with declarators, or a tag's definition alone; a type
  -- name at the very end is left to text's type_name
  declaration = Cp() * V"specs"
    * (Ct(V"d" * (tok"," * expect(V"d", "a name after ','"))^0) * (tok";" + #eof + expected("';' after the declaration"))
       + Ct"" * tok";")
    / function(pos, f, base, decls)
      if #decls == 0 and base.tag ~= "record" and base.tag ~= "cenum" then
        fail_at(pos + #base.name + 1, "expected a slot name")
      end
      return {pos = pos, flags = f, base = base, decls = decls}
    end,

  type_name = Cp() * V"specs" * V"da" / function(pos, f, base, d)
    return {pos = pos, flags = f, base = base, decls = {d}, type_name = true}
  end,

  d = (Ct((tok"*" * (qualifier * sp)^0 * Cc(true))^0)
        * (tok"(" * V"d" * expect(tok")", "')'") * Cc(nil) + Cp() * C(c_ident) * sp)
        * V"dims") / make_decl,
  da = (Ct((tok"*" * (qualifier * sp)^0 * Cc(true))^0)
        * (#(P"(" * sp * set"*(") * tok"(" * V"da" * expect(tok")", "')'") * Cc(nil) + Cp() * Cc(false))
        * V"dims") / make_decl,
  dims = Ct((tok"[" * (count(integer) * sp + Cc(false)) * expect(tok"]", "']' to close the array")
    + V"params" * sp * Cc"fn")^0),
  params = "(" * ((1 - set"()") + V"params")^0 * expect(")", "')' to close the parameters"),
}

---------------------------------------------------------------------------
-- Public functions: never raise, answer nil and one line instead.

local function where(text, pos)
  local line, start = 1, 1
  for nl in text:sub(1, pos - 1):gmatch("()\n") do line, start = line + 1, nl + 1 end
  local col = "column " .. (pos - start + 1)
  return text:find("\n", 1, true) and "line " .. line .. ", " .. col or col
end

local function run(what, text, opts, finish)
  if type(text) ~= "string" then return nil, what .. ": expected a string, got " .. type(text) end
  if opts ~= nil and type(opts) ~= "table" then return nil, what .. ": options must be a table, got " .. type(opts) end
  opts = opts or {}
  local cx = {lang = opts.lang or "rust", word = opts.word or 8}
  if cx.lang ~= "rust" and cx.lang ~= "c" then
    return nil, what .. ": lang must be \"rust\" or \"c\", got " .. tostring(cx.lang)
  end
  if cx.word ~= 4 and cx.word ~= 8 then return nil, what .. ": word must be 4 or 8, got " .. tostring(cx.word) end
  local ok, res, msg = pcall(finish, cx)
  if ok then return res, msg end
  if type(res) == "table" then return nil, where(text, res.pos) .. ": " .. res.msg end
  if tostring(res):find("stack overflow", 1, true) then return nil, what .. ": " .. types.TOO_DEEP end
  return nil, what .. ": internal error: " .. tostring(res)
end

-- The C text's declarations: typedefs and tags registered in order, the
-- named, non-typedef declarators returned as {name, type, pos}.
local function c_declarations(decls, cx)
  local out = {}
  for _, d in ipairs(decls) do
    for _, v in ipairs(types.c_declaration(d, cx)) do out[#out + 1] = v end
  end
  return out
end

local decl = {}

--- decl.parse(text [, {lang, word}]) -> the slots {{name, type}...}, or nil, msg.
--- Type declarations may come first: they are in scope for the slots.
function decl.parse(text, opts)
  return run("decl.parse", text, opts, function(cx)
    local slots
    if cx.lang == "rust" then
      local items, list = lpeg.match(rust_slots, text)
      types.rust_scope(items, cx)
      slots = list
      for _, s in ipairs(slots) do s.type = types.of(s.type, cx) end
    else
      local decls, tail = lpeg.match(c_grammar, text)
      if tail then fail_at(tail.pos, "expected a slot name after the type") end
      slots = c_declarations(decls, cx)
    end
    local out, seen = {}, {}
    for i, s in ipairs(slots) do
      if seen[s.name] then fail_at(s.pos, "duplicate slot name '" .. s.name .. "'") end
      seen[s.name] = true
      if not s.type.sized then return nil, s.name .. ": " .. s.type.why end
      out[i] = {name = s.name, type = s.type}
    end
    return out
  end)
end

--- decl.type(text [, {lang, word}]) -> the type table of a type, or of the
--- last declaration in text, or nil, msg.
function decl.type(text, opts)
  return run("decl.type", text, opts, function(cx)
    if cx.lang == "rust" then
      local items, ty = lpeg.match(rust_text, text)
      local last = types.rust_scope(items, cx)
      if ty then return types.of(ty, cx) end
      if not last then fail_at(#text + 1, "expected a type") end
      return last
    end
    local decls, tail = lpeg.match(c_grammar, text)
    if tail then decls[#decls + 1] = tail end
    if #decls == 0 then fail_at(#text + 1, "expected a type") end
    local last
    for _, d in ipairs(decls) do last = types.c_declaration(d, cx) end
    return last.described
  end)
end

return decl
