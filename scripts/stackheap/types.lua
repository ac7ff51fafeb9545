-- Names and scopes: turns decl.lua's ASTs into type tables, resolving user
-- declarations and library types, and asking layout.lua for the numbers.
local layout = require "stackheap.layout"

local fail_at, need_sized = layout.fail_at, layout.need_sized
local M = {}

-- LPeg stops the grammar at about this depth too; a bound here also keeps
-- the C type text, which is quadratic in the depth, cheap.
local MAX_DEPTH = 200
M.TOO_DEEP = "the type is nested too deeply (the limit is " .. MAX_DEPTH .. " levels)"

local of -- of(ast, cx) -> type table

local function behind_pointer(ast, cx)
  local saved = cx.behind
  cx.behind = true
  local t = of(ast, cx)
  cx.behind = saved
  return t
end

---------------------------------------------------------------------------
-- Rust.

local function one_arg(ast, cx, ptr)
  if not ast.args or #ast.args ~= 1 then fail_at(ast.pos, ast.name .. " takes exactly one type argument") end
  return ptr and behind_pointer(ast.args[1], cx) or of(ast.args[1], cx)
end

local function no_args(ast)
  if ast.args then fail_at(ast.pos, ast.name .. " takes no type arguments") end
end

local function smart_pointer(ast, cx)
  local to = one_arg(ast, cx, true)
  local t = layout.pointer(to, ast.name .. "<" .. to.text .. ">", cx, true)
  if ast.name == "Box" then t.owns = to; t.owner = "Box" end
  return t
end

local function copy(t, text, niche)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  c.text, c.niche = text, niche
  return c
end

local RUST_LIBRARY = {
  Box = smart_pointer, Rc = smart_pointer, Arc = smart_pointer, NonNull = smart_pointer,
  Vec = function(ast, cx)
    local elem = one_arg(ast, cx, true)
    need_sized(elem, ast.args[1].pos, "a Vec element")
    local t = layout.vec_like("Vec<" .. elem.text .. ">", elem, cx)
    t.owner = "Vec"
    return t
  end,
  String = function(ast, cx)
    no_args(ast)
    local t = layout.vec_like("String", layout.prim(cx, "u8"), cx)
    t.owner = "String"
    return t
  end,
  str = function(ast) no_args(ast); return layout.str() end,
  Option = function(ast, cx) return layout.option(one_arg(ast, cx), ast.pos, cx) end,
  Result = function(ast, cx)
    if not ast.args or #ast.args ~= 2 then fail_at(ast.pos, "Result takes two type arguments: Result<T, E>") end
    return layout.result(of(ast.args[1], cx), of(ast.args[2], cx), ast.pos, cx)
  end,
  PhantomData = function(ast, cx)
    local t = one_arg(ast, cx, true)
    return {text = "PhantomData<" .. t.text .. ">", kind = "struct", size = 0, align = 1, sized = true, fields = {}}
  end,
  NonZero = function(ast, cx)
    local t = one_arg(ast, cx)
    local p = layout.PRIMS.rust[cx.word]["NonZero" .. t.text:sub(1, 1):upper() .. t.text:sub(2)]
    if not p or t.kind ~= "int" then fail_at(ast.args[1].pos, "NonZero takes an integer type, got " .. t.text) end
    return layout.scalar("NonZero<" .. t.text .. ">", p)
  end,
  -- wrappers as big as what they hold; only ManuallyDrop keeps its niche
  ManuallyDrop = function(ast, cx) local t = one_arg(ast, cx); return copy(t, "ManuallyDrop<" .. t.text .. ">", t.niche) end,
  MaybeUninit = function(ast, cx) local t = one_arg(ast, cx); return copy(t, "MaybeUninit<" .. t.text .. ">") end,
  Cell = function(ast, cx) local t = one_arg(ast, cx); return copy(t, "Cell<" .. t.text .. ">") end,
  UnsafeCell = function(ast, cx) local t = one_arg(ast, cx); return copy(t, "UnsafeCell<" .. t.text .. ">") end,
}

local REPR_INTS = {u8 = 1, i8 = 1, u16 = 1, i16 = 1, u32 = 1, i32 = 1, u64 = 1, i64 = 1, u128 = 1, i128 = 1,
  usize = 1, isize = 1}

local function pow2(n) return n > 0 and n & (n - 1) == 0 end

local function repr_of(item)
  local repr = {}
  for _, list in ipairs(item.attrs or {}) do
    for _, a in ipairs(list) do
      local pos, name, n = a[1], a[2], a[3]
      if name == "C" then repr.c = true
      elseif name == "transparent" then repr.transparent = true
      elseif name == "packed" then
        n = n or 1
        if not pow2(n) then fail_at(pos, "repr(packed(" .. n .. ")): the packing must be a power of two") end
        repr.pack = math.min(repr.pack or n, n)
      elseif name == "align" then
        if not n then fail_at(pos, "repr(align) needs a number: #[repr(align(16))]") end
        if not pow2(n) or n > 1 << 29 then
          fail_at(pos, "repr(align(" .. n .. ")): the alignment must be a power of two up to 2^29")
        end
        repr.align = math.max(repr.align or 1, n)
      elseif REPR_INTS[name] then
        if item.item ~= "enum" then fail_at(pos, "repr(" .. name .. ") applies only to enums") end
        repr.int = name
      else
        fail_at(pos, "unknown representation '" .. name .. "' (known: C, packed, packed(N), align(N),"
          .. " transparent, and u8..u128, i8..i128, usize, isize on enums)")
      end
    end
  end
  if repr.pack and repr.align then
    fail_at(item.pos, item.name .. ": repr(packed) and repr(align) cannot be combined (rustc refuses it, E0587)")
  end
  return repr
end

local function fields_of(list, cx)
  local out, seen = {}, {}
  for i, f in ipairs(list) do
    local name = f.name or tostring(i - 1)
    if seen[name] then fail_at(f.pos, "duplicate field name '" .. name .. "'") end
    seen[name] = true
    out[i] = {name = name, type = of(f.type, cx), pos = f.pos}
  end
  return out
end

local BUILD = {}

function BUILD.struct(item, cx)
  return layout.rust_struct(item.name, fields_of(item.fields, cx), repr_of(item), item.pos)
end

function BUILD.union(item, cx)
  return layout.rust_union(item.name, fields_of(item.fields, cx), repr_of(item), item.pos)
end

function BUILD.enum(item, cx)
  local repr, variants, next_discr, seen = repr_of(item), {}, 0, {}
  for i, v in ipairs(item.variants) do
    if seen[v.name] then fail_at(v.pos, "duplicate variant name '" .. v.name .. "'") end
    seen[v.name] = true
    local d = v.discr or next_discr
    variants[i] = {name = v.name, fields = fields_of(v.fields or {}, cx), discr = d}
    next_discr = d + 1
  end
  return layout.rust_enum(item.name, variants, repr, item.pos, cx)
end

function BUILD.type(item, cx) return of(item.type, cx) end

-- A user type by name: laid out once, on first use; a type that reaches
-- itself other than through a pointer would be infinitely large.
local function user_type(ast, cx)
  local e = cx.items and cx.items[ast.name]
  if not e then return nil end
  if e.t then return e.t end
  if e.busy then
    if cx.behind then return {text = ast.name, kind = "struct", sized = true, pending = true} end
    fail_at(ast.pos, "recursive type " .. ast.name .. " contains itself without indirection, so its size would"
      .. " be infinite; put it behind a pointer: Box<" .. ast.name .. "> (or Option<Box<" .. ast.name
      .. ">> where it may be absent)")
  end
  if ast.args then fail_at(ast.pos, ast.name .. " takes no type arguments") end
  e.busy = true
  local saved = cx.behind
  cx.behind = false
  e.t = BUILD[e.item.item](e.item, cx)
  cx.behind = saved
  e.busy = nil
  return e.t
end

--- types.rust_scope(items, cx): puts items in scope (any order, as in Rust)
--- and lays each out; returns the last one's type table.
function M.rust_scope(items, cx)
  cx.items = cx.items or {}
  for _, it in ipairs(items) do
    if cx.items[it.name] then fail_at(it.pos, "the name " .. it.name .. " is declared twice") end
    cx.items[it.name] = {item = it}
  end
  local last
  for _, it in ipairs(items) do last = user_type({name = it.name, pos = it.pos}, cx) end
  return last
end

---------------------------------------------------------------------------
-- C: tags (struct S, union U, enum E) and typedef names are declared in
-- order, as a C compiler reads them.

local function c_incomplete(text)
  return {text = text, kind = "struct", sized = false, incomplete = true,
    why = text .. " is an incomplete type (declared but not defined), so its size is unknown;"
      .. " define it before this point, or use a pointer to it"}
end

local declare_all

local function c_record(ast, cx)
  local key = ast.kind .. " " .. (ast.name or "")
  local text = ast.name and key or ast.kind .. " <anonymous>"
  cx.tags = cx.tags or {}
  if not ast.members then
    local e = cx.tags[key]
    if e and e.t then return e.t end
    return c_incomplete(text)
  end
  if ast.name then
    local e = cx.tags[key]
    if e and (e.t or e.busy) then fail_at(ast.pos, "redefinition of " .. key) end
    cx.tags[key] = {busy = true}
  end
  local members = {}
  for _, m in ipairs(ast.members) do
    local alignas = m.flags.alignas
    if m.flags.alignas_type then alignas = declare_all(m.flags.alignas_type, cx).described.align end
    if m.flags.typedef then fail_at(m.pos, "a typedef cannot be a member") end
    if #m.decls == 0 then
      local base = of(m.base, cx)
      if m.base.tag == "record" and not m.base.name and base.fields then
        members[#members + 1] = {type = base, pos = m.pos, alignas = alignas}
      end
    else
      local base = of(m.base, cx)
      for _, d in ipairs(m.decls) do
        local t, name, pos = M.c_declarator(base, d, cx, m.base.pos)
        members[#members + 1] = {name = name, type = t, pos = pos, alignas = alignas}
      end
    end
  end
  local seen = {}
  for _, m in ipairs(members) do
    for _, n in ipairs(m.name and {m.name} or {}) do
      if seen[n] then fail_at(m.pos, "duplicate member '" .. n .. "'") end
      seen[n] = true
    end
  end
  local t = layout.c_record(text, ast.kind, members, ast.pos)
  if ast.name then cx.tags[key] = {t = t} end
  return t
end

local function c_enum(ast, cx)
  cx.tags = cx.tags or {}
  local key = "enum " .. (ast.name or "")
  if not ast.values then
    local e = cx.tags[key]
    if e then return e.t end
    fail_at(ast.pos, key .. " is not defined (C has no incomplete enums)")
  end
  if ast.name and cx.tags[key] then fail_at(ast.pos, "redefinition of " .. key) end
  local values, next_value = {}, 0
  cx.consts = cx.consts or {}
  for i, e in ipairs(ast.values) do
    if cx.consts[e.name] then fail_at(e.pos, "redeclaration of enumerator '" .. e.name .. "'") end
    values[i] = {name = e.name, value = e.value or next_value}
    cx.consts[e.name] = values[i].value
    next_value = values[i].value + 1
  end
  local t = layout.c_enum(ast.name and key or "enum <anonymous>", values, cx)
  if ast.name then cx.tags[key] = {t = t} end
  return t
end

local function c_function(ret, pos)
  return {text = ret.text .. " ()", kind = "fn", sized = false,
    why = "a function is code, not data: only a pointer to it can live in a slot", ret = ret, pos = pos}
end

--- types.c_declarator(base, d, cx) -> type, name, pos: a declarator applied
--- to an already laid out base type.
function M.c_declarator(t, d, cx, base_pos)
  for _ = 1, d.stars do t = layout.ctext(layout.pointer(t, nil, cx)) end
  for i = #d.dims, 1, -1 do
    local n = d.dims[i]
    if n ~= "fn" then need_sized(t, base_pos or d.pos, "an array element") end
    if n == "fn" then t = c_function(t, d.pos)
    elseif n then t = layout.array(t, n, d.pos, cx)
    else t = layout.c_incomplete_array(t, d.pos) end
  end
  if type(d.core) == "table" then return M.c_declarator(t, d.core, cx, base_pos) end
  return t, d.core, d.pos
end

-- One C declaration: registers what it defines; returns its named,
-- non-typedef declarators as {name, type, pos}, and in .described the type
-- decl.type reports for it.
function declare_all(d, cx)
  local base = of(d.base, cx)
  local out = {described = base}
  cx.typedefs = cx.typedefs or {}
  for _, dd in ipairs(d.decls) do
    local t, name, pos = M.c_declarator(base, dd, cx, d.base.pos)
    out.described = t
    if d.flags.typedef then
      if not name then fail_at(d.pos, "typedef needs a name") end
      cx.typedefs[name] = t
    elseif name then
      local align = d.flags.alignas
      if d.flags.alignas_type then align = declare_all(d.flags.alignas_type, cx).described.align end
      if align and align > t.align then t = copy(t, t.text, t.niche); t.align = align end
      out[#out + 1] = {name = name, type = t, pos = pos}
    end
  end
  return out
end
M.c_declaration = declare_all

---------------------------------------------------------------------------
-- Both languages.

local LAYOUT = {}

-- The other language's names for the same types, for "did you mean".
local HINTS = {
  rust = {int = "i32", long = "i64", short = "i16", unsigned = "u32", float = "f32", double = "f64",
    size_t = "usize", uint8_t = "u8", int32_t = "i32", uint32_t = "u32", int64_t = "i64", uint64_t = "u64",
    byte = "u8", string = "String", Str = "str", integer = "i64", void = "()"},
  c = {i8 = "int8_t", u8 = "uint8_t", i16 = "int16_t", u16 = "uint16_t", i32 = "int32_t", u32 = "uint32_t",
    i64 = "int64_t", u64 = "uint64_t", usize = "size_t", isize = "ptrdiff_t", f32 = "float", f64 = "double",
    bool = "_Bool", String = "char *"},
}

function LAYOUT.named(ast, cx)
  local p = layout.PRIMS[cx.lang][cx.word][ast.name]
  if p then
    no_args(ast)
    return layout.scalar(ast.name, p)
  end
  if cx.lang == "rust" then
    local t = user_type(ast, cx)
    if t then return t end
    if RUST_LIBRARY[ast.name] then return RUST_LIBRARY[ast.name](ast, cx) end
  else
    if ast.name == "void" then
      return {text = "void", kind = "void", sized = false,
        why = "void has no size, so it cannot live in a stack slot; only a pointer to it can (void *)"}
    end
    local t = cx.typedefs and cx.typedefs[ast.name]
    if t then return t end
    if ast.name == "__int128" or ast.name == "unsigned __int128" then
      fail_at(ast.pos, ast.name .. " exists only on 64-bit targets (word = 8)")
    end
  end
  local hint = HINTS[cx.lang][ast.name]
  if hint then hint = " (did you mean " .. hint .. "?)"
  elseif cx.lang == "rust" and ast.name:match("^%u") then
    hint = " (declare it in the text first: struct " .. ast.name .. " { ... })"
  else hint = "" end
  fail_at(ast.pos, "unknown type '" .. ast.name .. "'" .. hint)
end

function LAYOUT.ptr(ast, cx)
  local to = behind_pointer(ast.to, cx)
  local nonnull = ast.ref == "&" or ast.ref == "&mut"
  return layout.pointer(to, ast.ref .. (ast.ref == "&" and "" or " ") .. to.text, cx, nonnull)
end

function LAYOUT.array(ast, cx)
  local elem = of(ast.elem, cx)
  need_sized(elem, ast.elem.pos, "an array element")
  return layout.array(elem, ast.count, ast.pos, cx)
end

function LAYOUT.slice(ast, cx) return layout.slice(of(ast.elem, cx), ast.elem.pos) end

function LAYOUT.dyn(ast) return layout.dyn(ast.bounds) end

function LAYOUT.fn(ast, cx)
  return {text = ast.text, kind = "ptr", size = cx.word, align = cx.word, sized = true,
    niche = {offset = 0, size = cx.word, avail = 1}}
end

function LAYOUT.tuple(ast, cx)
  local ts = {}
  for i, e in ipairs(ast.elems) do
    ts[i] = of(e, cx)
    if i < #ast.elems then need_sized(ts[i], e.pos, "a tuple element other than the last") end
  end
  return layout.tuple(ts, ast.pos)
end

LAYOUT.record = c_record
LAYOUT.cenum = c_enum

function of(ast, cx)
  cx.depth = (cx.depth or 0) + 1
  if cx.depth > MAX_DEPTH then fail_at(ast.pos, M.TOO_DEEP) end
  local t = LAYOUT[ast.tag](ast, cx)
  cx.depth = cx.depth - 1
  return t
end
M.of = of

return M
