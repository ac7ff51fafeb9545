/* fuzz_trace.c -- libFuzzer targets: one trace reader each (FUZZ_FORMAT), or a whole replay (FUZZ_REPLAY).
** Any input must end in operations or a message, never a crash, a hang or a leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "stackheap.h"

#ifndef FUZZ_FORMAT
#define FUZZ_FORMAT SH_TRACE_AUTO
#endif

static void quiet(void *ud, const char *msg) {
  (void)ud;
  (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sh_trace *t = NULL;
  sh_op op;
  uint64_t n = 0;
#ifdef FUZZ_REPLAY
  sh_machine *m = NULL;
  sh_replay *r = NULL;
  sh_config c;
  sh_config_init(&c);
  /* A small heap: a fuzzed size of a gigabyte must fail, not fill memory. */
  c.heap.max = 1 << 20;
  if (sh_open(&m, &c) != SH_OK || sh_replay_new(&r, m, "fuzz", SH_REPLAY_CHECK) != SH_OK) {
    sh_replay_free(r);
    sh_close(m);
    return 0;
  }
#endif
  if (sh_trace_open_mem(&t, "fuzz", data, size, (sh_trace_format)FUZZ_FORMAT) == SH_OK) {
    sh_trace_on_warning(t, quiet, NULL);
    while (sh_trace_next(t, &op) == SH_OK && op.kind != SH_OP_END) {
      /* A message must always be there to print after a failure. */
      n++;
#ifdef FUZZ_REPLAY
      if (sh_replay_op(r, &op) != SH_OK) break;
#endif
    }
  }
  if (strlen(sh_trace_errmsg(t)) == 0) abort();
  sh_trace_close(t);
#ifdef FUZZ_REPLAY
  sh_replay_free(r);
  sh_close(m);
#endif
  (void)n;
  return 0;
}
