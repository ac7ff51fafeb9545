/* stack.c -- the call stack: frames of typed slots below a return address and saved fp.
** Pushing costs a constant and never searches: the new frame always goes at the top. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define FRAME_ALIGN 16u        /* the SysV ABIs keep sp 16-aligned at calls */
#define CODE_BASE 0x400000u    /* where the pretend code lives: return addresses point here */

void shS_init(sh_stack *s) {
  memset(s, 0, sizeof *s);
  s->next_id = 1;
}

void shS_free(sh_stack *s) {
  sh_layout *l = s->layouts;
  size_t i;
  while (l) { sh_layout *n = l->next; free(l); l = n; }
  for (i = 0; i < s->ncap; i++) free(s->names[i]);
  free(s->names);
  free(s->frames);
  shS_init(s);
}

static uint64_t align_down(uint64_t x, uint64_t a) { return x & ~(a - 1); }
static int64_t align_down_s(int64_t x, uint64_t a) { return x & ~(int64_t)(a - 1); }
static int pow2(uint64_t x) { return x && (x & (x - 1)) == 0; }

/* ---- interned names: a frame records its name without a malloc per call ---- */

static size_t strhash(const char *s, size_t cap) {
  uint64_t h = 1469598103934665603ull;     /* FNV-1a */
  while (*s) { h ^= (unsigned char)*s++; h *= 1099511628211ull; }
  return (size_t)h & (cap - 1);
}

static const char *intern(sh_stack *s, const char *name) {
  size_t i;
  char *copy;
  if ((s->ncount + 1) * 2 > s->ncap) {
    size_t ncap = s->ncap ? s->ncap * 2 : 32, j;
    char **nn = calloc(ncap, sizeof *nn);
    if (nn == NULL) return NULL;
    for (j = 0; j < s->ncap; j++) {
      if (s->names[j] == NULL) continue;
      for (i = strhash(s->names[j], ncap); nn[i]; i = (i + 1) & (ncap - 1)) {}
      nn[i] = s->names[j];
    }
    free(s->names);
    s->names = nn;
    s->ncap = ncap;
  }
  for (i = strhash(name, s->ncap); s->names[i]; i = (i + 1) & (s->ncap - 1))
    if (strcmp(s->names[i], name) == 0) return s->names[i];
  if ((copy = malloc(strlen(name) + 1)) == NULL) return NULL;
  strcpy(copy, name);
  s->names[i] = copy;
  s->ncount++;
  return copy;
}

/* ---- layouts ---- */

int sh_layout_new(sh_machine *m, const sh_slot_def *defs, int n, sh_layout **out) {
  size_t strbytes = 0, size;
  sh_layout *l;
  char *p;
  int64_t cur = 0;
  int i, j;
  *out = NULL;
  if (n < 0) return shM_err(m, SH_ERR_ARG, "call: negative slot count");
  for (i = 0; i < n; i++) {
    const sh_slot_def *d = &defs[i];
    if (d->name == NULL || d->name[0] == '\0')
      return shM_err(m, SH_ERR_ARG, "call: slot %d has no name", i + 1);
    if (!pow2(d->align) || d->align > 4096)
      return shM_err(m, SH_ERR_ARG, "call: slot '%s' has alignment %llu, not a power of two up to 4096",
                     d->name, (unsigned long long)d->align);
    if (d->size > m->cfg.stack_size)
      return shM_err(m, SH_ERR_ARG, "call: slot '%s' (%llu bytes) is larger than the whole stack",
                     d->name, (unsigned long long)d->size);
    for (j = 0; j < i; j++)
      if (strcmp(defs[j].name, d->name) == 0)
        return shM_err(m, SH_ERR_ARG, "call: duplicate slot name '%s'", d->name);
    strbytes += strlen(d->name) + 1 + strlen(d->type ? d->type : "?") + 1;
  }
  size = sizeof *l + (size_t)n * sizeof l->slots[0] + strbytes;
  if ((l = malloc(size)) == NULL) return shM_err(m, SH_ERR_NOMEM, "call: out of host memory");
  l->n = n;
  l->maxalign = FRAME_ALIGN;
  l->slots = (sh_slot_info *)(l + 1);
  p = (char *)(l->slots + n);
  /* Declaration order runs downward: the first slot sits highest, nearest
  ** the saved frame pointer, as a compiler without reordering would put it. */
  for (i = 0; i < n; i++) {
    const sh_slot_def *d = &defs[i];
    sh_slot_info *s = &l->slots[i];
    cur = align_down_s(cur - (int64_t)d->size, d->align);
    if (d->align > l->maxalign) l->maxalign = d->align;
    s->addr = (uint64_t)cur;
    s->size = d->size;
    s->align = d->align;
    s->kind = d->kind;
    s->name = strcpy(p, d->name); p += strlen(d->name) + 1;
    s->type = strcpy(p, d->type ? d->type : "?"); p += strlen(s->type) + 1;
  }
  l->low = cur;
  l->next = m->stack.layouts;
  m->stack.layouts = l;
  *out = l;
  return SH_OK;
}

int sh_layout_count(const sh_layout *l) {
  return l->n;
}

/* ---- frames ---- */

int sh_depth(const sh_machine *m) {
  return m->stack.depth;
}

static uint64_t stack_sp(const sh_machine *m) {
  const sh_stack *s = &m->stack;
  return s->depth ? s->frames[s->depth - 1].sp : m->cfg.stack_top;
}

int sh_call(sh_machine *m, const char *name, const sh_layout *l, uint64_t *id) {
  sh_stack *s = &m->stack;
  uint64_t top = stack_sp(m), w = (uint64_t)m->cfg.word, fp, anchor, sp, need;
  sh_frame_rec *f;
  if (name == NULL) name = "?";
  fp = top - 2 * w;
  anchor = align_down(fp, l->maxalign);
  sp = align_down(anchor + (uint64_t)l->low, FRAME_ALIGN);
  need = top - sp;
  /* Check before touching anything: an overflow leaves the machine as it was. */
  if (sp < s->limit_lo || sp > top)
    return shM_err(m, SH_ERR_OVERFLOW,
                   "stack overflow: frame '%s' needs %llu bytes but only %llu of the "
                   "%llu-byte stack limit remain (depth %d)",
                   name, (unsigned long long)need, (unsigned long long)(top - s->limit_lo),
                   (unsigned long long)m->cfg.stack_size, s->depth);
  if (s->depth == s->cap) {
    int cap = s->cap ? s->cap * 2 : 64;
    sh_frame_rec *nf = realloc(s->frames, (size_t)cap * sizeof *nf);
    if (nf == NULL) return shM_err(m, SH_ERR_NOMEM, "call: out of host memory");
    s->frames = nf;
    s->cap = cap;
  }
  if ((name = intern(s, name)) == NULL)
    return shM_err(m, SH_ERR_NOMEM, "call: out of host memory");
  /* The call's own traffic: the return address and the caller's fp. */
  if (shP_put(&m->space, fp + w, CODE_BASE + 16u * (uint64_t)s->depth, (int)w) != SH_OK ||
      shP_put(&m->space, fp, s->depth ? s->frames[s->depth - 1].fp : 0, (int)w) != SH_OK)
    return shM_err(m, SH_ERR_NOMEM, "call: out of host memory");
  f = &s->frames[s->depth++];
  f->id = s->next_id++;
  f->name = name;
  f->layout = l;
  f->top = top; f->fp = fp; f->anchor = anchor; f->sp = sp;
  m->ops++;
  m->c.pushes++;
  m->c.stores += 2;
  shM_charge(m, SH_COST_STACK, m->cfg.cost.push);
  shM_price(m, fp + w, w, SH_COST_STACK, 1);
  shM_price(m, fp, w, SH_COST_STACK, 1);
  if (s->depth > m->c.peak_depth) m->c.peak_depth = s->depth;
  if (m->cfg.stack_top - sp > m->c.peak_bytes) m->c.peak_bytes = m->cfg.stack_top - sp;
  if (id) *id = f->id;
  return m->chk ? shK_push(m, f) : SH_OK;
}

int sh_ret(sh_machine *m) {
  sh_stack *s = &m->stack;
  uint64_t w = (uint64_t)m->cfg.word, fp;
  if (s->depth == 0) return shM_err(m, SH_ERR_STACK, "ret: the stack is empty");
  m->ops++;
  if (m->chk) shK_pop(m, &s->frames[s->depth - 1]);
  fp = s->frames[--s->depth].fp;
  m->c.pops++;
  m->c.loads += 2;
  shM_charge(m, SH_COST_STACK, m->cfg.cost.pop);
  shM_price(m, fp, w, SH_COST_STACK, 0);       /* the caller's fp, then the return address */
  shM_price(m, fp + w, w, SH_COST_STACK, 0);
  return SH_OK;
}

int sh_frame_level(const sh_machine *m, uint64_t id) {
  const sh_stack *s = &m->stack;
  int lo = 0, hi = s->depth - 1;
  /* ids grow with depth, so a binary search finds a live frame */
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (s->frames[mid].id == id) return s->depth - 1 - mid;
    if (s->frames[mid].id < id) lo = mid + 1; else hi = mid - 1;
  }
  return -1;
}

int sh_ret_frame(sh_machine *m, uint64_t id) {
  int level = sh_frame_level(m, id);
  if (level < 0) return shM_err(m, SH_ERR_STACK, "close: frame #%llu was already popped",
                                (unsigned long long)id);
  if (level > 0) {
    const sh_frame_rec *f = &m->stack.frames[m->stack.depth - 1 - level];
    return shM_err(m, SH_ERR_STACK,
                   "close: frame '%s' is not on top of the stack ('%s' is, %d frame%s above it): "
                   "frames are popped last in, first out",
                   f->name, m->stack.frames[m->stack.depth - 1].name, level, level == 1 ? "" : "s");
  }
  return sh_ret(m);
}

static const sh_frame_rec *at(const sh_machine *m, int level) {
  if (level < 0 || level >= m->stack.depth) return NULL;
  return &m->stack.frames[m->stack.depth - 1 - level];
}

int sh_frame(const sh_machine *m, int level, sh_frame_info *out) {
  const sh_frame_rec *f = at(m, level);
  if (f == NULL) return SH_ERR_ARG;
  out->id = f->id;
  out->name = f->name;
  out->fp = f->fp;
  out->sp = f->sp;
  out->top = f->top;
  out->nslots = f->layout->n;
  return SH_OK;
}

const sh_layout *sh_frame_layout(const sh_machine *m, int level) {
  const sh_frame_rec *f = at(m, level);
  return f ? f->layout : NULL;
}

int sh_slot(const sh_machine *m, int level, int i, sh_slot_info *out) {
  const sh_frame_rec *f = at(m, level);
  if (f == NULL || i < 0 || i >= f->layout->n) return SH_ERR_ARG;
  *out = f->layout->slots[i];
  out->addr = f->anchor + f->layout->slots[i].addr;
  return SH_OK;
}

int sh_slot_find(const sh_machine *m, int level, const char *name, size_t len) {
  const sh_frame_rec *f = at(m, level);
  int i;
  if (f == NULL) return -1;
  for (i = 0; i < f->layout->n; i++) {
    const char *s = f->layout->slots[i].name;
    if (strncmp(s, name, len) == 0 && s[len] == '\0') return i;
  }
  return -1;
}
