/* test_memory.c -- loads and stores: byte order, widths, regions, and what they cost.
** An access outside the stack and heap must fail with a message and change nothing. */
#include "check.h"
#include "stackheap.h"

int main(void) {
  sh_machine *m;
  sh_stats st, st2;
  uint64_t a, v;
  uint8_t bytes[8];
  sh_config c;

  CHECK(sh_open(&m, NULL) == SH_OK);
  CHECK(sh_alloc(m, 32, 0, &a) == SH_OK);
  sh_stats_reset(m);
  CHECK(sh_store(m, a, 0x0102030405060708ull, 8) == SH_OK);
  CHECK(sh_read(m, a, bytes, 8) == SH_OK);
  CHECK(bytes[0] == 0x08 && bytes[7] == 0x01);            /* little-endian */
  CHECK(sh_load(m, a, 2, &v) == SH_OK);
  CHECK_U64(v, 0x0708);
  CHECK(sh_load(m, a + 4, 4, &v) == SH_OK);
  CHECK_U64(v, 0x01020304);
  CHECK(sh_store(m, a + 1, 0xff, 1) == SH_OK);
  CHECK(sh_load(m, a, 8, &v) == SH_OK);
  CHECK_U64(v, 0x010203040506ff08ull);
  CHECK(sh_load(m, a, 3, &v) == SH_ERR_ARG);
  CHECK_HAS(sh_errmsg(m), "width must be 1, 2, 4 or 8, not 3");
  sh_stats_get(m, &st);
  CHECK_U64(st.loads, 3 + 1);                             /* read of 8 bytes = 1 word */
  CHECK_U64(st.stores, 2);
  /* The default cache: alloc wrote the block's header into a's line, so
  ** all six accesses hit L1, 4 cycles each. */
  CHECK_U64(st.cost[SH_COST_MEMORY], 6 * 4);
  CHECK_U64(st.cycles, 6 * 4);

  /* segfaults: null page, past the break, between regions */
  CHECK(sh_load(m, 0, 8, &v) == SH_ERR_ACCESS);
  CHECK_HAS(sh_errmsg(m), "load: 0x0 (8 bytes) is in the null page");
  CHECK(sh_store(m, 0x1000 + 4096, 1, 8) == SH_ERR_ACCESS);
  CHECK_HAS(sh_errmsg(m), "past the heap's break");
  CHECK(sh_load(m, 0x40000000ull * 4, 8, &v) == SH_ERR_ACCESS);
  CHECK(sh_load(m, UINT64_MAX - 2, 8, &v) == SH_ERR_ACCESS);
  CHECK(sh_write(m, 0x1000 + 4090, "0123456789", 10) == SH_ERR_ACCESS);
  sh_stats_get(m, &st2);
  CHECK_U64(st2.cycles, st.cycles);                        /* failed accesses cost nothing */

  /* stack memory is mapped: the region below the top of the stack */
  CHECK(sh_store(m, 0x7fff0000u - 8, 42, 8) == SH_OK);
  CHECK(sh_load(m, 0x7fff0000u - 8, 8, &v) == SH_OK);
  CHECK_U64(v, 42);
  CHECK(sh_load(m, 0x7fff0000u, 8, &v) == SH_ERR_ACCESS);

  /* untouched heap memory reads as zero without backing a page */
  CHECK(sh_load(m, 0x1800, 8, &v) == SH_OK);
  CHECK_U64(v, 0);
  sh_close(m);

  /* The flat model (cache disabled): cost.access per access, wherever it is. */
  sh_config_init(&c);
  c.cache.enabled = 0;
  c.cost.access = 3;
  CHECK(sh_open(&m, &c) == SH_OK);
  CHECK(sh_alloc(m, 32, 0, &a) == SH_OK);
  sh_stats_reset(m);
  CHECK(sh_load(m, 0x7fff0000u - 4096 * 8, 8, &v) == SH_OK);
  CHECK(sh_load(m, a, 8, &v) == SH_OK);
  CHECK(sh_write(m, a + 4, "0123456789", 10) == SH_OK);    /* 2 words touched */
  sh_stats_get(m, &st);
  CHECK_U64(st.cycles, 4 * 3);
  CHECK_U64(st.access_cycles[SH_COST_MEMORY], 3 * 3);
  CHECK_U64(st.access_cycles[SH_COST_STACK], 3);           /* an access into the stack */
  sh_close(m);

  /* a 32-bit machine keeps its addresses below 4 GiB */
  sh_config_init(&c);
  c.word = 4;
  c.heap.max = 0xffffffffull;
  CHECK(sh_open(&m, &c) == SH_ERR_ARG);
  sh_close(m);
  return check_done("memory");
}
