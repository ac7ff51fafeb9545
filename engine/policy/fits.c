/* fits.c -- the free-list allocators: first, next, best and worst fit, segregated fits, TLSF
** and the CS:APP implicit list, as one engine over ordered lists and size classes. */
#include <stdlib.h>
#include <string.h>
#include "../internal.h"
#include "../freelist.h"

#define U(x) ((unsigned long long)(x))

enum { FIT_FIRST, FIT_NEXT, FIT_BEST, FIT_WORST, FIT_HEAD };
enum { CO_IMMEDIATE, CO_DEFERRED, CO_NONE };

#define CSAPP_CHUNK 4096u      /* CHUNKSIZE in the textbook's mm.c */

typedef struct fits {
  int fit, coalesce;
  int implicit;                /* csapp: every block is walked, the prologue first */
  int sli;                     /* > 0: TLSF's two-level classes */
  uint64_t *bounds;            /* segregated: class upper bounds */
  int nb, pow2;                /* pow2: bounds 1, 2, 4, ... 2^63 */
  uint64_t A, H, F, MB, split;
  uint64_t start, end;         /* blocks tile [start, end) */
  sh_lists lists;
  sh_tree byaddr;              /* key address, size block size, (a, b) its list place */
  int alias;                   /* one list in address order is its own address index */
  sh_pos rover;                /* next fit: where the last allocation happened */
  int has_rover;
  uint64_t free_bytes;
} fits;

static uint64_t up(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }
static int fls64(uint64_t x) { return 63 - __builtin_clzll(x); }

/* ---- size classes ---- */

static int tlsf_class(const fits *s, uint64_t size) {
  int fl;
  if (size < ((uint64_t)1 << s->sli)) return (int)size;   /* small sizes: one class each */
  fl = fls64(size);
  return (fl - s->sli + 1) * (1 << s->sli) + (int)((size >> (fl - s->sli)) & ((1u << s->sli) - 1));
}

/* TLSF serves a request from the class at or above its rounded-up size, so
** the request must be that class's lower bound: a block grown for it then
** lands in a class the search looks at. */
static uint64_t tlsf_round(const fits *s, uint64_t need) {
  uint64_t step;
  if (need < ((uint64_t)1 << s->sli)) return need;
  step = (uint64_t)1 << (fls64(need) - s->sli);
  return (need + step - 1) & ~(step - 1);
}

/* The class a free block of `size` bytes belongs to. */
static int insert_class(const fits *s, uint64_t size) {
  int lo = 0, hi;
  if (s->sli) return tlsf_class(s, size);
  if (s->pow2)                 /* the first bound 2^k >= size; the last takes the rest */
    return size <= 1 ? 0 : size > ((uint64_t)1 << 63) ? 63 : 64 - __builtin_clzll(size - 1);
  if (s->nb == 0) return 0;
  hi = s->nb - 1;
  while (lo < hi) {            /* the first bound >= size; the last class takes the rest */
    int mid = (lo + hi) / 2;
    if (s->bounds[mid] >= size) hi = mid; else lo = mid + 1;
  }
  return lo;
}

/* The first class whose blocks may serve a request of `need` bytes: TLSF
** rounds up to the next class so any block it finds there fits. */
static int search_class(const fits *s, uint64_t need) {
  if (s->sli && need >= ((uint64_t)1 << s->sli)) {
    uint64_t r = need + (((uint64_t)1 << (fls64(need) - s->sli)) - 1);
    return r < need ? s->lists.n - 1 : tlsf_class(s, r);
  }
  return insert_class(s, need);
}

/* ---- blocks and tags ---- */

static int tagw(uint64_t n) { return n >= 8 ? 8 : n >= 4 ? 4 : n >= 2 ? 2 : 1; }

/* Boundary tags: size with the low bit marking "in use", as the textbook heap does. */
static void tag(sh_machine *m, const fits *s, uint64_t b, uint64_t size, int used) {
  if (s->H) shH_meta_store(m, b + s->H - (uint64_t)tagw(s->H), size | (uint64_t)used, tagw(s->H));
  if (s->F) shH_meta_store(m, b + size - s->F, size | (uint64_t)used, tagw(s->F));
}

static uint64_t block_size(const fits *s, uint64_t n) {
  uint64_t bs = up(s->H + (n ? n : 1) + s->F, s->A);
  return bs < s->MB ? s->MB : bs;
}

/* Free blocks by address: a second tree only when the list's order is not
** the address (size classes, LIFO, by size); one address-ordered list is
** already that tree, and keeping both would double every update. */
static sh_tree *addrs(fits *s) {
  return s->alias ? &s->lists.l[0].list : &s->byaddr;
}

/* A block's place in its list, from its entry in addrs(s). */
static sh_pos place_of(const fits *s, const shT_node *y) {
  sh_pos q;
  q.key = s->alias ? y->key : y->a;
  q.sub = s->alias ? y->a : y->b;
  return q;
}

static int add_free(sh_machine *m, fits *s, uint64_t b, uint64_t size, const sh_pos *keep) {
  sh_pos p;
  if (shFL_insert(&s->lists, insert_class(s, size), b, size, keep, &p) != 0 ||
      (!s->alias && shT_insert(&s->byaddr, b, size, p.key, p.sub) != 0))
    return shM_err(m, SH_ERR_NOMEM, "heap: out of host memory");
  s->free_bytes += size;
  tag(m, s, b, size, 0);
  return SH_OK;
}

/* Take the free block at b (list c, place p) out of its list. */
static uint64_t drop_at(fits *s, int c, sh_pos p, uint64_t b, uint64_t size) {
  shFL_remove(&s->lists, c, p, b, size);
  if (!s->alias) shT_remove(&s->byaddr, b);
  s->free_bytes -= size;
  return size;
}

/* Take the free block y (its entry in addrs(s)) out of its list. */
static uint64_t drop_free(fits *s, const shT_node *y) {
  return drop_at(s, insert_class(s, y->size), place_of(s, y), y->key, y->size);
}

/* The address entry of the free block at b now says [nb, nb + ns) at list
** place np: rewritten where it lies, as nothing free lies between b and nb. */
static void readdress(fits *s, uint64_t b, uint64_t nb, uint64_t ns, sh_pos np) {
  shT_node nv;
  if (s->alias) return;          /* the list was the address index, and is updated */
  nv.key = nb; nv.size = ns; nv.a = np.key; nv.b = np.sub;
  shT_update(&s->byaddr, b, 0, &nv);
}

/* The free block at b (list c, place p) becomes [nb, nb + ns) and moves to
** the list and place its new size calls for. Not for alias lists. */
static int refile(sh_machine *m, fits *s, int c, sh_pos p, uint64_t b, uint64_t size,
                  uint64_t nb, uint64_t ns, const sh_pos *keep) {
  sh_pos np;
  shFL_remove(&s->lists, c, p, b, size);
  if (shFL_insert(&s->lists, insert_class(s, ns), nb, ns, keep, &np) != 0)
    return shM_err(m, SH_ERR_NOMEM, "heap: out of host memory");
  readdress(s, b, nb, ns, np);
  s->free_bytes = s->free_bytes - size + ns;
  tag(m, s, nb, ns, 0);
  return SH_OK;
}

/* Take the free block at b out of its list; its place in *p. */
static uint64_t remove_free(fits *s, uint64_t b, sh_pos *p) {
  shT_node y = { 0, 0, 0, 0 };
  shT_find(addrs(s), b, &y);
  if (p) *p = place_of(s, &y);
  return drop_free(s, &y);
}

/* The free block at b (list c, place p) becomes [nb, nb + ns), keeping its
** place in its list and tagged anew (0), or -1 when its new size belongs to
** another list or the order asks for a re-insertion. */
static int reshape(sh_machine *m, fits *s, int c, sh_pos p, uint64_t b, uint64_t size,
                   uint64_t nb, uint64_t ns) {
  sh_pos np;
  if (insert_class(s, ns) != c || shFL_reshape(&s->lists, c, p, b, size, nb, ns, &np) != 0)
    return -1;
  readdress(s, b, nb, ns, np);
  s->free_bytes = s->free_bytes - size + ns;
  tag(m, s, nb, ns, 0);
  return 0;
}

/* ---- searching ---- */

/* The implicit list walks used blocks too, and starts at the prologue. */
static uint64_t implicit_steps(sh_machine *m, uint64_t addr, uint64_t free_before) {
  return 1 + shH_live_before(m, addr) + free_before;
}

static int search_one(sh_machine *m, fits *s, int c, uint64_t need, uint64_t *steps,
                      shT_node *x) {
  sh_lists *ls = &s->lists;
  uint64_t n = shFL_count(ls, c), rank = 0;
  int got = 0;
  switch (s->fit) {
  case FIT_FIRST: case FIT_HEAD:
    got = shFL_first(ls, c, need, &rank, x);
    if (s->implicit)
      *steps += got ? implicit_steps(m, x->b, rank) + 1
                    : implicit_steps(m, UINT64_MAX, n);
    else *steps += got ? rank + 1 : n;
    break;
  case FIT_NEXT: {
    uint64_t from = s->has_rover ? shFL_rank(ls, c, s->rover) : 0;
    got = s->has_rover && shFL_first_from(ls, c, s->rover, need, &rank, x);
    if (got) { *steps += rank - from + 1; break; }
    got = shFL_first(ls, c, need, &rank, x);       /* wrap to the lowest position */
    if (!s->has_rover) { *steps += got ? rank + 1 : n; break; }
    if (got && rank >= from) got = 0;
    *steps += got ? (n - from) + rank + 1 : n;
    break;
  }
  case FIT_BEST:
    got = shFL_best(ls, c, need, x);
    *steps += n;
    break;
  default:
    got = shFL_worst(ls, c, x);
    if (got && x->size < need) got = 0;
    *steps += n;
  }
  return got;
}

static int search(sh_machine *m, fits *s, uint64_t need, int *cls, shT_node *x) {
  uint64_t steps = 0;
  int c, got = 0;
  if (s->lists.n == 1) {
    c = 0;
    got = search_one(m, s, 0, need, &steps, x);
  } else {
    for (c = shFL_next(&s->lists, search_class(s, need)); c >= 0;
         c = shFL_next(&s->lists, c + 1))
      if ((got = search_one(m, s, c, need, &steps, x)) != 0) break;
  }
  shH_step(m, steps);
  *cls = c;
  return got;
}

/* Deferred coalescing: one pass over the heap merging every run of free
** neighbours.  Returns how many merges it made. */
static uint64_t merge_all(sh_machine *m, fits *s) {
  uint64_t n = shT_count(addrs(s)), i, merged = 0, *v;
  if (n < 2 || (v = malloc(2 * n * sizeof *v)) == NULL) return 0;
  for (i = 0; i < n; i++) {
    shT_node x;
    shT_at(addrs(s), i, &x);
    v[2 * i] = x.key;
    v[2 * i + 1] = x.size;
  }
  for (i = 0; i < n;) {
    uint64_t j = i + 1, b = v[2 * i], size = v[2 * i + 1];
    while (j < n && b + size == v[2 * j]) size += v[2 * j++ + 1];
    if (j > i + 1) {
      uint64_t k;
      for (k = i; k < j; k++) {
        remove_free(s, v[2 * k], NULL);
        shH_meta_load(m, v[2 * k], tagw(s->H));
      }
      if (add_free(m, s, b, size, NULL) != SH_OK) break;
      merged += j - i - 1;
    }
    i = j;
  }
  free(v);
  m->c.coalesces += merged;
  return merged;
}

/* ---- growing ---- */

static int grow(sh_machine *m, fits *s, uint64_t need) {
  const sh_heap_config *c = &m->heap.cfg;
  shT_node last;
  uint64_t have = 0, brk = shH_brk(m), old, b, size, g;
  int tail = s->end && shT_le(addrs(s), s->end - 1, &last) && last.key + last.size == s->end &&
             (s->coalesce == CO_IMMEDIATE || s->implicit);
  if (s->implicit) {
    /* extend_heap(MAX(asize, CHUNKSIZE)): the textbook ignores a free tail
    ** when sizing the request, then coalesces with it */
    g = need > CSAPP_CHUNK ? need : CSAPP_CHUNK;
    if (shH_grow(m, g, &old) != SH_OK) return SH_ERR_OOM;
    size = g;
  } else {
    uint64_t target, gridend;
    if (tail) have = last.size;
    target = s->end + (need - have) + s->A;     /* + A: the grid may lose a sliver at the break */
    g = target > brk ? target - brk : 0;
    if (c->extend > 0) {
      uint64_t step = (uint64_t)c->extend, rounded = (g + step - 1) / step * step;
      if (shH_grow(m, rounded, &old) != SH_OK && shH_grow(m, g, &old) != SH_OK) return SH_ERR_OOM;
    } else if (shH_grow(m, g, &old) != SH_OK) {
      return SH_ERR_OOM;
    }
    gridend = up(shH_brk(m) + s->H + 1, s->A) - s->A - s->H;  /* the last block end <= brk */
    size = gridend - s->end;
  }
  b = s->end;
  s->end += size;
  if (tail) {
    b = last.key;
    size += drop_free(s, &last);
    m->c.coalesces++;
  }
  if (s->implicit) shH_meta_store(m, s->end, 1, 4);  /* the new epilogue header */
  return add_free(m, s, b, size, NULL);
}

/* ---- the operations ---- */

static int alloc(sh_machine *m, void *st, uint64_t n, uint64_t align,
                 uint64_t *payload, uint64_t *block, uint64_t *bsize) {
  fits *s = st;
  uint64_t bs = block_size(s, n), need, b, size, lead = 0;
  sh_pos p;
  shT_node x;
  int c, rc, same, grown;
  need = align > s->A ? bs + align + s->MB : bs;
  if (s->sli) need = tlsf_round(s, need);
  for (grown = 0;; grown++) {
    if (search(m, s, need, &c, &x)) break;
    if (s->coalesce == CO_DEFERRED && merge_all(m, s) > 0) continue;
    if (grown > 1)             /* growth always makes room: a second miss is a bug */
      return shM_err(m, SH_ERR_POLICY, "alloc: %s found no fit after growing the heap for %llu bytes",
                     m->heap.ops->name, U(need));
    if ((rc = grow(m, s, need)) != SH_OK) return rc;
    if (s->implicit) {                         /* place() goes straight to the new block */
      sh_pos q;
      shT_le(addrs(s), s->end - 1, &x);
      q = place_of(s, &x);
      c = insert_class(s, x.size);
      shT_find2(&s->lists.l[c].list, q.key, q.sub, &x);
      break;
    }
  }
  b = x.b;
  size = x.size;
  p = shFL_pos(&x);
  if (align <= s->A && size - bs >= s->split &&
      reshape(m, s, c, p, b, size, b + bs, size - bs) == 0) {
    /* the common split: the free block keeps its place and loses its front */
    m->c.splits++;
    size = bs;
  } else if (align <= s->A && size - bs >= s->split && !s->alias) {
    /* a split whose remainder changes list: one address entry, rewritten */
    same = insert_class(s, size - bs) == c;
    if ((rc = refile(m, s, c, p, b, size, b + bs, size - bs, same ? &p : NULL)) != SH_OK) return rc;
    m->c.splits++;
    size = bs;
  } else {
    drop_at(s, c, p, b, size);
    if (align > s->A) {
      uint64_t pay = up(b + s->H, align);
      if (pay - s->H - b != 0 && pay - s->H - b < s->MB) pay = up(b + s->H + s->MB, align);
      lead = pay - s->H - b;
    }
    if (lead) {
      if ((rc = add_free(m, s, b, lead, NULL)) != SH_OK) return rc;
      b += lead;
      size -= lead;
    }
    if (size - bs >= s->split) {
      /* the remainder keeps the block's place in the list when it stays in its class */
      same = insert_class(s, size - bs) == c && !lead;
      if ((rc = add_free(m, s, b + bs, size - bs, same ? &p : NULL)) != SH_OK) return rc;
      m->c.splits++;
      size = bs;
    }
  }
  if (s->fit == FIT_NEXT) {
    s->rover = p;
    if (s->lists.order == SH_ORD_ADDRESS) { s->rover.key = b + size; s->rover.sub = 0; }
    s->has_rover = 1;
  }
  tag(m, s, b, size, 1);
  *block = b;
  *bsize = size;
  *payload = b + s->H;
  return SH_OK;
}

/* Free [b, b+size), merging with free neighbours when coalescing is immediate.
** One descent finds both neighbours; in an address-ordered list the merged
** block keeps the place its free part had, so it is reshaped where it lies. */
static int release(sh_machine *m, void *st, uint64_t b, uint64_t size) {
  fits *s = st;
  shH_meta_load(m, b, tagw(s->H));                  /* read our own size */
  if (s->coalesce == CO_IMMEDIATE || s->implicit) {
    shT_node y, z;
    int got = shT_around(addrs(s), b, 0, &y, &z), prev = 0, next = 0;
    uint64_t nb = b, ns = size;
    if (b + size < s->end) {
      shH_meta_load(m, b + size, tagw(s->H));        /* is the next block free? */
      next = (got & 2) && z.key == b + size;
    }
    if (b > s->start) {
      shH_meta_load(m, b - (s->F ? s->F : (uint64_t)tagw(s->H)), tagw(s->H));
      prev = (got & 1) && y.key + y.size == b;
    }
    if (next) { ns += z.size; m->c.coalesces++; }
    if (prev) { nb = y.key; ns += y.size; m->c.coalesces++; }
    if (prev && next) drop_free(s, &z);
    if (prev || next) {
      const shT_node *w = prev ? &y : &z;
      int c = insert_class(s, w->size);
      if (s->lists.order == SH_ORD_ADDRESS &&
          reshape(m, s, c, place_of(s, w), w->key, w->size, nb, ns) == 0)
        return SH_OK;
      if (!s->alias) return refile(m, s, c, place_of(s, w), w->key, w->size, nb, ns, NULL);
    }
    if (prev) drop_free(s, &y);
    else if (next) drop_free(s, &z);
    b = nb;
    size = ns;
  }
  return add_free(m, s, b, size, NULL);
}

static int resize(sh_machine *m, void *st, uint64_t b, uint64_t bsize, uint64_t payload,
                  uint64_t n, uint64_t *nbsize) {
  fits *s = st;
  uint64_t nbs = block_size(s, n), total = bsize;
  shT_node nx;
  int rc;
  (void)payload;
  if (s->implicit) return SH_ERR_OOM;         /* the textbook's realloc always moves */
  if (nbs > bsize) {
    shH_meta_load(m, b + bsize, tagw(s->H));
    if (b + bsize >= s->end || !shT_find(addrs(s), b + bsize, &nx)) return SH_ERR_OOM;
    if (bsize + nx.size < nbs) return SH_ERR_OOM;
    total += drop_free(s, &nx);
  }
  if (total - nbs >= s->split && total > nbs) {
    if ((rc = release(m, s, b + nbs, total - nbs)) != SH_OK) return rc;
    m->c.splits++;
    total = nbs;
  }
  tag(m, s, b, total, 1);
  *nbsize = total;
  return SH_OK;
}

static int walk_free(sh_machine *m, void *st, sh_block_fn fn, void *ud) {
  (void)m;
  return shH_walk_free_tree(addrs(st), fn, ud);
}

typedef struct listwalk { sh_list_fn fn; void *ud; int list; } listwalk;

/* A list's treap holds (position, size, address in b): in order is list order. */
static int list_node(void *ud, const shT_node *x) {
  listwalk *w = ud;
  sh_block b;
  memset(&b, 0, sizeof b);
  b.addr = x->b;
  b.size = x->size;
  return w->fn(w->ud, w->list, &b);
}

static int walk_lists(sh_machine *m, void *st, sh_list_fn fn, void *ud) {
  fits *s = st;
  listwalk w;
  int rc = 0;
  (void)m;
  w.fn = fn;
  w.ud = ud;
  if (s->implicit) return -1;
  for (w.list = 0; w.list < s->lists.n && rc == 0; w.list++)
    rc = shT_walk(&s->lists.l[w.list].list, list_node, &w);
  return rc > 0 ? rc : 0;
}

static void summary(sh_machine *m, void *st, uint64_t *bytes, uint64_t *blocks,
                    uint64_t *largest) {
  fits *s = st;
  (void)m;
  *bytes = s->free_bytes;
  *blocks = shT_count(addrs(s));
  *largest = shT_max(addrs(s));
}

static void destroy(void *st) {
  fits *s = st;
  if (s == NULL) return;
  shFL_free(&s->lists);
  shT_free(&s->byaddr);
  free(s->bounds);
  free(s);
}

/* ---- configuration ---- */

/* One of names (its index in *out), or def when unset; the message lists them. */
static int choose(sh_machine *m, const char *key, const char *v, const char *const names[],
                  int def, int *out) {
  char list[128] = "";
  int i;
  if (v == NULL) { *out = def; return SH_OK; }
  for (i = 0; names[i]; i++) {
    if (strcmp(v, names[i]) == 0) { *out = i; return SH_OK; }
    if (i) strncat(list, ", ", sizeof list - strlen(list) - 1);
    strncat(list, names[i], sizeof list - strlen(list) - 1);
  }
  return shM_err(m, SH_ERR_ARG, "heap: %s '%s' is not one of %s", key, v, list);
}

static int setup_classes(sh_machine *m, fits *s, const sh_heap_config *c, int *nlists) {
  int i;
  if (c->classes == NULL) {                  /* powers of two: 1, 2, 4, ... 2^63 */
    s->nb = 64;
    if ((s->bounds = malloc(64 * sizeof *s->bounds)) == NULL)
      return shM_err(m, SH_ERR_NOMEM, "heap: out of host memory");
    for (i = 0; i < 64; i++) s->bounds[i] = (uint64_t)1 << i;
    s->pow2 = 1;
  } else {
    if (c->nclasses < 1 || c->nclasses > 4096)
      return shM_err(m, SH_ERR_ARG, "heap: classes must list 1 to 4096 bounds, not %d", c->nclasses);
    for (i = 0; i < c->nclasses; i++)
      if (c->classes[i] == 0 || (i > 0 && c->classes[i] <= c->classes[i - 1]))
        return shM_err(m, SH_ERR_ARG,
                       "heap: classes must be positive and ascending (bound %d is %llu)",
                       i + 1, U(c->classes[i]));
    s->nb = c->nclasses;
    if ((s->bounds = malloc((size_t)s->nb * sizeof *s->bounds)) == NULL)
      return shM_err(m, SH_ERR_NOMEM, "heap: out of host memory");
    memcpy(s->bounds, c->classes, (size_t)s->nb * sizeof *s->bounds);
  }
  *nlists = s->nb;
  return SH_OK;
}

static int init(sh_machine *m, void **state) {
  static const char *const orders[] = { "address", "lifo", "fifo", "size_asc", "size_desc", NULL };
  static const char *const coalesces[] = { "immediate", "deferred", "none", NULL };
  static const char *const within[] = { "first", "best", NULL };
  const sh_heap_config *c = &m->heap.cfg;
  const char *name = m->heap.ops->name;
  fits *s = calloc(1, sizeof *s);
  int order = SH_ORD_ADDRESS, nlists = 1, rc, f = 0;
  uint64_t end;
  if (s == NULL) return shM_err(m, SH_ERR_NOMEM, "heap: out of host memory");
  *state = s;
  shT_init(&s->byaddr);
  s->A = c->align; s->H = (uint64_t)c->header; s->F = (uint64_t)c->footer;
  s->MB = c->min_block;
  s->split = c->split_min > s->MB ? c->split_min : s->MB;
  if ((rc = choose(m, "order", c->order, orders, SH_ORD_ADDRESS, &order)) != SH_OK ||
      (rc = choose(m, "coalesce", c->coalesce, coalesces, CO_IMMEDIATE, &s->coalesce)) != SH_OK)
    return rc;
  if (strcmp(name, "next_fit") == 0) s->fit = FIT_NEXT;
  else if (strcmp(name, "best_fit") == 0) s->fit = FIT_BEST;
  else if (strcmp(name, "worst_fit") == 0) s->fit = FIT_WORST;
  else if (strcmp(name, "segregated") == 0) {
    if ((rc = choose(m, "fit", c->fit, within, 0, &f)) != SH_OK) return rc;
    s->fit = f ? FIT_BEST : FIT_FIRST;
    if ((rc = setup_classes(m, s, c, &nlists)) != SH_OK) return rc;
  } else if (strcmp(name, "tlsf") == 0) {
    s->sli = c->sli ? c->sli : 5;
    if (s->sli < 1 || s->sli > 6)
      return shM_err(m, SH_ERR_ARG, "heap: sli must be 1 to 6, not %d", c->sli);
    s->fit = FIT_HEAD;
    order = SH_ORD_LIFO;                     /* TLSF pushes and pops at each list's head */
    nlists = (64 - s->sli + 1) * (1 << s->sli);
  } else if (strcmp(name, "csapp_implicit") == 0) {
    s->implicit = 1;
  }
  if (shFL_init(&s->lists, nlists, order, s->fit == FIT_BEST) != 0)
    return shM_err(m, SH_ERR_NOMEM, "heap: out of host memory");
  s->alias = nlists == 1 && order == SH_ORD_ADDRESS;
  if (s->implicit) {
    /* mm_init: padding word, prologue header and footer, epilogue header,
    ** then extend_heap(CHUNKSIZE) turns the epilogue into the first block */
    uint64_t base = c->base;
    shH_meta_store(m, base, 0, 4);
    shH_meta_store(m, base + 4, 8 | 1, 4);
    shH_meta_store(m, base + 8, 8 | 1, 4);
    s->start = s->end = base + 12;
    shH_meta_store(m, s->end + CSAPP_CHUNK, 1, 4);
    s->end += CSAPP_CHUNK;
    s->free_bytes = 0;
    return add_free(m, s, s->start, CSAPP_CHUNK, NULL);
  }
  s->start = up(c->base + s->H, s->A) - s->H;
  end = up(shH_brk(m) + s->H + 1, s->A) - s->A - s->H;
  s->end = s->start;
  if (end > s->start && end - s->start >= s->MB) {
    s->end = end;
    return add_free(m, s, s->start, end - s->start, NULL);
  }
  return SH_OK;
}

/* csapp_implicit is a fixed preset: the textbook's constants, nothing else. */
static int csapp_defaults(sh_machine *m, sh_heap_config *c) {
  if (c->size || c->extend >= 0 || c->align || c->header >= 0 || c->footer >= 0 ||
      c->min_block || c->split_min || c->order || c->coalesce || c->fit || c->classes ||
      c->min_order || c->max_order || c->sli)
    return shM_err(m, SH_ERR_ARG,
                   "heap: csapp_implicit is the textbook's fixed design; of the heap keys it "
                   "takes only base and max");
  c->size = 16 + CSAPP_CHUNK;
  c->extend = CSAPP_CHUNK;
  c->align = 8;
  c->header = 4;
  c->footer = 4;
  c->min_block = 16;
  c->split_min = 16;
  return SH_OK;
}

/* Keys that only other policies read are refused, not ignored. */
static int fits_defaults(sh_machine *m, sh_heap_config *c) {
  const char *name = m->heap.ops->name;
  int seg = strcmp(name, "segregated") == 0, tlsf = strcmp(name, "tlsf") == 0;
  if (c->min_order || c->max_order)
    return shM_err(m, SH_ERR_ARG, "heap: min_order and max_order are buddy's keys, not %s's", name);
  if (!seg && (c->classes || c->fit))
    return shM_err(m, SH_ERR_ARG, "heap: classes and fit are segregated's keys, not %s's", name);
  if (!tlsf && c->sli)
    return shM_err(m, SH_ERR_ARG, "heap: sli is tlsf's key, not %s's", name);
  if (tlsf && c->order && strcmp(c->order, "lifo") != 0)
    return shM_err(m, SH_ERR_ARG, "heap: tlsf keeps each class as a LIFO list; order must be lifo");
  return SH_OK;
}

#define FITS(name, defaults) \
  { name, defaults, init, alloc, release, resize, walk_free, summary, NULL, destroy, walk_lists }

const sh_policy_ops shF_first_fit = FITS("first_fit", fits_defaults);
const sh_policy_ops shF_next_fit = FITS("next_fit", fits_defaults);
const sh_policy_ops shF_best_fit = FITS("best_fit", fits_defaults);
const sh_policy_ops shF_worst_fit = FITS("worst_fit", fits_defaults);
const sh_policy_ops shF_segregated = FITS("segregated", fits_defaults);
const sh_policy_ops shF_tlsf = FITS("tlsf", fits_defaults);
const sh_policy_ops shF_csapp_implicit = FITS("csapp_implicit", csapp_defaults);
