/* test_stack.c -- frames: placement below the caller, alignment, LIFO, overflow.
** The addresses checked here are the contract scenarios and pictures rely on. */
#include "check.h"
#include "stackheap.h"

static sh_layout *mk(sh_machine *m, const sh_slot_def *d, int n) {
  sh_layout *l = NULL;
  CHECK(sh_layout_new(m, d, n, &l) == SH_OK);
  return l;
}

int main(void) {
  sh_machine *m;
  sh_config c;
  sh_slot_def d[3] = {
    { "x", "i32", 4, 4, SH_K_INT },
    { "p", "*mut u8", 8, 8, SH_K_PTR },
    { "v", "[u8; 16]", 16, 1, SH_K_AGG },
  };
  sh_slot_def big = { "buf", "[u8; 4096]", 4096, 1, SH_K_AGG };
  sh_slot_def dup[2] = { { "a", "i8", 1, 1, SH_K_INT }, { "a", "i8", 1, 1, SH_K_INT } };
  sh_slot_def bad = { "a", "i8", 1, 3, SH_K_INT };
  sh_layout *l, *lb, *lx;
  sh_frame_info f0, f1;
  sh_slot_info s[3];
  uint64_t id1, id2, id3;
  int i, rc;
  sh_stats st;

  CHECK(sh_open(&m, NULL) == SH_OK);
  l = mk(m, d, 3);
  CHECK(sh_layout_new(m, dup, 2, &lx) == SH_ERR_ARG);
  CHECK_HAS(sh_errmsg(m), "duplicate slot name 'a'");
  CHECK(sh_layout_new(m, &bad, 1, &lx) == SH_ERR_ARG);
  CHECK_HAS(sh_errmsg(m), "alignment 3");

  CHECK(sh_ret(m) == SH_ERR_STACK);
  CHECK_HAS(sh_errmsg(m), "ret: the stack is empty");

  CHECK(sh_call(m, "main", l, &id1) == SH_OK);
  CHECK(sh_call(m, "f", l, &id2) == SH_OK);
  CHECK(id2 > id1);
  CHECK_U64(sh_depth(m), 2);
  CHECK(sh_frame(m, 0, &f0) == SH_OK);
  CHECK(sh_frame(m, 1, &f1) == SH_OK);
  CHECK(strcmp(f0.name, "f") == 0 && strcmp(f1.name, "main") == 0);
  CHECK_U64(f1.top, 0x7fff0000u);
  CHECK_U64(f1.fp, 0x7fff0000u - 16);
  CHECK_U64(f0.top, f1.sp);                    /* the callee starts where the caller ends */
  CHECK(f0.sp % 16 == 0 && f1.sp % 16 == 0);
  for (i = 0; i < 3; i++) CHECK(sh_slot(m, 0, i, &s[i]) == SH_OK);
  CHECK(s[0].addr % 4 == 0 && s[1].addr % 8 == 0);
  /* declaration order runs downward and slots never overlap */
  CHECK(s[0].addr + 4 <= f0.fp);
  CHECK(s[1].addr + 8 <= s[0].addr);
  CHECK(s[2].addr + 16 <= s[1].addr);
  CHECK(s[2].addr >= f0.sp);
  CHECK(s[0].addr < f1.sp + 0 || s[0].addr < f0.top);   /* below the caller */
  CHECK_U64(sh_slot_find(m, 0, "p", 1), 1);
  CHECK(sh_slot_find(m, 0, "nope", 4) == -1);
  CHECK(sh_frame_level(m, id1) == 1 && sh_frame_level(m, id2) == 0);

  /* LIFO: the caller cannot be closed while the callee is on top */
  CHECK(sh_ret_frame(m, id1) == SH_ERR_STACK);
  CHECK_HAS(sh_errmsg(m), "'main' is not on top");
  CHECK(sh_ret_frame(m, id2) == SH_OK);
  CHECK(sh_ret_frame(m, id2) == SH_ERR_STACK);
  CHECK_HAS(sh_errmsg(m), "already popped");
  CHECK(sh_frame_level(m, id2) == -1);
  CHECK(sh_call(m, "g", l, &id3) == SH_OK);
  CHECK(id3 != id2);
  CHECK(sh_ret(m) == SH_OK && sh_ret(m) == SH_OK);
  CHECK_U64(sh_depth(m), 0);
  sh_close(m);

  /* overflow names the limit and leaves the machine usable */
  sh_config_init(&c);
  c.stack_size = 16384;
  CHECK(sh_open(&m, &c) == SH_OK);
  lb = mk(m, &big, 1);
  for (i = 0; i < 10 && (rc = sh_call(m, "rec", lb, NULL)) == SH_OK; i++) {}
  CHECK(rc == SH_ERR_OVERFLOW);
  CHECK_U64(i, 3);
  CHECK_HAS(sh_errmsg(m), "stack overflow");
  CHECK_HAS(sh_errmsg(m), "16384");
  CHECK_U64(sh_depth(m), 3);
  sh_stats_get(m, &st);
  CHECK_U64(st.stack.pushes, 3);
  CHECK_U64(st.stack.peak_depth, 3);
  CHECK(st.stack.peak_bytes > 3 * 4096 && st.stack.peak_bytes <= 16384);
  CHECK(sh_ret(m) == SH_OK);
  CHECK(sh_call(m, "again", lb, NULL) == SH_OK);
  CHECK(st.cost[SH_COST_STACK] > 0);
  sh_close(m);

  /* word = 4: frame linkage is two 4-byte words */
  sh_config_init(&c);
  c.word = 4;
  CHECK(sh_open(&m, &c) == SH_OK);
  l = mk(m, d, 1);
  CHECK(sh_call(m, "main", l, NULL) == SH_OK);
  CHECK(sh_frame(m, 0, &f0) == SH_OK);
  CHECK_U64(f0.fp, 0x7fff0000u - 8);
  sh_close(m);

  sh_config_init(&c);
  c.word = 5;
  CHECK(sh_open(&m, &c) == SH_ERR_ARG);
  CHECK_HAS(sh_errmsg(m), "word must be 4 or 8");
  sh_close(m);
  return check_done("stack");
}
