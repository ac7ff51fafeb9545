/* view.js -- the step-through viewer of a stackheap report.  It reads the page's
   data (docs/REPORTS.md), rebuilds each machine's state from per-step changes
   (with checkpoints, so any step is a few hundred changes away), and draws it. */
"use strict";
(function () {
  var D = JSON.parse(document.getElementById("data").textContent);
  var N = D.n;
  var $ = function (id) { return document.getElementById(id); };
  var SVGNS = "http://www.w3.org/2000/svg";

  /* ---- the data, indexed by step ---- */
  function byStep(list) {        // rows carry their step as a difference from the row before
    var m = new Map(), at = 0;
    list.forEach(function (e) {
      at += e[0];
      e[0] = at;
      var a = m.get(e[0]);
      if (!a) m.set(e[0], a = []);
      a.push(e);
    });
    return m;
  }
  var BL = byStep(D.bl), FL = byStep(D.fl), FR = byStep(D.fr), MEM = byStep(D.mem),
      HB = byStep(D.hb), ERR = byStep(D.err), TEXT = byStep(D.text), L1 = byStep(D.l1 || []);
  var shape = function (i) { return D.shapes[D.s[i - 1] - 1]; };
  var machineOf = function (i) { return shape(i)[0]; };
  var kindOf = function (i) { return D.kinds[shape(i)[1] - 1]; };
  var lineOf = function (i) { return shape(i)[2]; };
  var minfo = {};
  D.machines.forEach(function (m) { minfo[m.n] = m; });
  var word = function (mn) { return (minfo[mn] && minfo[mn].word) || 8; };

  function hex(v) { return v === null || v === undefined ? "nil" : "0x" + v.toString(16); }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" }[c];
    });
  }
  function bytesOf(n) { return n === 1 ? "1 byte" : n + " bytes"; }

  /* ---- machine state ---- */
  function empty() { return { blocks: new Map(), frames: [], mem: new Map(), hb: 0, lb: 0, lists: null, l1: new Set() }; }
  function clone(st) {
    return { blocks: new Map(st.blocks), frames: st.frames.slice(), mem: new Map(st.mem),
             hb: st.hb, lb: st.lb, lists: st.lists, l1: new Set(st.l1) };
  }
  function cloneAll(all) { var o = {}; for (var k in all) o[k] = clone(all[k]); return o; }
  function putHex(st, addr, h, len) {
    var j;
    for (j = 0; j + 1 < h.length; j += 2) st.mem.set(addr + j / 2, parseInt(h.substr(j, 2), 16));
    for (j = h.length / 2; j < (len || 0); j++) st.mem.set(addr + j, 0);
  }
  function apply(all, i) {
    var mn = machineOf(i), st = all[mn] || (all[mn] = empty());
    (BL.get(i) || []).forEach(function (e) {
      e[1].forEach(function (a) {
        var old = st.blocks.get(a);
        if (old) { st.lb -= old[3]; st.blocks.delete(a); }
      });
      for (var j = 0; j + 3 < e[2].length; j += 4) {
        st.blocks.set(e[2][j], [e[2][j], e[2][j + 1], e[2][j + 2], e[2][j + 3]]);
        st.lb += e[2][j + 3];
      }
    });
    (FL.get(i) || []).forEach(function (e) {
      var lists = Object.assign({}, st.lists || {});
      e[1].forEach(function (c) {
        var old = lists[c[0]] || [];
        var now = old.slice(0, c[1]).concat(c.slice(3), old.slice(old.length - c[2]));
        if (c[2] === 0) now = old.slice(0, c[1]).concat(c.slice(3));
        if (now.length) lists[c[0]] = now; else delete lists[c[0]];
      });
      st.lists = lists;
    });
    (FR.get(i) || []).forEach(function (e) {
      var pushed = e[2].map(function (k) { return D.frames[k - 1]; });
      st.frames = st.frames.slice(0, e[1]).concat(pushed);
      pushed.forEach(function (f) { f[4].forEach(function (s) { if (s[5]) putHex(st, s[2], s[5]); }); });
    });
    (MEM.get(i) || []).forEach(function (e) { putHex(st, e[1], e[2], e[3]); });
    (HB.get(i) || []).forEach(function (e) { st.hb = e[1]; });
    (L1.get(i) || []).forEach(function (e) {
      e[1].forEach(function (a) { st.l1.delete(a); });
      e[2].forEach(function (a) { st.l1.add(a); });
    });
  }

  /* One pass over every step: checkpoints, running totals, each step's top frame. */
  var K = Math.max(256, Math.ceil(N / 100));
  var checkpoints = [{}];
  var cum = { cycles: new Float64Array(N + 1), miss: new Float64Array(N + 1), acc: new Float64Array(N + 1) };
  var cat = [new Float64Array(N + 1), new Float64Array(N + 1), new Float64Array(N + 1), new Float64Array(N + 1)];
  var heapAt = new Float64Array(N + 1), liveAt = new Float64Array(N + 1);
  var topFrame = new Array(N + 1);
  (function () {
    var all = {}, tot = {}, i, mn, sh, t;
    for (i = 1; i <= N; i++) {
      apply(all, i);
      sh = shape(i); mn = sh[0];
      t = tot[0] || (tot[0] = [0, 0, 0, 0, 0, 0]);     // every machine's together
      t[0] += sh[3]; t[1] += sh[4]; t[2] += sh[5]; t[3] += sh[6]; t[4] += sh[8]; t[5] += sh[9];
      cat[0][i] = t[0]; cat[1][i] = t[1]; cat[2][i] = t[2]; cat[3][i] = t[3];
      cum.cycles[i] = t[0] + t[1] + t[2] + t[3]; cum.acc[i] = t[4]; cum.miss[i] = t[5];
      heapAt[i] = all[mn].hb; liveAt[i] = all[mn].lb;
      var fr = all[mn].frames;
      topFrame[i] = fr.length ? fr[fr.length - 1][0] : "";
      if (i % K === 0) checkpoints[i / K] = cloneAll(all);
    }
  })();

  var cur = 0, curState = null;
  function stateAt(i) {
    if (curState && i === cur + 1) { apply(curState, i); return curState; }
    if (curState && i === cur) return curState;
    var c = Math.floor(i / K), all = cloneAll(checkpoints[c] || {});
    for (var j = c * K + 1; j <= i; j++) apply(all, j);
    return all;
  }

  /* ---- text of a step ---- */
  function memWord(st, addr, w) {
    var v = 0, known = false;
    for (var j = w - 1; j >= 0; j--) {
      var b = st.mem.get(addr + j);
      if (b !== undefined) known = true;
      v = v * 256 + (b || 0);
    }
    return known ? v : null;
  }
  function slotValue(st, s) {
    if (s[6] !== undefined && s[6] !== null) return String(s[6]);
    var addr = s[2], size = s[3], kind = s[4], j, b;
    var bytes = [];
    for (j = 0; j < Math.min(size, 16); j++) {
      b = st.mem.get(addr + j);
      bytes.push(b === undefined ? 0 : b);
    }
    if ((kind === "i" || kind === "u") && size <= 8) {
      var big = BigInt(0);
      for (j = size - 1; j >= 0; j--) big = big * BigInt(256) + BigInt(bytes[j]);
      if (kind === "i" && size > 0 && bytes[size - 1] >= 128) big = big - (BigInt(1) << BigInt(8 * size));
      return big.toString();
    }
    if (kind === "p") { var p = memWord(st, addr, size); return p === null || p === 0 ? "null" : hex(p); }
    if (kind === "b") return bytes[0] ? "true" : "false";
    if (kind === "c") { var c = bytes[0] + bytes[1] * 256 + bytes[2] * 65536; try { return "'" + String.fromCodePoint(c) + "'"; } catch (e) { return String(c); } }
    if (kind === "f") {
      var dv = new DataView(new ArrayBuffer(8));
      for (j = 0; j < size; j++) dv.setUint8(j, bytes[j]);
      return String(size === 4 ? dv.getFloat32(0, true) : dv.getFloat64(0, true));
    }
    var w = word(curMachine);
    if (size % w === 0 && size <= 4 * w) {     // a fat pointer, String, Vec: its words
      var words = [];
      for (j = 0; j < size; j += w) words.push(hex(memWord(st, addr + j, w) || 0));
      return words.join(" | ");
    }
    var h = bytes.map(function (x) { return (x < 16 ? "0" : "") + x.toString(16); }).join(" ");
    return size > 16 ? h + " \u2026" : h;
  }
  function stepText(i) {
    var t = TEXT.get(i);
    if (t) return t[0][1];
    var k = kindOf(i), a = D.a[i - 1] || [];
    switch (k) {
      case "alloc": return "alloc(" + a[0] + (a[1] ? ", align " + a[1] : "") + ") \u2192 " + (a[2] === null || a[2] === undefined ? "nil" : hex(a[2]));
      case "free": return "free(" + hex(a[0]) + ")";
      case "realloc": return "realloc(" + hex(a[0]) + ", " + a[1] + ") \u2192 " + hex(a[2]);
      case "load": return "load(" + hex(a[0]) + (a[1] ? ", " + a[1] : "") + ") = " + a[2];
      case "store": return "store(" + hex(a[0]) + ", " + a[1] + (a[2] ? ", " + a[2] : "") + ")";
      case "read": return "read(" + hex(a[0]) + ", " + a[1] + ")";
      case "write": return "write(" + hex(a[0]) + ", " + bytesOf(a[1]) + ")";
      case "sweep": return "sweep(" + hex(a[0]) + ", " + a[1] + " \u00d7 stride " + a[2] + ")";
      case "chase": return "chase(" + hex(a[0]) + ", next at +" + a[1] + ")";
      case "call": return "call " + a[0];
      case "ret": return "return" + (a[0] ? " from " + a[0] : "");
      case "set": return a[0] + "." + a[1] + " = " + (a[2] !== null && a[2] !== undefined ? a[2] : "\u2026");
      case "get": return a[0] + "." + a[1] + (a[2] !== null && a[2] !== undefined ? " \u2192 " + a[2] : "");
      default: return k + (a.length ? "(" + a.join(", ") + ")" : "");
    }
  }

  /* ---- filter ---- */
  var matches = null;       // sorted step numbers, or null for every step
  function runFilter() {
    var kind = $("kind").value, q = $("filter").value.trim().toLowerCase();
    if (!kind && !q) { matches = null; $("matches").textContent = ""; return; }
    matches = [];
    for (var i = 1; i <= N; i++) {
      if (kind && kindOf(i) !== kind) continue;
      if (q && stepText(i).toLowerCase().indexOf(q) < 0 && (topFrame[i] || "").toLowerCase() !== q) continue;
      matches.push(i);
    }
    $("matches").textContent = matches.length + " matching step" + (matches.length === 1 ? "" : "s");
  }
  function nextMatch(dir) {
    if (!matches) return go(cur + dir);
    var lo = 0, hi = matches.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (matches[mid] <= cur) lo = mid + 1; else hi = mid; }
    var idx = dir > 0 ? lo : lo - 1;
    if (dir < 0 && matches[idx] === cur) idx--;
    if (idx >= 0 && idx < matches.length) go(matches[idx]);
  }

  /* ---- drawing ---- */
  var zoom = 0;
  var ROW = 30, FONT = 15;
  function defs() {
    return "<defs>" +
      "<pattern id='pfree' width='10' height='10' patternUnits='userSpaceOnUse' patternTransform='rotate(45)'>" +
      "<rect width='10' height='10' style='fill:var(--free)'/><line x1='0' y1='0' x2='0' y2='10' style='stroke:var(--free-line);stroke-width:3'/></pattern>" +
      "<pattern id='phdr' width='6' height='6' patternUnits='userSpaceOnUse'>" +
      "<rect width='6' height='6' style='fill:var(--hdr)'/><circle cx='3' cy='3' r='1.2' style='fill:var(--bg)'/></pattern>" +
      "<pattern id='ppad' width='8' height='8' patternUnits='userSpaceOnUse' patternTransform='rotate(-45)'>" +
      "<rect width='8' height='8' style='fill:var(--pad)'/><line x1='0' y1='0' x2='0' y2='8' style='stroke:var(--line);stroke-width:1'/></pattern>" +
      "<marker id='arrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' markerHeight='7' orient='auto-start-reverse'><path d='M0,0L10,5L0,10z' style='fill:var(--ptr)'/></marker>" +
      "<marker id='larrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='6' markerHeight='6' orient='auto'><path d='M0,0L10,5L0,10z' style='fill:var(--list)'/></marker>" +
      "<marker id='cross' viewBox='0 0 10 10' refX='5' refY='5' markerWidth='9' markerHeight='9'><path d='M1,1L9,9M9,1L1,9' style='stroke:var(--dangling);stroke-width:2.5'/></marker>" +
      "</defs>";
  }
  function legend() {
    function sw(cls, label) {
      return "<span><svg width='34' height='18'>" + "<rect x='1' y='1' width='32' height='16' class='" + cls + "'/></svg> " + label + "</span>";
    }
    return "<svg width='0' height='0' style='position:absolute'>" + defs() + "</svg>" +
      sw("used", "used (payload)") + sw("hdr", "header / alignment") + sw("pad", "padding, footer") +
      sw("free", "free (hatched)") + sw("leak", "unreachable: no pointer in memory") +
      "<span>\u2192 pointer</span><span>\u2718 dangling</span><span>\u2504\u25B8 free-list order</span>" +
      "<span><svg width='34' height='10'><rect x='1' y='2' width='32' height='5' class='l1line'/></svg> line in the L1 cache</span>";
  }

  /* The heap as rows of bytes, drawn to scale. */
  function heapLayout(st) {
    var blocks = Array.from(st.blocks.values()).sort(function (x, y) { return x[0] - y[0]; });
    if (!blocks.length) return null;
    var lo = blocks[0][0], last = blocks[blocks.length - 1], hi = last[0] + last[1];
    var span = hi - lo, R = 64;
    while (span / R > 16) R *= 2;
    for (var z = 0; z < zoom && R > 16; z++) R /= 2;
    for (z = 0; z > zoom; z--) R *= 2;
    return { blocks: blocks, lo: lo, hi: hi, R: R, rows: Math.ceil(span / R) };
  }
  var curMachine = 1;
  function drawState(mn, st, i) {
    var out = [], w = word(mn);
    var lineSize = minfo[mn] && minfo[mn].line;
    curMachine = mn;
    var SX = 6, SW = 350, HX = 470, HW = 540, top = 40;
    var slotPos = [], y = top;
    out.push("<text x='" + SX + "' y='24' font-size='18' font-weight='bold'>Stack (machine " + mn + ", grows down)</text>");
    if (!st.frames.length) out.push("<text x='" + SX + "' y='" + (y + 20) + "' class='muted' font-size='" + FONT + "'>no frames</text>");
    st.frames.forEach(function (f, fi) {
      var slots = f[4].slice().sort(function (a, b) { return b[2] - a[2]; });
      var rows = [["ret", "return address, saved frame pointer", f[2], f[3] - f[2]]];
      var at = f[2];
      slots.forEach(function (s) {
        var end = s[2] + s[3];
        if (end < at) rows.push(["pad", "padding", end, at - end]);
        rows.push(["slot", s, s[2], s[3]]);
        at = s[2];
      });
      if (at > f[1]) rows.push(["pad", "padding", f[1], at - f[1]]);
      var h = ROW * (rows.length + 1) + 8;
      out.push("<g data-frame='" + esc(f[0]) + "'><rect class='frame' x='" + SX + "' y='" + y + "' width='" + SW + "' height='" + h + "' rx='6'/>");
      out.push("<text x='" + (SX + 8) + "' y='" + (y + 21) + "' font-size='16' font-weight='bold'>" + (fi === st.frames.length - 1 ? "\u25B6 " : "") + esc(f[0]) + "</text>");
      out.push("<text x='" + (SX + SW - 8) + "' y='" + (y + 21) + "' font-size='13' text-anchor='end' class='mono muted'>sp " + hex(f[1]) + "  " + bytesOf(f[3] - f[1]) + "</text>");
      var ry = y + ROW;
      rows.forEach(function (r) {
        var cls = r[0] === "slot" ? "slot" : r[0] === "pad" ? "spad" : "slot";
        out.push("<rect class='" + cls + "' x='" + (SX + 6) + "' y='" + ry + "' width='" + (SW - 12) + "' height='" + (ROW - 2) + "'/>");
        if (r[0] === "slot") {
          var s = r[1], v = slotValue(st, s);
          out.push("<text x='" + (SX + 12) + "' y='" + (ry + 19) + "' font-size='" + FONT + "' data-slot='" + esc(s[0]) + "'><title>" + esc(s[0] + ": " + s[1] + ", " + bytesOf(s[3]) + " at " + hex(s[2])) + "</title><tspan font-weight='bold'>" + esc(s[0]) + "</tspan>: " + esc(s[1].length > 14 ? s[1].slice(0, 13) + "\u2026" : s[1]) + "</text>");
          out.push("<text x='" + (SX + SW - 12) + "' y='" + (ry + 19) + "' font-size='" + FONT + "' text-anchor='end' class='mono'>" + esc(v.length > 16 ? v.slice(0, 15) + "\u2026" : v) + "</text>");
          slotPos.push({ s: s, x: SX + SW - 6, y: ry + ROW / 2 });
          if (lineSize && st.l1.has(s[2] - s[2] % lineSize))
            out.push("<rect class='l1line' x='" + (SX + 1) + "' y='" + (ry + 3) + "' width='5' height='" + (ROW - 8) + "' data-l1='stack'><title>in L1</title></rect>");
        } else {
          out.push("<text x='" + (SX + 12) + "' y='" + (ry + 19) + "' font-size='13' class='muted'>" + esc(r[1]) + " (" + bytesOf(r[3]) + ")</text>");
        }
        ry += ROW;
      });
      out.push("</g>");
      y += h + 10;
    });
    var stackH = y;

    /* heap */
    var L = heapLayout(st), hy = top, rowH = 46, heapH = top + 40;
    var posOf = null, used = [];
    out.push("<text x='" + HX + "' y='24' font-size='18' font-weight='bold'>Heap" + (L ? " \u2014 " + bytesOf(L.hi - L.lo) + ", " + L.R + " bytes a row" : ", empty") + "</text>");
    if (L) {
      var scale = HW / L.R;
      posOf = function (addr) {
        var off = addr - L.lo, r = Math.floor(off / L.R);
        if (r >= L.rows) r = L.rows - 1;
        return { x: HX + (off - r * L.R) * scale, y: hy + r * rowH };
      };
      var seg = function (a, b, cls, attrs) {    // [a, b) over as many rows as it spans
        var s = "";
        while (a < b) {
          var p = posOf(a), rowEnd = L.lo + (Math.floor((a - L.lo) / L.R) + 1) * L.R, e = Math.min(b, rowEnd);
          s += "<rect class='" + cls + "' x='" + p.x.toFixed(1) + "' y='" + (p.y + 4) + "' width='" + Math.max(1, (e - a) * scale).toFixed(1) + "' height='" + (rowH - 12) + "'" + (attrs || "") + "/>";
          a = e;
        }
        return s;
      };
      for (var r = 0; r < L.rows; r++)
        out.push("<text x='" + (HX - 6) + "' y='" + (hy + r * rowH + 26) + "' font-size='12' text-anchor='end' class='mono muted'>" + hex(L.lo + r * L.R) + "</text>");
      L.blocks.forEach(function (b) {
        var addr = b[0], size = b[1], payload = b[2], req = b[3];
        out.push("<g data-block='" + addr + "' data-state='" + (payload ? "used" : "free") + "'>");
        if (payload) {
          used.push(b);
          out.push(seg(addr, payload, "hdr"));
          out.push(seg(payload, payload + req, "used"));
          out.push(seg(payload + req, addr + size, "pad"));
        } else {
          out.push(seg(addr, addr + size, "free"));
        }
        var p = posOf(payload || addr), wpx = Math.min(size * scale, HX + HW - p.x);
        if (wpx > 44) {
          var label = payload ? bytesOf(req) : "free " + size;
          out.push("<text x='" + (p.x + 4) + "' y='" + (p.y + 24) + "' font-size='13' class='" + (payload ? "onused" : "") + "'>" + esc(wpx > 110 ? label + " " + hex(payload || addr) : label) + "</text>");
        }
        out.push("</g>");
      });
      if (lineSize) st.l1.forEach(function (a) {     // lines the first level holds: a strip under the row
        if (a + lineSize <= L.lo || a >= L.hi) return;
        var b = Math.max(a, L.lo), e = Math.min(a + lineSize, L.hi);
        while (b < e) {
          var p = posOf(b), rowEnd = L.lo + (Math.floor((b - L.lo) / L.R) + 1) * L.R, f = Math.min(e, rowEnd);
          out.push("<rect class='l1line' x='" + p.x.toFixed(1) + "' y='" + (p.y + rowH - 7) + "' width='" + Math.max(1, (f - b) * scale - 1).toFixed(1) + "' height='5' data-l1='heap'/>");
          b = f;
        }
      });
      heapH = hy + L.rows * rowH + 20;
    }

    /* pointers, reachability, dangling */
    function usedAt(v) {
      var lo = 0, hi = used.length - 1;
      while (lo <= hi) {
        var mid = (lo + hi) >> 1, b = used[mid];
        if (v < b[0]) hi = mid - 1; else if (v >= b[0] + b[1]) lo = mid + 1; else return b;
      }
      return null;
    }
    var arrows = [], reached = new Set(), queue = [];
    if (L) {
      slotPos.forEach(function (sp) {
        var s = sp.s;
        for (var off = 0; off + w <= s[3]; off += w) {
          if (s[4] !== "p" && s[4] !== "a") break;
          var v = memWord(st, s[2] + off, w);
          if (!v) continue;
          var t = usedAt(v);
          if (t) { arrows.push(["ptr", sp.x, sp.y, posOf(v)]); if (!reached.has(t[0])) { reached.add(t[0]); queue.push(t); } }
          else if (s[4] === "p" && v >= L.lo && v < L.hi) arrows.push(["dangling", sp.x, sp.y, posOf(v)]);
        }
      });
      var seen = new Set();
      var scan = function (b) {
        var first = b[2] + ((w - b[2] % w) % w);
        for (var a = first; a + w <= b[2] + b[3]; a += w) {
          var v = memWord(st, a, w), t = v ? usedAt(v) : null;
          if (!t) continue;
          var f = posOf(a);
          arrows.push(["ptr", f.x + 3, f.y + 8, posOf(v)]);
          if (!reached.has(t[0])) { reached.add(t[0]); queue.push(t); }
        }
      };
      used.forEach(function (b) { if (!seen.has(b[0])) { seen.add(b[0]); scan(b); } });
      while (queue.length) queue.pop();
      if ($("unreach").checked) used.forEach(function (b) {
        if (!reached.has(b[0])) out.push(seg(b[0], b[0] + b[1], "leak", " data-unreachable='" + b[0] + "'"));
      });
      /* the free lists, in the order a search walks them */
      var lists = [];
      if (st.lists) {
        Object.keys(st.lists).map(Number).sort(function (a, b) { return a - b; })
          .forEach(function (k) { lists.push([k, st.lists[k]]); });
      } else {          // no recorded order: address order, as first fit keeps it
        var fr = L.blocks.filter(function (b) { return !b[2]; }).map(function (b) { return b[0]; });
        if (fr.length) lists.push([0, fr]);
      }
      lists.forEach(function (l) {
        l[1].forEach(function (a, k) {
          var p = posOf(a);
          out.push("<circle class='badge' cx='" + (p.x + 10) + "' cy='" + (p.y + rowH - 6) + "' r='9'/><text class='badge-t' x='" + (p.x + 10) + "' y='" + (p.y + rowH - 2) + "' font-size='11' text-anchor='middle'>" + (k + 1) + "</text>");
          if (k + 1 < l[1].length) {
            var q = posOf(l[1][k + 1]), x1 = p.x + 18, y1 = p.y + rowH - 6, x2 = q.x + 2, y2 = q.y + rowH - 6;
            var bend = Math.max(18, Math.abs(x2 - x1) / 6);
            out.push("<path class='link' d='M" + x1 + "," + y1 + " C" + x1 + "," + (y1 + bend) + " " + x2 + "," + (y2 + bend) + " " + x2 + "," + y2 + "'/>");
          }
        });
      });
    }
    arrows.forEach(function (a) {
      var x1 = a[1], y1 = a[2], x2 = a[3].x + 2, y2 = a[3].y + 10;
      var mx = (x1 + x2) / 2;
      out.push("<path class='" + a[0] + "' d='M" + x1 + "," + y1 + " C" + mx + "," + y1 + " " + mx + "," + y2 + " " + x2 + "," + y2 + "'" + (a[0] === "dangling" ? " data-dangling='1'" : "") + "/>");
      if (a[0] === "dangling")
        out.push("<text x='" + (x2 + 8) + "' y='" + (y2 - 4) + "' font-size='13' font-weight='bold' style='fill:var(--dangling)'>dangling</text>");
    });
    var H = Math.max(stackH, heapH) + 10;
    return "<svg xmlns='" + SVGNS + "' width='" + (HX + HW + 20) + "' height='" + H + "' viewBox='0 0 " + (HX + HW + 20) + " " + H + "' role='img' aria-label='Stack and heap at step " + i + "'>" + defs() + out.join("") + "</svg>";
  }

  /* ---- plots ---- */
  var PW = 620, PH = 190, PL = 70, PB = 28;
  function series(arr, pick) {          // at most PW points: each the max of its steps
    var pts = [], per = Math.max(1, Math.ceil(N / (PW - PL - 10)));
    for (var s = 1; s <= N; s += per) {
      var v = -Infinity;
      for (var j = s; j < s + per && j <= N; j++) v = Math.max(v, pick ? pick(j) : arr[j]);
      pts.push([s, v]);
    }
    return pts;
  }
  function plot(id, title, lines, ymax, bars) {
    ymax = ymax || 1;
    var sx = function (s) { return PL + (s - 1) / Math.max(1, N - 1) * (PW - PL - 10); };
    var sy = function (v) { return PH - PB - v / ymax * (PH - PB - 12); };
    var o = ["<svg xmlns='" + SVGNS + "' id='" + id + "' width='" + PW + "' height='" + PH + "' viewBox='0 0 " + PW + " " + PH + "' role='img' aria-label='" + esc(title) + "' style='cursor:crosshair'>" + defs()];
    o.push("<line class='axis' x1='" + PL + "' y1='" + (PH - PB) + "' x2='" + (PW - 10) + "' y2='" + (PH - PB) + "'/><line class='axis' x1='" + PL + "' y1='8' x2='" + PL + "' y2='" + (PH - PB) + "'/>");
    o.push("<text x='" + (PL - 6) + "' y='18' font-size='12' text-anchor='end'>" + Math.round(ymax) + "</text><text x='" + (PL - 6) + "' y='" + (PH - PB) + "' font-size='12' text-anchor='end'>0</text>");
    o.push("<text x='" + PL + "' y='" + (PH - 8) + "' font-size='12'>step 1</text><text x='" + (PW - 10) + "' y='" + (PH - 8) + "' font-size='12' text-anchor='end'>step " + N + "</text>");
    if (bars) bars.forEach(function (b) { o.push("<rect class='bar' x='" + (sx(b[0]) - 1).toFixed(1) + "' y='" + sy(b[1]).toFixed(1) + "' width='3' height='" + (PH - PB - sy(b[1])).toFixed(1) + "'/>"); });
    lines.forEach(function (l, k) {
      var d = l.pts.map(function (p, j) { return (j ? "L" : "M") + sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1); }).join("");
      if (d) o.push("<path class='" + l.cls + "' d='" + d + "'/>");
      o.push("<line class='" + l.cls + "' x1='" + (PL + 10 + 150 * k) + "' y1='" + (PH + 0) + "' x2='" + (PL + 40 + 150 * k) + "' y2='" + (PH + 0) + "' style='display:none'/>");
    });
    o.push("<line class='cursor' x1='0' x2='0' y1='8' y2='" + (PH - PB) + "' data-cursor='1'/></svg>");
    var key = lines.map(function (l) { return "<span><svg width='36' height='12'><line class='" + l.cls + "' x1='0' y1='6' x2='36' y2='6'/></svg> " + esc(l.name) + "</span>"; }).join(" ");
    return "<figure><figcaption><b>" + esc(title) + "</b> " + key + "</figcaption>" + o.join("") + "</figure>";
  }
  function buildPlots() {
    var html = [], mx = 0, i;
    for (i = 1; i <= N; i++) mx = Math.max(mx, heapAt[i], liveAt[i]);
    html.push(plot("p-heap", "Heap size and live bytes (the gap is fragmentation and overhead)",
      [{ name: "heap size", cls: "l1", pts: series(heapAt) }, { name: "live bytes", cls: "l2", pts: series(liveAt) }], mx));
    var names = ["stack", "memory", "alloc", "meta"], cm = 0;
    for (i = 0; i < 4; i++) cm = Math.max(cm, cat[i][N] || 0);
    html.push(plot("p-cycles", "Cycles by category, running totals",
      names.map(function (n, k) { return { name: n, cls: "l" + (k + 1), pts: series(cat[k]) }; }), cm));
    var bars = [], sm = 0;
    for (i = 1; i <= N; i++) {
      var k = kindOf(i);
      if (k === "alloc" || k === "realloc") { var sr = shape(i)[7]; bars.push([i, sr]); sm = Math.max(sm, sr); }
    }
    if (bars.length > 2000) {     // keep the largest of each bucket
      var per = Math.ceil(bars.length / 2000), keep = [];
      for (i = 0; i < bars.length; i += per) {
        var best = bars[i];
        for (var j = i; j < i + per && j < bars.length; j++) if (bars[j][1] > best[1]) best = bars[j];
        keep.push(best);
      }
      bars = keep;
    }
    html.push(plot("p-searched", "Blocks searched per allocation", [], Math.max(1, sm), bars));
    $("plotarea").innerHTML = html.join("");
    ["p-heap", "p-cycles", "p-searched"].forEach(function (id) {
      var el = $(id);
      el.addEventListener("click", function (ev) {
        var r = el.getBoundingClientRect(), x = (ev.clientX - r.left) * PW / r.width;
        go(Math.round(1 + (x - PL) / (PW - PL - 10) * Math.max(1, N - 1)));
      });
    });
  }
  function moveCursors(i) {
    var x = PL + (i - 1) / Math.max(1, N - 1) * (PW - PL - 10);
    document.querySelectorAll("[data-cursor]").forEach(function (c) { c.setAttribute("x1", x); c.setAttribute("x2", x); });
  }

  /* ---- findings and the timeline ---- */
  var events = [];
  function buildFindings() {
    var ul = $("findinglist"), items = [];
    D.findings.forEach(function (f) { events.push({ step: f.step, kind: f.kind, text: f.message, finding: true }); });
    D.err.forEach(function (e) { events.push({ step: e[0], kind: "failed " + kindOf(e[0]), text: e[1] }); });
    events.sort(function (a, b) { return (a.step || 0) - (b.step || 0); });
    events.forEach(function (e) {
      var where = e.step ? "<a href='#step=" + e.step + "' data-step='" + e.step + "'>step " + e.step + "</a>" : "(after the recorded steps)";
      items.push("<li>" + where + " \u2014 <b>" + esc(e.kind) + "</b>: " + esc(e.text) + "</li>");
    });
    ul.innerHTML = items.length ? items.join("") : "<li>none</li>";
    var tl = $("timeline"), o = [];
    tl.setAttribute("viewBox", "0 0 1000 22");
    tl.setAttribute("preserveAspectRatio", "none");
    o.push("<rect x='0' y='10' width='1000' height='2' style='fill:var(--muted)'/>");
    events.forEach(function (e) {
      if (!e.step) return;
      var x = (e.step - 1) / Math.max(1, N - 1) * 996 + 2;
      o.push("<path class='" + (e.finding ? "mark" : "emark") + "' d='M" + (x - 5) + ",20L" + x + ",2L" + (x + 5) + ",20z'><title>step " + e.step + ": " + esc(e.kind) + "</title></path>");
    });
    o.push("<rect data-tcur='1' x='0' y='0' width='3' height='22' style='fill:var(--fg)'/>");
    tl.innerHTML = o.join("");
    tl.addEventListener("click", function (ev) {
      var r = tl.getBoundingClientRect();
      go(Math.round(1 + (ev.clientX - r.left) / r.width * Math.max(1, N - 1)));
    });
  }

  /* ---- the source ---- */
  var srcLines = [];
  function buildSource() {
    var text = D.source && D.source.text;
    if (!text) { $("source").textContent = "(no source)"; return; }
    $("source").innerHTML = text.split("\n").map(function (l, k) {
      return "<div id='L" + (k + 1) + "'><span class='ln'>" + (k + 1) + "</span>" + esc(l) + "</div>";
    }).join("");
    srcLines = $("source").children;
  }

  /* ---- showing a step ---- */
  var lastLine = null;
  function go(i) {
    if (!N) return;
    i = Math.max(1, Math.min(N, i | 0));
    var all = stateAt(i);
    curState = all; cur = i;
    var mn = machineOf(i), st = all[mn] || empty(), sh = shape(i);
    $("slider").value = i;
    $("jump").value = i;
    $("count").textContent = "step " + i + " / " + N;
    var errs = ERR.get(i), fs = D.findings.filter(function (f) { return f.step === i; });
    $("op").innerHTML = "<span id='optext'>" + esc(stepText(i)) + "</span>" +
      "<span style='font-weight:normal;font-size:.9rem'> \u2014 " + esc(kindOf(i)) + ", line " + (lineOf(i) || "?") + (D.machines.length > 1 ? ", machine " + mn : "") + "</span>" +
      (errs ? errs.map(function (e) { return "<span class='err'>\u2718 failed: " + esc(e[1]) + "</span>"; }).join("") : "") +
      fs.map(function (f) { return "<span class='err'>\u26A0 " + esc(f.kind) + ": " + esc(f.message) + "</span>"; }).join("");
    var cyc = sh[3] + sh[4] + sh[5] + sh[6];
    $("costs").innerHTML = "<table><tr><th></th><th>this step</th><th>so far" + (D.machines.length > 1 ? " (all machines)" : "") + "</th></tr>" +
      "<tr><th>cycles</th><td id='cyc'>" + cyc + "</td><td>" + cum.cycles[i] + "</td></tr>" +
      ["stack", "memory", "alloc", "meta"].map(function (n, k) { return "<tr><th>\u2003" + n + "</th><td>" + sh[3 + k] + "</td><td>" + cat[k][i] + "</td></tr>"; }).join("") +
      "<tr><th>blocks searched</th><td>" + sh[7] + "</td><td></td></tr>" +
      (minfo[mn] && minfo[mn].cache ? "<tr><th>L1 accesses / misses</th><td>" + sh[8] + " / " + sh[9] + "</td><td>" + cum.acc[i] + " / " + cum.miss[i] + "</td></tr>" : "<tr><th>cache</th><td colspan='2'>none (flat cost model)</td></tr>") +
      "<tr><th>heap size / live</th><td colspan='2'>" + st.hb + " / " + st.lb + " bytes</td></tr></table>";
    $("draw").innerHTML = drawState(mn, st, i);
    if (lastLine) lastLine.classList.remove("cur");
    var ln = lineOf(i), el = ln && srcLines[ln - 1];
    if (el) {
      el.classList.add("cur");
      lastLine = el;
      var box = $("source");
      if (el.offsetTop < box.scrollTop || el.offsetTop > box.scrollTop + box.clientHeight - 30)
        box.scrollTop = el.offsetTop - box.clientHeight / 3;
    }
    moveCursors(i);
    var tc = document.querySelector("[data-tcur]");
    if (tc) tc.setAttribute("x", (i - 1) / Math.max(1, N - 1) * 996);
    var want = "#step=" + i;
    if (location.hash !== want && !/selftest/.test(location.hash)) history.replaceState(null, "", want);
  }

  /* ---- wiring ---- */
  function init() {
    $("legend").innerHTML = legend();
    $("slider").max = Math.max(1, N);
    $("jump").max = Math.max(1, N);
    var kinds = {};
    for (var i = 1; i <= N; i++) kinds[kindOf(i)] = (kinds[kindOf(i)] || 0) + 1;
    Object.keys(kinds).sort().forEach(function (k) {
      var o = document.createElement("option");
      o.value = k; o.textContent = k + " (" + kinds[k] + ")";
      $("kind").appendChild(o);
    });
    buildSource();
    buildPlots();
    buildFindings();
    var note = D.note;
    $("note").textContent = note && note.total > note.recorded
      ? "Recorded the first " + note.recorded + " of " + note.total + " operations; the rest ran unrecorded."
      : N + " steps.";
    $("first").onclick = function () { go(matches ? (matches[0] || cur) : 1); };
    $("last").onclick = function () { go(matches ? (matches[matches.length - 1] || cur) : N); };
    $("prev").onclick = function () { go(cur - 1); };
    $("next").onclick = function () { go(cur + 1); };
    $("pmatch").onclick = function () { nextMatch(-1); };
    $("nmatch").onclick = function () { nextMatch(1); };
    $("slider").oninput = function () { go(+$("slider").value); };
    $("jumpform").onsubmit = function (e) { e.preventDefault(); go(+$("jump").value); };
    $("kind").onchange = function () { runFilter(); if (matches && matches.length) go(matches[0]); };
    $("filter").oninput = function () { runFilter(); };
    $("filter").onkeydown = function (e) { if (e.key === "Enter" && matches && matches.length) nextMatch(1); };
    $("zin").onclick = function () { zoom++; go(cur); };
    $("unreach").onchange = function () { go(cur); };
    $("zout").onclick = function () { zoom--; go(cur); };
    $("findinglist").onclick = function (e) {
      var s = e.target.getAttribute && e.target.getAttribute("data-step");
      if (s) { e.preventDefault(); go(+s); }
    };
    document.addEventListener("keydown", function (e) {
      var t = e.target.tagName;
      if (t === "INPUT" && e.target.type !== "range" || t === "SELECT" || t === "TEXTAREA") return;
      var k = e.key;
      if (k === "ArrowRight") { nextMatch(1); e.preventDefault(); }
      else if (k === "ArrowLeft") { nextMatch(-1); e.preventDefault(); }
      else if (k === "PageDown") { go(cur + 10); e.preventDefault(); }
      else if (k === "PageUp") { go(cur - 10); e.preventDefault(); }
      else if (k === "Home") { $("first").click(); e.preventDefault(); }
      else if (k === "End") { $("last").click(); e.preventDefault(); }
      else if (k === "/") { $("filter").focus(); e.preventDefault(); }
      else if (k === "g") { $("jump").focus(); $("jump").select(); e.preventDefault(); }
    });
    window.addEventListener("hashchange", fromHash);
    fromHash();
  }
  function fromHash() {
    var m = /step=(\d+)/.exec(location.hash);
    go(m ? +m[1] : (cur || 1));
  }

  /* ---- self-test: #selftest drives the page and writes what it saw ---- */
  function selftest() {
    var checks = [], ok = true;
    function check(name, cond, detail) {
      checks.push({ name: name, ok: !!cond, detail: detail === undefined ? null : detail });
      if (!cond) ok = false;
    }
    function key(k) { document.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true })); }
    function shown() { return +$("jump").value; }
    function blocksDrawn() { return document.querySelectorAll("#draw [data-block]").length; }
    function framesDrawn() { return document.querySelectorAll("#draw [data-frame]").length; }
    var named = /step=(\d+)/.exec(location.hash);
    check("opens at the step the URL names", shown() === (named ? Math.min(N, +named[1]) : 1), shown());
    $("first").click();
    var seen = { steps: N, first_text: $("optext") ? $("optext").textContent : null };
    check("first button", shown() === 1 || N === 0, shown());
    check("first step's text", $("optext") && $("optext").textContent === stepText(1), seen.first_text);
    if (N >= 3) {
      $("next").click(); check("next button", shown() === 2, shown());
      key("ArrowRight"); check("right arrow", shown() === 3, shown());
      key("ArrowLeft"); check("left arrow", shown() === 2, shown());
      $("prev").click(); check("back button", shown() === 1, shown());
    }
    $("jump").value = N; $("jumpform").requestSubmit();
    check("jump to the last step", shown() === N, shown());
    check("count says so", $("count").textContent === "step " + N + " / " + N, $("count").textContent);
    var st = curState[machineOf(N)] || empty();
    check("every block drawn", blocksDrawn() === st.blocks.size, [blocksDrawn(), st.blocks.size]);
    check("every frame drawn", framesDrawn() === st.frames.length, [framesDrawn(), st.frames.length]);
    var ls = minfo[machineOf(N)] && minfo[machineOf(N)].line, inL1 = 0;
    if (ls) st.frames.forEach(function (f) { f[4].forEach(function (sl) { if (st.l1.has(sl[2] - sl[2] % ls)) inL1++; }); });
    check("slots in L1 marked", document.querySelectorAll("#draw [data-l1=stack]").length === inL1,
          [document.querySelectorAll("#draw [data-l1=stack]").length, inL1]);
    seen.last = { text: $("optext").textContent, blocks: blocksDrawn(), frames: framesDrawn(),
                  used: document.querySelectorAll("#draw [data-state=used]").length,
                  free: document.querySelectorAll("#draw [data-state=free]").length,
                  dangling: document.querySelectorAll("#draw [data-dangling]").length,
                  unreachable: document.querySelectorAll("#draw [data-unreachable]").length,
                  cycles_so_far: cum.cycles[N] };
    var mid = Math.max(1, N >> 1);
    $("slider").value = mid; $("slider").dispatchEvent(new Event("input"));
    check("slider", shown() === mid, shown());
    var fresh = stateAt(mid);            // rebuilt from a checkpoint, not stepped to
    var stm = fresh[machineOf(mid)] || empty();
    check("random access agrees", blocksDrawn() === stm.blocks.size, [blocksDrawn(), stm.blocks.size]);
    /* filter by kind: every match is of that kind, and they are all there */
    var kinds = Array.prototype.map.call($("kind").options, function (o) { return o.value; }).filter(Boolean);
    seen.kinds = {};
    kinds.forEach(function (k) {
      $("kind").value = k; $("kind").dispatchEvent(new Event("change"));
      seen.kinds[k] = matches.length;
      var want = 0;
      for (var i = 1; i <= N; i++) if (kindOf(i) === k) want++;
      check("filter " + k, matches.length === want && kindOf(shown()) === k, [matches.length, want, kindOf(shown())]);
      if (matches.length > 1) {
        var before = shown();
        $("nmatch").click();
        check("next match of " + k, kindOf(shown()) === k && shown() > before, shown());
      }
    });
    $("kind").value = ""; $("kind").dispatchEvent(new Event("change"));
    /* filter by frame name */
    if (N && topFrame[N]) {
      $("filter").value = topFrame[N]; $("filter").dispatchEvent(new Event("input"));
      check("filter by frame", matches.length > 0 && matches.every(function (s) { return topFrame[s] === topFrame[N] || stepText(s).toLowerCase().indexOf(topFrame[N].toLowerCase()) >= 0; }), matches.length);
      $("filter").value = ""; $("filter").dispatchEvent(new Event("input"));
    }
    /* findings link to their steps */
    seen.findings = D.findings.map(function (f) { return { step: f.step, kind: f.kind }; });
    var link = document.querySelector("#findinglist a[data-step]");
    if (link) {
      link.click();
      check("finding link", shown() === +link.getAttribute("data-step"), shown());
      seen.finding_text = $("op").textContent;
    }
    check("plots drawn", document.querySelectorAll("#plotarea svg path").length > 0, null);
    var m = /step=(\d+)/.exec(location.hash);
    if (m) {              // what the page shows at the step the URL names
      go(+m[1]);
      seen.at = { step: shown(), text: $("optext").textContent, blocks: blocksDrawn(), frames: framesDrawn(),
                  used: document.querySelectorAll("#draw [data-state=used]").length,
                  free: document.querySelectorAll("#draw [data-state=free]").length,
                  dangling: document.querySelectorAll("#draw [data-dangling]").length,
                  unreachable: document.querySelectorAll("#draw [data-unreachable]").length,
                  pointers: document.querySelectorAll("#draw path.ptr").length,
                  l1_stack: document.querySelectorAll("#draw [data-l1=stack]").length,
                  links: document.querySelectorAll("#draw path.link").length,
                  line: document.querySelector("#source .cur") ? document.querySelector("#source .cur").id : null,
                  slots: Array.prototype.map.call(document.querySelectorAll("#draw [data-slot]"), function (e) { return e.getAttribute("data-slot"); }).join(",") };
    }
    seen.errors = window.__errors.slice();
    check("no console errors", window.__errors.length === 0, window.__errors);
    seen.ok = ok;
    seen.checks = checks;
    var out = $("selftest");
    out.textContent = JSON.stringify(seen);
    out.hidden = false;
  }

  init();
  if (/selftest/.test(location.hash)) {
    try { selftest(); } catch (e) {
      $("selftest").textContent = JSON.stringify({ ok: false, exception: String(e && e.stack || e), errors: window.__errors });
      $("selftest").hidden = false;
    }
  }
})();
