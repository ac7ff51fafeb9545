/* test_heap.c -- first fit: placement, headers, splitting, coalescing, growth, limits.
** Worked by hand: header 8, align 16, base 0x1000, so the first payload is 0x1010. */
#include "check.h"
#include "stackheap.h"

typedef struct seen { int n, used; uint64_t last_end, bytes; int ok; } seen;

static int tally(void *ud, const sh_block *b) {
  seen *s = ud;
  if (s->n > 0 && b->addr != s->last_end) s->ok = 0;     /* blocks tile the heap */
  s->last_end = b->addr + b->size;
  s->n++;
  s->used += b->used;
  s->bytes += b->size;
  return 0;
}

static seen walk(sh_machine *m) {
  seen s = { 0, 0, 0, 0, 1 };
  sh_blocks(m, tally, &s);
  return s;
}

int main(void) {
  sh_machine *m, *m2;
  sh_config c;
  sh_stats st;
  uint64_t a, b, d, e, v, r;
  seen s;
  int i;

  CHECK(sh_open(&m, NULL) == SH_OK);
  CHECK(sh_alloc(m, 24, 0, &a) == SH_OK);
  CHECK_U64(a, 0x1010);
  CHECK(sh_load(m, a - 8, 8, &v) == SH_OK);
  CHECK_U64(v, 32 | 1);                       /* header: block size 32, in use */
  CHECK(sh_alloc(m, 1, 0, &b) == SH_OK);
  CHECK_U64(b, 0x1030);                       /* min block 32 */
  CHECK(sh_alloc(m, 100, 0, &d) == SH_OK);
  CHECK_U64(d, 0x1050);
  s = walk(m);
  CHECK(s.ok);
  CHECK_U64(s.used, 3);
  CHECK_U64(s.n, 4);                          /* three used, the rest free */
  sh_stats_get(m, &st);
  CHECK_U64(st.heap.allocs, 3);
  CHECK_U64(st.heap.live_bytes, 125);
  CHECK_U64(st.heap.splits, 3);
  CHECK_U64(st.heap.searched, 3);
  CHECK_U64(st.heap.heap_bytes, 4096);

  /* freeing b leaves a hole; an allocation that fits takes it (first fit) */
  CHECK(sh_free(m, b) == SH_OK);
  CHECK(sh_alloc(m, 8, 0, &e) == SH_OK);
  CHECK_U64(e, b);
  sh_stats_get(m, &st);
  CHECK_U64(st.heap.searched, 4);
  /* freeing neighbours coalesces back to one free block */
  CHECK(sh_free(m, a) == SH_OK);
  CHECK(sh_free(m, d) == SH_OK);
  CHECK(sh_free(m, e) == SH_OK);
  s = walk(m);
  CHECK_U64(s.n, 1);
  CHECK_U64(s.used, 0);
  sh_stats_get(m, &st);
  CHECK(st.heap.coalesces >= 3);
  CHECK_U64(st.heap.free_blocks, 1);
  CHECK_U64(st.heap.live_bytes, 0);

  /* double and invalid frees are errors naming the op that freed */
  CHECK(sh_free(m, a) == SH_ERR_FREE);
  CHECK_HAS(sh_errmsg(m), "free: 0x1010 is not the start of a live block (freed at op");
  CHECK(sh_free(m, 0x1234) == SH_ERR_FREE);
  CHECK_HAS(sh_errmsg(m), "never allocated");
  CHECK(sh_alloc(m, 64, 0, &a) == SH_OK);
  CHECK(sh_free(m, a + 8) == SH_ERR_FREE);
  CHECK_HAS(sh_errmsg(m), "8 bytes into the block");
  CHECK(sh_free(m, 0) == SH_OK);

  /* alignment beyond the default */
  CHECK(sh_alloc(m, 10, 256, &a) == SH_OK);
  CHECK_U64(a % 256, 0);
  CHECK(sh_alloc(m, 10, 3, &a) == SH_ERR_ARG);
  s = walk(m);
  CHECK(s.ok);

  /* growth: allocations past the initial 4 KiB extend the heap */
  for (i = 0; i < 100; i++) CHECK(sh_alloc(m, 1000, 0, &a) == SH_OK);
  sh_stats_get(m, &st);
  CHECK(st.heap.heap_bytes >= 100 * 1008);
  CHECK(st.heap.grows > 0);
  CHECK(st.heap.peak_heap_bytes == st.heap.heap_bytes);
  s = walk(m);
  CHECK(s.ok);

  /* realloc: grows by moving, keeps the bytes, frees the old block */
  CHECK(sh_alloc(m, 16, 0, &a) == SH_OK);
  CHECK(sh_write(m, a, "hello, world!!!", 16) == SH_OK);
  CHECK(sh_realloc(m, a, 4000, &r) == SH_OK);
  CHECK(r != a);
  {
    char buf[16];
    CHECK(sh_read(m, r, buf, 16) == SH_OK);
    CHECK(memcmp(buf, "hello, world!!!", 16) == 0);
  }
  CHECK(sh_free(m, a) == SH_ERR_FREE);
  CHECK(sh_realloc(m, r, 8, &e) == SH_OK);
  CHECK_U64(e, r);                             /* a shrink stays in place */
  CHECK(sh_realloc(m, 0, 8, &e) == SH_OK && e != 0);
  {
    /* a moving realloc counts the new size only in the peak, as malloc-lab does */
    sh_machine *p;
    uint64_t q, q2;
    CHECK(sh_open(&p, NULL) == SH_OK);
    CHECK(sh_alloc(p, 100, 0, &q) == SH_OK);
    CHECK(sh_alloc(p, 8, 0, &q2) == SH_OK);          /* blocks growth in place */
    CHECK(sh_realloc(p, q, 1000, &q2) == SH_OK);
    sh_stats_get(p, &st);
    CHECK_U64(st.heap.peak_live_bytes, 1008);
    sh_close(p);
  }
  CHECK(sh_realloc(m, e, 0, &d) == SH_OK && d == 0);
  sh_close(m);

  /* max is a hard limit: out of memory changes nothing */
  sh_config_init(&c);
  c.heap.size = 4096;
  c.heap.max = 8192;
  CHECK(sh_open(&m, &c) == SH_OK);
  CHECK(sh_alloc(m, 5000, 0, &a) == SH_OK);
  sh_stats_get(m, &st);
  CHECK(st.heap.heap_bytes <= 8192);
  CHECK(sh_alloc(m, 5000, 0, &b) == SH_ERR_OOM);
  CHECK_HAS(sh_errmsg(m), "out of memory");
  {
    sh_stats st2;
    sh_stats_get(m, &st2);
    CHECK_U64(st2.heap.heap_bytes, st.heap.heap_bytes);
    CHECK_U64(st2.heap.live_blocks, 1);
    CHECK_U64(st2.heap.failed, 1);
    CHECK_U64(st2.heap.allocs, 1);
  }
  CHECK(sh_realloc(m, a, 9000, &b) == SH_ERR_OOM);
  CHECK(sh_load(m, a - 8, 8, &v) == SH_OK && (v & 1));   /* the old block is untouched */
  sh_close(m);

  /* extend = 0: the heap never grows */
  sh_config_init(&c);
  c.heap.extend = 0;
  CHECK(sh_open(&m, &c) == SH_OK);
  CHECK(sh_alloc(m, 5000, 0, &a) == SH_ERR_OOM);
  sh_close(m);

  /* check = 1 records misuse instead of failing */
  sh_config_init(&c);
  c.check = 1;
  CHECK(sh_open(&m, &c) == SH_OK);
  CHECK(sh_alloc(m, 8, 0, &a) == SH_OK);
  CHECK(sh_free(m, a) == SH_OK);
  CHECK(sh_free(m, a) == SH_OK);
  CHECK_U64(sh_report_count(m), 1);
  {
    sh_report rep;
    CHECK(sh_report_get(m, 0, &rep) == SH_OK);
    CHECK(rep.kind == SH_E_DOUBLE_FREE);
    CHECK_U64(rep.addr, a);
    CHECK(strcmp(sh_error_kind_name(rep.kind), "double_free") == 0);
  }

  /* two machines are independent */
  CHECK(sh_open(&m2, NULL) == SH_OK);
  CHECK(sh_alloc(m2, 8, 0, &b) == SH_OK);
  CHECK_U64(b, 0x1010);
  CHECK_U64(sh_report_count(m2), 0);
  sh_stats_get(m2, &st);
  CHECK_U64(st.heap.allocs, 1);
  sh_close(m2);
  sh_close(m);

  /* bad configurations are refused with a message */
  sh_config_init(&c);
  c.heap.policy = "quick_fit";
  CHECK(sh_open(&m, &c) == SH_ERR_ARG);
  CHECK_HAS(sh_errmsg(m), "unknown policy 'quick_fit'");
  sh_close(m);
  sh_config_init(&c);
  c.heap.align = 24;
  CHECK(sh_open(&m, &c) == SH_ERR_ARG);
  CHECK_HAS(sh_errmsg(m), "power of two");
  sh_close(m);
  return check_done("heap");
}
