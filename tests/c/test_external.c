/* test_external.c -- a policy written in C by an embedder (sh_policy_def): the heap handle,
** the driver's checks on its answers, its errors, and destroy called exactly once. */
#include "check.h"
#include "stackheap.h"

typedef struct bump { int destroyed, wrong; uint64_t answer; } bump;

static int b_init(void *ud, sh_machine *m) {
  uint64_t old;
  (void)ud;
  return sh_policy_sbrk(m, 16, &old);       /* a 16-byte prologue, as mm_init makes */
}

static int b_alloc(void *ud, sh_machine *m, uint64_t size, uint64_t align, uint64_t *addr) {
  bump *b = ud;
  uint64_t base, brk, max, p, old;
  int rc;
  if (b->wrong) { *addr = b->answer; return SH_OK; }
  sh_policy_bounds(m, &base, &brk, &max);
  p = (brk + 8 + align - 1) / align * align;
  if ((rc = sh_policy_sbrk(m, p + size - brk, &old)) != SH_OK) return rc;
  sh_policy_step(m, 1);
  *addr = p;
  return sh_policy_store(m, p - 8, size, 8);
}

static int b_free(void *ud, sh_machine *m, uint64_t addr, uint64_t size) {
  uint64_t v;
  (void)ud;
  if (sh_policy_load(m, addr - 8, 8, &v) != SH_OK) return SH_ERR_POLICY;
  if (v != size) return sh_policy_fail(m, "header says %llu, not %llu", (unsigned long long)v,
                                       (unsigned long long)size);
  return SH_OK;
}

static void b_destroy(void *ud) { ((bump *)ud)->destroyed++; }

static sh_machine *open_with(bump *b, sh_policy_def *d) {
  sh_config c;
  sh_machine *m;
  memset(d, 0, sizeof *d);
  d->name = "cbump";
  d->ud = b;
  d->init = b_init;
  d->alloc = b_alloc;
  d->free = b_free;
  d->destroy = b_destroy;
  sh_config_init(&c);
  c.heap.external = d;
  c.heap.max = 1 << 16;
  CHECK(sh_open(&m, &c) == SH_OK);
  return m;
}

int main(void) {
  bump b = { 0, 0, 0 };
  sh_policy_def d;
  sh_machine *m = open_with(&b, &d);
  uint64_t a, a2, v, base, brk, max;
  sh_stats s;

  /* the heap started empty; init took 16 bytes */
  sh_policy_bounds(m, &base, &brk, &max);
  CHECK_U64(brk - base, 16);
  CHECK(sh_alloc(m, 24, 0, &a) == SH_OK);
  CHECK_U64(a, 0x1020);
  CHECK(sh_load(m, a - 8, 8, &v) == SH_OK);
  CHECK_U64(v, 24);
  CHECK(sh_alloc(m, 8, 0, &a2) == SH_OK);
  CHECK(sh_free(m, a) == SH_OK);
  sh_stats_get(m, &s);
  CHECK_U64(s.heap.searched, 2);
  CHECK_U64(s.heap.meta_stores, 2);
  CHECK_U64(s.heap.live_blocks, 1);

  /* the handle is the policy's only: outside a callback it is refused */
  CHECK(sh_policy_sbrk(m, 16, &v) == SH_ERR_ARG);
  CHECK_HAS(sh_errmsg(m), "only an external policy's callbacks");

  /* the driver's checks: an answer overlapping a live block */
  b.wrong = 1;
  b.answer = a2;
  CHECK(sh_alloc(m, 8, 0, &a) == SH_ERR_POLICY);
  CHECK_HAS(sh_errmsg(m), "alloc: policy 'cbump' answered");
  CHECK_HAS(sh_errmsg(m), "which overlaps a live block");
  b.answer = 0x1001;
  CHECK(sh_alloc(m, 8, 0, &a) == SH_ERR_POLICY);
  CHECK_HAS(sh_errmsg(m), "which is not aligned");
  b.wrong = 0;

  /* past max: sbrk fails and the alloc is out of memory, nothing changed */
  CHECK(sh_alloc(m, 1 << 17, 0, &a) == SH_ERR_OOM);
  sh_stats_get(m, &s);
  CHECK_U64(s.heap.failed, 1);

  /* a callback's own failure names the operation and the request */
  sh_poke(m, a2 - 8, "\x09\0\0\0\0\0\0\0", 8);
  CHECK(sh_free(m, a2) == SH_ERR_POLICY);
  CHECK_HAS(sh_errmsg(m), "free: policy 'cbump' failed for 0x");
  CHECK_HAS(sh_errmsg(m), "header says 9, not 8");

  sh_close(m);
  CHECK_U64(b.destroyed, 1);

  /* a failed sh_open lets the policy go too, once */
  {
    sh_config c;
    sh_machine *m2;
    bump b2 = { 0, 0, 0 };
    memset(&d, 0, sizeof d);
    d.name = "x"; d.ud = &b2; d.alloc = b_alloc; d.free = b_free; d.destroy = b_destroy;
    sh_config_init(&c);
    c.word = 5;
    c.heap.external = &d;
    CHECK(sh_open(&m2, &c) == SH_ERR_ARG);
    sh_close(m2);
    CHECK_U64(b2.destroyed, 1);
    sh_config_init(&c);
    c.heap.external = &d;
    c.heap.align = 3;
    CHECK(sh_open(&m2, &c) == SH_ERR_ARG);
    sh_close(m2);
    CHECK_U64(b2.destroyed, 2);
  }
  return check_done("external");
}
