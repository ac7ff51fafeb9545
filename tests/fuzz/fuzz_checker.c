/* fuzz_checker.c -- libFuzzer target: random programs (calls, returns, allocs, frees, reallocs,
** loads and stores anywhere) on every policy with the checker on; it must report, never crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "stackheap.h"

typedef struct input { const uint8_t *p; size_t n; } input;

static unsigned byte(input *in) {
  if (in->n == 0) return 0;
  in->n--;
  return *in->p++;
}

static uint64_t num(input *in, int bytes) {
  uint64_t v = 0;
  int i;
  for (i = 0; i < bytes; i++) v = v << 8 | byte(in);
  return v;
}

#define NLIVE 32

/* An address worth trying: near a block it made (inside, just past, the
** header), near a slot, or anywhere at all. */
static uint64_t address(input *in, sh_machine *m, const uint64_t *live) {
  unsigned how = byte(in) % 5;
  int64_t off = (int8_t)byte(in);
  sh_slot_info s;
  switch (how) {
  case 0: case 1: return live[byte(in) % NLIVE] + (uint64_t)off;
  case 2:
    if (sh_depth(m) > 0 && sh_slot(m, (int)(byte(in) % (unsigned)sh_depth(m)), 0, &s) == SH_OK)
      return s.addr + (uint64_t)off;
    return 0x7fff0000u - (uint64_t)(byte(in) * 8);
  case 3: return 0x1000 + num(in, 2);
  default: return num(in, 8);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const sh_slot_def defs[3] = {
    { "p", "*mut u8", 8, 8, SH_K_PTR },
    { "buf", "[u8; 24]", 24, 1, SH_K_AGG },
    { "n", "i32", 4, 4, SH_K_INT },
  };
  input in = { data, size };
  sh_machine *m = NULL;
  sh_config c;
  sh_layout *l[3];
  uint64_t live[NLIVE] = { 0 }, v, a;
  uint8_t buf[64];
  int npol = 0, i, steps, nl;
  sh_config_init(&c);
  while (sh_policy_name(npol) != NULL) npol++;
  c.heap.policy = sh_policy_name((int)(byte(&in) % (unsigned)npol));
  c.word = byte(&in) & 1 ? 4 : 8;
  c.check = 1;
  c.quarantine = (uint64_t)(byte(&in) % 4) * 512;
  c.heap.max = 1 << 20;              /* a fuzzed gigabyte must fail, not fill memory */
  c.stack_size = 1 << 16;
  c.cache.enabled = byte(&in) & 1;
  if (sh_open(&m, &c) != SH_OK) {
    sh_close(m);
    return 0;
  }
  for (i = 0; i < 3; i++)
    if (sh_layout_new(m, defs, i + 1, &l[i]) != SH_OK) { sh_close(m); return 0; }
  for (steps = 0; steps < 400 && in.n > 0; steps++) {
    unsigned op = byte(&in) % 16, k = byte(&in) % NLIVE;
    switch (op) {
    case 0: case 1:
      if (sh_alloc(m, num(&in, 2) % 600, 0, &a) == SH_OK) live[k] = a;
      break;
    case 2:
      sh_free(m, live[k]);               /* may be a double free: reported */
      break;
    case 3:
      sh_free(m, address(&in, m, live));
      break;
    case 4:
      if (sh_realloc(m, live[k], num(&in, 2) % 800, &a) == SH_OK) live[k] = a;
      break;
    case 5: case 6:
      sh_load(m, address(&in, m, live), 1 << (byte(&in) % 4), &v);
      break;
    case 7: case 8:
      sh_store(m, address(&in, m, live), num(&in, 8), 1 << (byte(&in) % 4));
      break;
    case 9:
      a = address(&in, m, live);
      if (byte(&in) & 1) sh_read(m, a, buf, byte(&in) % sizeof buf);
      else sh_write(m, a, buf, byte(&in) % sizeof buf);
      break;
    case 10:
      sh_call(m, "f", l[k % 3], NULL);
      break;
    case 11:
      sh_ret(m);
      break;
    case 12: {
      sh_slot_info s;
      if (sh_depth(m) > 0 && sh_slot(m, 0, (int)(k % 3), &s) == SH_OK) {
        sh_escape(m, s.addr, s.size);
        sh_own_access(m, 1);
        sh_store(m, s.addr, live[byte(&in) % NLIVE], s.size < 8 ? (int)s.size : 8);
        sh_own_access(m, 0);
      }
      break;
    }
    case 13:
      a = address(&in, m, live);
      if (byte(&in) & 1) sh_sweep(m, a, byte(&in) % 16, (int8_t)byte(&in), 1 << (byte(&in) % 4),
                                  byte(&in) & 1, num(&in, 2), &v);
      else {
        uint64_t s2, n2, last;
        sh_chase(m, a, (int8_t)byte(&in), byte(&in) % 8, 0, 4, &s2, &n2, &last);
      }
      break;
    case 14:
      if (sh_leak_scan(m, &nl) == SH_OK) {
        sh_report r;
        for (i = 0; i < nl; i++)
          if (sh_leak_get(m, i, &r) != SH_OK || r.message == NULL || r.size < r.block_size) abort();
      }
      break;
    default:
      if (sh_heap_reset(m) == SH_OK) memset(live, 0, sizeof live);
      break;
    }
  }
  /* Every report must be whole: a kind, a message, an explanation. */
  for (i = 0; i < sh_report_count(m); i++) {
    sh_report r;
    if (sh_report_get(m, i, &r) != SH_OK || r.message == NULL || r.explain == NULL ||
        sh_error_kind_name(r.kind)[0] == '?')
      abort();
  }
  sh_close(m);
  return 0;
}
