/* check.c -- misuse reports: recorded on the machine or returned as errors.
** The checker never absorbs a misuse silently; the machine's `check` flag picks which. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static const char *const kinds[] = {
  "double_free", "invalid_free", "use_after_free", "out_of_bounds",
  "uninitialised", "use_after_return", "leak"
};

/* What a learner should take from each kind, said once here for every report. */
const char *const shC_explain[] = {
  "The block was already given back to the allocator. Freeing it a second time "
  "makes the allocator record the same memory as free twice, so two later "
  "allocations can be handed the same bytes and overwrite each other. Free each "
  "block exactly once, and forget (or null) the pointer after freeing it.",
  "free must be given exactly the address that alloc returned. Any other address "
  "- a pointer into the middle of a block, the address of a stack slot, one that "
  "was never allocated - makes the allocator read a header that is not there and "
  "corrupt its own records. The stack's memory is released by returning, never by free.",
  "The block was freed: its memory belongs to the allocator again and may already "
  "hold somebody else's data. Reading gives whatever is there now; writing can "
  "destroy another allocation or the allocator's bookkeeping. The pointer still "
  "holds the old address, but nothing lives there any more.",
  "The access leaves the memory it belongs to. Next to a block lie the allocator's "
  "headers and other blocks; next to a slot, other slots. A real program often does "
  "not crash here (the allocator rounds sizes up, the stack is all mapped), so the "
  "bug stays hidden until a neighbour's data or the heap's bookkeeping is destroyed.",
  "These bytes were never written since their memory was allocated or their frame "
  "was pushed. They hold whatever the previous user left behind, so the value read "
  "is garbage and can change from run to run. Copying such bytes is harmless; "
  "using the value (here: handing it to the program) is the bug.",
  "The frame that owned these bytes has returned. Its slots no longer exist: the "
  "next call reuses the same addresses for its own variables, so a pointer kept "
  "into the old frame reads or overwrites somebody else's data. Never keep the "
  "address of a local variable beyond its function's return.",
  "No pointer to the block is left in a live slot or in a block reachable from one, "
  "so the program can never free it: the memory stays taken until the program ends."
};

const char *sh_error_kind_name(sh_error_kind k) {
  return (unsigned)k < sizeof kinds / sizeof kinds[0] ? kinds[k] : "?";
}

void shC_free(sh_reports *r) {
  int i;
  for (i = 0; i < r->n; i++) free((char *)r->list[i].message);
  free(r->list);
  memset(r, 0, sizeof *r);
}

int shC_push(sh_reports *r, const sh_report *rep) {
  if (r->n == r->cap) {
    int cap = r->cap ? r->cap * 2 : 16;
    sh_report *nl = realloc(r->list, (size_t)cap * sizeof *nl);
    if (nl == NULL) return SH_ERR_NOMEM;
    r->list = nl;
    r->cap = cap;
  }
  r->list[r->n++] = *rep;
  return SH_OK;
}

void shC_begin(sh_machine *m, sh_report *r, sh_error_kind k, uint64_t addr, uint64_t size) {
  memset(r, 0, sizeof *r);
  r->kind = k;
  r->addr = addr;
  r->size = size;
  r->op = m->ops ? m->ops - 1 : 0;
  r->alloc_op = r->free_op = r->frame_pop_op = SH_NO_OP;
  r->explain = shC_explain[k];
  if (m->chk) {
    r->site = shK_site_name(m, shK_site(m));
    shK_describe(m, r);
  }
}

int shC_keep(sh_machine *m, sh_report *r) {
  sh_reports *l = &m->reports;
  char *msg;
  if (l->n >= SHC_MAX) { l->dropped++; return SH_OK; }
  if ((msg = malloc(strlen(m->msg) + 1)) == NULL)
    return shM_err(m, SH_ERR_NOMEM, "checker: out of host memory");
  strcpy(msg, m->msg);
  r->message = msg;
  if (shC_push(l, r) != SH_OK) {
    free(msg);
    return shM_err(m, SH_ERR_NOMEM, "checker: out of host memory");
  }
  return SH_OK;
}

int shC_misuse(sh_machine *m, sh_error_kind k, uint64_t addr, int code,
               const char *fmt, ...) {
  sh_report r;
  va_list ap;
  if (!m->cfg.check) {
    va_start(ap, fmt);
    vsnprintf(m->msg, sizeof m->msg, fmt, ap);
    va_end(ap);
    return code;
  }
  shC_begin(m, &r, k, addr, 0);
  va_start(ap, fmt);
  vsnprintf(m->msg, sizeof m->msg, fmt, ap);
  va_end(ap);
  return shC_keep(m, &r);
}

int sh_report_count(const sh_machine *m) {
  return m->reports.n;
}

int sh_report_get(const sh_machine *m, int i, sh_report *out) {
  if (i < 0 || i >= m->reports.n) return SH_ERR_ARG;
  *out = m->reports.list[i];
  return SH_OK;
}
