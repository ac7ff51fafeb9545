-- Type layouts: the rules rustc (x86_64, i686) and gcc (x86-64 SysV, i386) use
-- to give a type its size, alignment, field offsets and niches. No parsing here.
local M = {}

local LIMIT = 1 << 53 -- beyond this, sizes stop being exact in a double
M.LIMIT = LIMIT

-- Errors raise {pos, msg}; decl.lua turns them into one line with a column.
local function fail_at(pos, msg) error({pos = pos, msg = msg}, 0) end
M.fail_at = fail_at

local function roundup(n, a) return (n + a - 1) // a * a end
local max, min = math.max, math.min

local function check_size(t, pos)
  if t.size and t.size > LIMIT then fail_at(pos, t.text .. " is too large (more than 2^53 bytes)") end
  return t
end

---------------------------------------------------------------------------
-- Primitives, per language and word size. A niche is a set of bit patterns
-- a type never uses ({offset, size, avail}: where, how wide, how many), which
-- rustc spends on an enclosing enum's discriminant.

local BOOL_NICHE = {offset = 0, size = 1, avail = 254}
local CHAR_NICHE = {offset = 0, size = 4, avail = (1 << 32) - 0x110000}

local function rust_prims(word)
  -- rustc's i686-unknown-linux-gnu follows the i386 C ABI: 64-bit integers
  -- and f64 are 4-aligned there; i128 is 16-aligned on both since Rust 1.77.
  local a64 = word == 8 and 8 or 4
  local p = {
    i8 = {"int", 1, 1, true}, i16 = {"int", 2, 2, true}, i32 = {"int", 4, 4, true},
    i64 = {"int", 8, a64, true}, i128 = {"int", 16, 16, true}, isize = {"int", word, word, true},
    u8 = {"int", 1, 1, false}, u16 = {"int", 2, 2, false}, u32 = {"int", 4, 4, false},
    u64 = {"int", 8, a64, false}, u128 = {"int", 16, 16, false}, usize = {"int", word, word, false},
    f32 = {"float", 4, 4}, f64 = {"float", 8, a64},
    bool = {"bool", 1, 1, nil, BOOL_NICHE}, char = {"char", 4, 4, nil, CHAR_NICHE},
  }
  -- NonZeroU32 and friends: the integer without the value 0.
  for _, n in ipairs{"8", "16", "32", "64", "128", "size"} do
    for _, s in ipairs{"u", "i"} do
      local q = p[s .. n]
      p["NonZero" .. s:upper() .. n] = {"int", q[2], q[3], s == "i", {offset = 0, size = q[2], avail = 1}}
    end
  end
  return p
end

local function c_prims(word)
  -- LP64 on word 8; on word 4 the i386 System V ABI, which aligns 8-byte
  -- scalars (long long, double) to 4 inside structs, as C11's _Alignof says.
  local a64 = word == 8 and 8 or 4
  local p = {
    char = {"int", 1, 1, true}, ["signed char"] = {"int", 1, 1, true}, ["unsigned char"] = {"int", 1, 1, false},
    short = {"int", 2, 2, true}, ["unsigned short"] = {"int", 2, 2, false},
    int = {"int", 4, 4, true}, ["unsigned int"] = {"int", 4, 4, false},
    long = {"int", word, word, true}, ["unsigned long"] = {"int", word, word, false},
    ["long long"] = {"int", 8, a64, true}, ["unsigned long long"] = {"int", 8, a64, false},
    float = {"float", 4, 4}, double = {"float", 8, a64}, _Bool = {"bool", 1, 1},
    ["long double"] = word == 8 and {"float", 16, 16} or {"float", 12, 4},
    ["float _Complex"] = {"complex", 8, 4}, ["double _Complex"] = {"complex", 16, a64},
    ["long double _Complex"] = word == 8 and {"complex", 32, 16} or {"complex", 24, 4},
    size_t = {"int", word, word, false}, ptrdiff_t = {"int", word, word, true},
    intptr_t = {"int", word, word, true}, uintptr_t = {"int", word, word, false},
    int8_t = {"int", 1, 1, true}, int16_t = {"int", 2, 2, true}, int32_t = {"int", 4, 4, true},
    int64_t = {"int", 8, a64, true}, uint8_t = {"int", 1, 1, false}, uint16_t = {"int", 2, 2, false},
    uint32_t = {"int", 4, 4, false}, uint64_t = {"int", 8, a64, false},
  }
  if word == 8 then
    p.__int128 = {"int", 16, 16, true}; p["unsigned __int128"] = {"int", 16, 16, false}
  end
  return p
end

local PRIMS = {rust = {[4] = rust_prims(4), [8] = rust_prims(8)}, c = {[4] = c_prims(4), [8] = c_prims(8)}}

local function scalar(text, p)
  return {text = text, kind = p[1], size = p[2], align = p[3], signed = p[4], niche = p[5], sized = true}
end

local function prim(cx, name) return scalar(name, PRIMS[cx.lang][cx.word][name]) end

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
M.need_sized = need_sized

-- C writes a declarator around the name ("int (*)[4]", "char *[2]"), so a C
-- type's text is built inside out from the whole type.
local function c_text(t, inner)
  if t.kind == "fn" then
    return c_text(t.ret, "(" .. inner .. ")()")
  elseif t.kind == "ptr" then
    return c_text(t.pointee, t.pointee.kind == "array" and "(*" .. inner .. ")" or "*" .. inner)
  elseif t.kind == "array" then
    return c_text(t.elem, inner .. "[" .. (t.count or "") .. "]")
  elseif inner == "" or inner:sub(1, 1) == "[" then
    return t.text .. inner
  end
  return t.text .. " " .. inner
end

local function ctext(t) t.text = c_text(t, ""); return t end

---------------------------------------------------------------------------
-- rustc's struct layout (rustc_abi's univariant): fields may be reordered,
-- largest alignment group first, the largest niche placed towards one end.

local function tz(n) -- trailing zero bits of n > 0
  local k = 0
  while n & 1 == 0 do n, k = n >> 1, k + 1 end
  return k
end

local function avail(t) return t.niche and t.niche.avail or 0 end

-- fields: {{name, type}}; kind: "sized", "maybe_unsized" (the last field may
-- be unsized and stays last) or {prefix_size, prefix_align} (an enum variant
-- after its tag); bias: "start" or "end", where the niche should go.
local function univariant_biased(fields, repr, kind, bias)
  local pack, n = repr.pack, #fields
  local order = {}
  for i = 1, n do order[i] = i end
  local last = kind == "maybe_unsized" and n - 1 or n
  if not (repr.c or repr.int) and n > 1 then
    local max_align, max_niche = 1, 0
    for i = 1, last do
      max_align, max_niche = max(max_align, fields[i].type.align), max(max_niche, avail(fields[i].type))
    end
    -- log2 of an effective alignment: [u8; 4] groups with u32
    local function group(t)
      if pack then return min(t.align, pack) end
      local g = tz(max(t.align, t.size))
      if max_niche > 0 then
        if bias == "start" then g = min(tz(max_align), g)
        elseif avail(t) == max_niche then g = tz(t.align) end
      end
      return g
    end
    local keys = {}
    for i = 1, last do
      local t = fields[i].type
      local nk, ik = avail(t), 0
      if type(kind) == "table" then
        keys[i] = {group(t), nk, i}
      else
        if bias == "start" then
          nk, ik = -nk, t.niche and t.niche.offset or 0
        else -- fields without a niche first, then the niche nearest the end last
          ik = t.niche and (1 << 60) - (t.size - t.niche.size - t.niche.offset) or 0
        end
        keys[i] = {-group(t), nk, ik, i}
      end
    end
    local sorted = {}
    for i = 1, last do sorted[i] = i end
    table.sort(sorted, function(a, b) -- keys end with the index, so the sort is stable
      local ka, kb = keys[a], keys[b]
      for j = 1, #ka do if ka[j] ~= kb[j] then return ka[j] < kb[j] end end
      return false
    end)
    for i = 1, last do order[i] = sorted[i] end
  end
  local align, offset, offsets, niche, best = 1, 0, {}, nil, 0
  if type(kind) == "table" then
    local pa = pack and min(kind[2], pack) or kind[2]
    align, offset = max(align, pa), roundup(kind[1], pa)
  end
  local sized = true
  for _, i in ipairs(order) do
    local t = fields[i].type
    local fa = pack and min(t.align, pack) or t.align
    offset = roundup(offset, fa)
    align = max(align, fa)
    offsets[i] = offset
    local a = avail(t)
    if a > 0 and (bias == "start" and a > best or bias == "end" and a >= best) then
      best, niche = a, {offset = offset + t.niche.offset, size = t.niche.size, avail = a}
    end
    if t.sized then offset = offset + t.size else sized = false end
  end
  if repr.align then align = max(align, repr.align) end
  return {size = sized and roundup(offset, align) or nil, align = align, offsets = offsets, order = order,
    niche = niche, sized = sized, min_size = offset}
end

local function univariant(fields, repr, kind)
  local l = univariant_biased(fields, repr, kind, "start")
  if kind ~= "maybe_unsized" and l.niche and #fields > 1 then
    local head = l.niche.offset
    local tail = l.size - head - l.niche.size
    if head ~= 0 and tail > 0 then
      local alt = univariant_biased(fields, repr, kind, "end")
      if alt.niche.offset > head and alt.niche.offset > tail then return alt end
    end
  end
  return l
end

local function with_offsets(fields, offsets)
  local out = {}
  for i, f in ipairs(fields) do out[i] = {name = f.name, offset = offsets[i], type = f.type} end
  return out
end

local function rust_struct(text, fields, repr, pos, kind)
  if kind == nil then kind = (#fields > 0 and not fields[#fields].type.sized) and "maybe_unsized" or "sized" end
  for i = 1, #fields - 1 do need_sized(fields[i].type, fields[i].pos or pos, "a field other than the last") end
  local l = univariant(fields, repr, kind)
  local t = {text = text, kind = "struct", size = l.size, align = l.align, fields = with_offsets(fields, l.offsets),
    niche = l.niche, sized = l.sized, repr = repr}
  if not l.sized then
    local tail = fields[#fields].type
    t.meta = tail.meta
    t.why = text .. " is unsized: its last field " .. fields[#fields].name .. " is " .. tail.text
      .. ", whose size is not known at compile time, so it cannot live in a stack slot;"
      .. " keep it behind a pointer (&" .. text .. ", Box<" .. text .. ">)"
  end
  return check_size(t, pos)
end
M.rust_struct = rust_struct

local function rust_union(text, fields, repr, pos)
  if #fields == 0 then fail_at(pos, "union " .. text .. " has no fields; a union needs at least one") end
  local align, size, out = 1, 0, {}
  for i, f in ipairs(fields) do
    need_sized(f.type, f.pos or pos, "a union field")
    align, size = max(align, f.type.align), max(size, f.type.size)
    out[i] = {name = f.name, offset = 0, type = f.type}
  end
  if repr.pack then align = min(align, repr.pack) end
  if repr.align then align = max(align, repr.align) end
  return check_size({text = text, kind = "union", size = roundup(size, align), align = align, fields = out,
    sized = true, repr = repr}, pos)
end

M.rust_union = rust_union

-- The smallest integer (in bytes) holding every value in [lo, hi].
local function fit(lo, hi, signed)
  for _, s in ipairs{1, 2, 4, 8} do
    local bits = 8 * s - (signed and 1 or 0)
    if s == 8 or (lo >= (signed and -(1 << bits) or 0) and hi < (1 << bits)) then return s end
  end
end

-- Values of a tag of `size` bytes outside the smallest (wrapping) range
-- holding every discriminant: the complement of the largest gap.
local function tag_niche(values, size)
  if size >= 8 then -- approximate: a 64-bit tag has more room than any count we compare it with
    return 2.0 ^ (8 * size) - #values
  end
  local mod, v = 1 << (8 * size), {}
  for i, x in ipairs(values) do v[i] = x % mod end
  table.sort(v)
  local gap = v[1] + mod - v[#v] - 1
  for i = 2, #v do gap = max(gap, v[i] - v[i - 1] - 1) end
  return gap
end

local INT_SIZE = {u8 = 1, i8 = 1, u16 = 2, i16 = 2, u32 = 4, i32 = 4, u64 = 8, i64 = 8, u128 = 16, i128 = 16}

local function int_align(cx, size)
  if size == 16 then return 16 end
  if size == 8 then return cx.word == 8 and 8 or 4 end
  return size
end

-- variants: {{name, fields = {{name, type}}, discr}}
local function rust_enum(text, variants, repr, pos, cx)
  if repr.pack then fail_at(pos, "enum " .. text .. ": #[repr(packed)] is not allowed on an enum") end
  local function variant_out(v, offsets, size)
    return {name = v.name, discr = v.discr, fields = with_offsets(v.fields, offsets), size = size}
  end
  local function result(l, vs, tag)
    return check_size({text = text, kind = "enum", size = l.size, align = l.align, niche = l.niche,
      variants = vs, tag = tag, sized = true, fields = {}, repr = repr}, pos)
  end
  for _, v in ipairs(variants) do
    for _, f in ipairs(v.fields) do need_sized(f.type, f.pos or pos, "an enum variant's field") end
  end
  if #variants == 0 then return result({size = 0, align = 1}, {}) end
  local opt = not (repr.c or repr.int)
  if #variants == 1 and opt then
    local l = univariant(variants[1].fields, repr, "sized")
    return result(l, {variant_out(variants[1], l.offsets, l.size)})
  end

  -- Niche filling: the largest variant keeps its fields; the others are
  -- told apart by values its niche never holds, and must fit around it.
  local nl
  if opt then
    local vl, align, largest = {}, 1, 1
    for i, v in ipairs(variants) do
      vl[i] = univariant(v.fields, repr, "sized")
      align = max(align, vl[i].align)
      if vl[i].size >= vl[largest].size then largest = i end -- the last of the largest, as rustc's max_by_key
    end
    local first, last = largest == 1 and 2 or 1, largest == #variants and #variants - 1 or #variants
    local count = last - first + 1
    local niche = vl[largest].niche
    if niche and niche.avail >= count then
      local size, ok, vs = roundup(vl[largest].size, align), true, {}
      for i, v in ipairs(variants) do
        local offs, vsize = vl[i].offsets, vl[i].size
        if i ~= largest and vl[i].size > niche.offset then
          local at = roundup(niche.offset + niche.size, vl[i].align)
          if at + vl[i].size > size then ok = false; break end
          local moved = {}
          for j, o in ipairs(offs) do moved[j] = o + at end
          offs, vsize = moved, vsize + at
        end
        vs[i] = variant_out(v, offs, vsize)
      end
      if ok then
        nl = {size = size, align = align, vs = vs,
          niche = {offset = niche.offset, size = niche.size, avail = niche.avail - count},
          tag = {offset = niche.offset, size = niche.size, encoding = "niche", variant = variants[largest].name}}
      end
    end
  end

  -- A tag in front: the smallest integer that holds every discriminant,
  -- widened to the alignment of the first field when that costs nothing.
  local lo, hi, values = 0, 0, {}
  for i, v in ipairs(variants) do
    values[i] = v.discr
    lo, hi = min(lo, v.discr), max(hi, v.discr)
  end
  local ity
  if repr.int then
    ity = INT_SIZE[repr.int] or cx.word
    local signed = repr.int:sub(1, 1) == "i"
    if fit(lo, hi, signed) > ity or (not signed and lo < 0) then
      fail_at(pos, "enum " .. text .. ": a discriminant does not fit in #[repr(" .. repr.int .. ")]")
    end
  else
    ity = max(lo < 0 and fit(lo, hi, true) or fit(0, hi, false), repr.c and 4 or 1)
  end
  local prefix_align = int_align(cx, ity)
  if repr.c then
    for _, v in ipairs(variants) do
      for _, f in ipairs(v.fields) do prefix_align = max(prefix_align, f.type.align) end
    end
  end
  local size, align, start_align, vl = 0, 1, 256, {}
  for i, v in ipairs(variants) do
    vl[i] = univariant(v.fields, repr, {ity, prefix_align})
    for _, j in ipairs(vl[i].order) do
      local t = v.fields[j].type
      if not (t.size == 0 and t.align == 1) then start_align = min(start_align, t.align); break end
    end
    size, align = max(size, vl[i].size), max(align, vl[i].align)
  end
  size = roundup(size, align)
  local tag_size = ity
  if opt and start_align < 256 and start_align > ity and int_align(cx, start_align) == start_align
      and start_align <= 16 then
    tag_size = start_align
  end
  local vs = {}
  for i, v in ipairs(variants) do
    local offs = {}
    for j, o in ipairs(vl[i].offsets) do offs[j] = (o <= ity and tag_size > ity) and tag_size or o end
    vs[i] = variant_out(v, offs, max(vl[i].size, tag_size))
  end
  local tl = {size = size, align = align, vs = vs,
    niche = {offset = 0, size = tag_size, avail = tag_niche(values, tag_size)},
    tag = {offset = 0, size = tag_size, encoding = "direct"}}
  local best = tl
  if nl and (tl.size > nl.size or tl.size == nl.size and tl.niche.avail < nl.niche.avail) then best = nl end
  if best.niche.avail <= 0 then best.niche = nil end
  return result(best, best.vs, best.tag)
end
M.rust_enum = rust_enum

---------------------------------------------------------------------------
-- gcc's rules: members in declaration order, each at the next multiple of
-- its alignment; a union's members all at 0.

local function c_record(text, kind, members, pos)
  local off, align, size, out = 0, 1, 0, {}
  local t = {text = text, kind = kind, fields = out, sized = true}
  for i, m in ipairs(members) do
    local mt = m.type
    local flexible = mt.kind == "array" and mt.count == nil
    if flexible and (i < #members or kind == "union" or i == 1) then
      fail_at(m.pos, "a flexible array member must be the last member of a struct with other members")
    end
    if mt.incomplete then
      fail_at(m.pos, mt.text .. " is incomplete here" .. (mt.text == text and " (a struct cannot contain itself)" or "")
        .. "; use a pointer: " .. mt.text .. " *" .. (m.name or ""))
    end
    if not flexible then need_sized(mt, m.pos, "a member of " .. text) end
    local a = mt.align
    if m.alignas then
      if m.alignas < a then
        fail_at(m.pos, "_Alignas(" .. m.alignas .. ") is less than the natural alignment " .. a .. " of "
          .. (m.name or "the member") .. " (gcc refuses it)")
      end
      a = m.alignas
    end
    local at = kind == "union" and 0 or roundup(off, a)
    align = max(align, a)
    if m.name then
      out[#out + 1] = {name = m.name, offset = at, type = mt, align = a}
    else -- an anonymous struct or union: its members belong to this one
      for _, f in ipairs(mt.fields) do
        out[#out + 1] = {name = f.name, offset = at + f.offset, type = f.type, align = f.align}
      end
    end
    if flexible then
      t.sized = false
      t.why = text .. " ends in the flexible array member " .. m.name .. ", whose length is not part of the type:"
        .. " sizeof counts none of its elements, so allocate it on the heap with room for them"
        .. " (malloc(sizeof(" .. text .. ") + n * sizeof " .. m.name .. "[0]))"
    else
      size = max(size, at + mt.size)
      off = at + mt.size
    end
  end
  t.size, t.align = roundup(size, align), align
  return check_size(t, pos)
end
M.c_record = c_record

-- gcc gives an enum int's size unless a value needs more: unsigned int when
-- none is negative and one exceeds INT_MAX, else a 64-bit integer.
local function c_enum(text, values, cx)
  local lo, hi = 0, 0
  for _, v in ipairs(values) do lo, hi = min(lo, v.value), max(hi, v.value) end
  local size, signed = 4, lo < 0
  if lo < -(1 << 31) or hi > (lo < 0 and (1 << 31) - 1 or (1 << 32) - 1) then size = 8 end
  return {text = text, kind = "int", size = size, align = size == 8 and (cx.word == 8 and 8 or 4) or 4,
    signed = signed, sized = true, enumerators = values}
end
M.c_enum = c_enum

---------------------------------------------------------------------------
-- Pointers, arrays, tuples and the library types rustc knows.

local PTR_NICHE = {offset = 0, size = nil, avail = 1}

local function pointer(to, text, cx, nonnull)
  local t = {text = text, kind = "ptr", size = cx.word, align = cx.word, to = to.text, pointee = to, sized = true}
  if to.meta then -- a pointer to an unsized value carries its length or vtable
    t.kind, t.size, t.meta = "fatptr", 2 * cx.word, to.meta
  end
  if nonnull then t.niche = {offset = 0, size = cx.word, avail = PTR_NICHE.avail} end
  return t
end
M.pointer = pointer

function M.array(elem, count, pos, cx)
  need_sized(elem, pos, "an array element")
  local t = {text = "[" .. elem.text .. "; " .. count .. "]", kind = "array", elem = elem, count = count,
    align = elem.align, sized = true, niche = count > 0 and elem.niche or nil}
  if cx.lang == "c" then ctext(t) end
  if elem.size > 0 and count > LIMIT // elem.size then
    fail_at(pos, t.text .. " is too large (more than 2^53 bytes)")
  end
  t.size = count * elem.size
  return t
end

-- A C array without a length: complete only as a flexible array member.
function M.c_incomplete_array(elem, pos)
  need_sized(elem, pos, "an array element")
  local t = ctext({kind = "array", elem = elem, align = elem.align, size = 0, sized = false})
  t.why = t.text .. " has no length, so its size is unknown: it cannot live in a stack slot"
  return t
end

function M.slice(elem, pos)
  need_sized(elem, pos, "a slice element")
  local text = "[" .. elem.text .. "]"
  return unsized({text = text, kind = "slice", elem = elem, align = elem.align, meta = "len"},
    {"&" .. text, "Box<" .. text .. ">", "Vec<" .. elem.text .. ">"})
end

function M.dyn(bounds)
  local text = "dyn " .. bounds
  return unsized({text = text, kind = "dyn", align = 1, meta = "vtable"}, {"&" .. text, "Box<" .. text .. ">"})
end

function M.str()
  return unsized({text = "str", kind = "str", align = 1, meta = "len"}, {"&str", "Box<str>", "String"})
end

function M.tuple(types, pos)
  local fields, texts = {}, {}
  for i, t in ipairs(types) do fields[i], texts[i] = {name = tostring(i - 1), type = t}, t.text end
  local text = "(" .. table.concat(texts, ", ") .. (#texts == 1 and ",)" or ")")
  -- rustc keeps a tuple's last element last (it could be unsized)
  return rust_struct(text, fields, {}, pos, #fields > 0 and "maybe_unsized" or "sized")
end

-- Vec<T> is RawVec's capacity (a usize below 2^(8*word-1): its niche), its
-- pointer, then the length; rustc puts the capacity first for that niche.
function M.vec_like(text, elem, cx)
  local usize = prim(cx, "usize")
  local cap = {text = "usize", kind = "int", size = cx.word, align = cx.word, signed = false, sized = true,
    niche = {offset = 0, size = cx.word, avail = 2.0 ^ (8 * cx.word - 1)}}
  local fields = {
    {name = "cap", type = cap},
    {name = "ptr", type = pointer(elem, "*mut " .. elem.text, cx, true)},
    {name = "len", type = usize},
  }
  local raw = univariant({fields[1], fields[2]}, {}, "sized")
  local t = rust_struct(text, {{name = "buf", type = {size = 2 * cx.word, align = cx.word, sized = true,
    niche = raw.niche}}, {name = "len", type = usize}}, {})
  -- report the three words where rustc put them
  local buf = t.fields[1].offset
  t.fields = {
    {name = "ptr", offset = buf + raw.offsets[2], type = fields[2].type},
    {name = "cap", offset = buf + raw.offsets[1], type = usize},
    {name = "len", offset = t.fields[2].offset, type = usize},
  }
  t.owns = elem
  return t
end

function M.option(inner, pos, cx)
  return rust_enum("Option<" .. inner.text .. ">", {
    {name = "None", fields = {}, discr = 0},
    {name = "Some", fields = {{name = "0", type = inner}}, discr = 1},
  }, {}, pos, cx)
end

function M.result(ok, err, pos, cx)
  return rust_enum("Result<" .. ok.text .. ", " .. err.text .. ">", {
    {name = "Ok", fields = {{name = "0", type = ok}}, discr = 0},
    {name = "Err", fields = {{name = "0", type = err}}, discr = 1},
  }, {}, pos, cx)
end

--- layout.field(t, path) -> offset, type of a field path ("p.x", "a[2].y",
--- "t.0") inside type t, or nil and a message naming what is missing.
function M.field(t, path)
  local off, pos = 0, 1
  while pos <= #path do
    local name, nxt = path:match("^%.?([%w_]+)()", pos)
    local index, after = path:match("^%[(%d+)%]()", pos)
    if index then
      index = tonumber(index)
      if t.kind ~= "array" then return nil, path:sub(1, pos - 1) .. " is a " .. t.text .. ", not an array" end
      if index >= t.count then
        return nil, path:sub(1, after - 1) .. " is out of bounds (" .. t.text .. " has " .. t.count .. " elements)"
      end
      off, t, pos = off + index * t.elem.size, t.elem, after
    elseif name and (pos == 1) == (path:sub(pos, pos) ~= ".") then
      local found
      for _, f in ipairs(t.fields or {}) do if f.name == name then found = f end end
      if not found then
        local names = {}
        for _, f in ipairs(t.fields or {}) do names[#names + 1] = f.name end
        return nil, (pos == 1 and "" or path:sub(1, pos - 1) .. ": ") .. t.text .. " has no field '" .. name
          .. "' (its fields: " .. (#names > 0 and table.concat(names, ", ") or "none") .. ")"
      end
      off, t, pos = off + found.offset, found.type, nxt
    else
      return nil, "bad field path '" .. path .. "' at character " .. pos .. " (write p.x, a[2] or t.0)"
    end
  end
  return off, t
end

M.prim = prim
M.PRIMS = PRIMS
M.scalar = scalar
M.ctext = ctext
M.roundup = roundup

return M
