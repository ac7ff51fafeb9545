/* test_checker.c -- the checker through the C API: reports and their details, the
** quarantine, leak classification, sites from a host, and nothing recorded when check is off. */
#include "check.h"
#include "stackheap.h"

static int last_kind(sh_machine *m, sh_report *r) {
  int n = sh_report_count(m);
  if (n == 0 || sh_report_get(m, n - 1, r) != SH_OK) return -1;
  return (int)r->kind;
}

static sh_machine *checked(const char *policy, uint64_t quarantine) {
  sh_config c;
  sh_machine *m = NULL;
  sh_config_init(&c);
  c.check = 1;
  c.heap.policy = policy;
  c.quarantine = quarantine;
  CHECK(sh_open(&m, &c) == SH_OK);
  return m;
}

static int line = 0;
static const char *site(void *ud) {
  static char buf[32];
  snprintf(buf, sizeof buf, "%s:%d", (const char *)ud, line);
  return buf;
}

static void kinds_of_misuse(void) {
  sh_machine *m = checked("first_fit", 1 << 20);
  sh_report r;
  uint64_t p, q, v;
  sh_set_site_fn(m, site, "host.c");
  line = 10;
  CHECK(sh_alloc(m, 24, 0, &p) == SH_OK);
  line = 11;
  CHECK(sh_free(m, p) == SH_OK);
  line = 12;
  CHECK(sh_free(m, p) == SH_OK);              /* recorded, not an error */
  CHECK(last_kind(m, &r) == SH_E_DOUBLE_FREE);
  CHECK_U64(r.addr, p);
  CHECK_U64(r.block, p);
  CHECK_U64(r.block_size, 24);
  CHECK_HAS(r.site, "host.c:12");
  CHECK_HAS(r.alloc_site, "host.c:10");
  CHECK_HAS(r.free_site, "host.c:11");
  CHECK_U64(r.alloc_op, 0);
  CHECK_U64(r.free_op, 1);
  CHECK(r.explain != NULL);

  CHECK(sh_load(m, p, 8, &v) == SH_OK);
  CHECK(last_kind(m, &r) == SH_E_USE_AFTER_FREE);
  CHECK_U64(r.size, 8);

  CHECK(sh_alloc(m, 20, 0, &q) == SH_OK);
  CHECK(q != p);                               /* quarantined: not handed out again */
  CHECK(sh_store(m, q + 20, 1, 1) == SH_OK);
  CHECK(last_kind(m, &r) == SH_E_OUT_OF_BOUNDS);
  CHECK_HAS(r.message, "padding");
  CHECK(sh_load(m, q, 4, &v) == SH_OK);
  CHECK(last_kind(m, &r) == SH_E_UNINITIALISED);
  CHECK(sh_free(m, q + 4) == SH_OK);
  CHECK(last_kind(m, &r) == SH_E_INVALID_FREE);
  CHECK_U64(sh_report_count(m), 5);
  CHECK(sh_free(m, q) == SH_OK);
  sh_close(m);
}

static void stack_misuse(void) {
  sh_machine *m = checked("first_fit", 0);
  sh_slot_def d[2] = { { "x", "i64", 8, 8, SH_K_INT }, { "y", "i64", 8, 8, SH_K_INT } };
  sh_layout *l;
  sh_slot_info s;
  sh_report r;
  uint64_t x, v;
  CHECK(sh_layout_new(m, d, 2, &l) == SH_OK);
  CHECK(sh_call(m, "f", l, NULL) == SH_OK);
  CHECK(sh_slot(m, 0, 0, &s) == SH_OK);
  x = s.addr;
  sh_escape(m, x, 8);
  CHECK(sh_store(m, x, 1, 8) == SH_OK);
  CHECK(sh_store(m, x - 4, 1, 8) == SH_OK);    /* from y (not escaped) into x */
  CHECK(last_kind(m, &r) == SH_E_OUT_OF_BOUNDS);
  CHECK(sh_ret(m) == SH_OK);
  CHECK(sh_load(m, x, 8, &v) == SH_OK);
  CHECK(last_kind(m, &r) == SH_E_USE_AFTER_RETURN);
  CHECK_HAS(r.frame, "f");
  CHECK(r.frame_pop_op != SH_NO_OP);
  CHECK(sh_call(m, "g", l, NULL) == SH_OK);
  sh_own_access(m, 1);
  CHECK(sh_store(m, x, 2, 8) == SH_OK);        /* g's own slot, by name */
  sh_own_access(m, 0);
  CHECK_U64(sh_report_count(m), 2);
  CHECK(sh_store(m, x, 3, 8) == SH_OK);        /* through f's old pointer */
  CHECK(last_kind(m, &r) == SH_E_USE_AFTER_RETURN);
  CHECK_HAS(r.message, "dangling");
  CHECK(sh_free(m, x) == SH_OK);
  CHECK(last_kind(m, &r) == SH_E_INVALID_FREE);
  sh_close(m);
}

/* Memcheck's classes: a cycle is one definitely and one indirectly lost,
** a block only an interior pointer reaches is possibly lost. */
static void leaks(void) {
  sh_machine *m = checked("best_fit", 4096);
  sh_slot_def d[1] = { { "p", "*mut u8", 8, 8, SH_K_PTR } };
  sh_layout *l;
  sh_slot_info s;
  sh_report r;
  uint64_t a, b, c, e;
  int n;
  CHECK(sh_layout_new(m, d, 1, &l) == SH_OK);
  CHECK(sh_call(m, "main", l, NULL) == SH_OK);
  CHECK(sh_slot(m, 0, 0, &s) == SH_OK);
  CHECK(sh_alloc(m, 16, 0, &a) == SH_OK);
  CHECK(sh_alloc(m, 16, 0, &b) == SH_OK);
  CHECK(sh_store(m, a, b, 8) == SH_OK);
  CHECK(sh_store(m, b, a, 8) == SH_OK);
  CHECK(sh_alloc(m, 40, 0, &c) == SH_OK);
  CHECK(sh_alloc(m, 8, 0, &e) == SH_OK);       /* written, but no pointer to it */
  CHECK(sh_store(m, e, 0, 8) == SH_OK);
  CHECK(sh_store(m, s.addr, c + 16, 8) == SH_OK);
  CHECK(sh_leak_scan(m, &n) == SH_OK);
  CHECK_U64(n, 4);                             /* no sites: a record per block */
  CHECK(sh_leak_get(m, 0, &r) == SH_OK);
  CHECK_HAS(r.leak, "definitely");
  CHECK_U64(r.block, a);
  CHECK(sh_leak_get(m, 1, &r) == SH_OK);
  CHECK_HAS(r.leak, "definitely");
  CHECK_U64(r.block, e);
  CHECK(sh_leak_get(m, 2, &r) == SH_OK);
  CHECK_HAS(r.leak, "indirectly");
  CHECK_U64(r.block, b);
  CHECK(sh_leak_get(m, 3, &r) == SH_OK);
  CHECK_HAS(r.leak, "possibly");
  CHECK_U64(r.size, 40);
  CHECK(sh_leak_get(m, 4, &r) == SH_ERR_ARG);
  CHECK(sh_store(m, s.addr, c, 8) == SH_OK);   /* the start: reachable */
  CHECK(sh_leak_scan(m, &n) == SH_OK);
  CHECK_U64(n, 3);
  CHECK_U64(sh_report_count(m), 0);            /* scans are not recorded */
  sh_close(m);
}

/* Unchecked machines keep the old contract: bad frees are errors, nothing else is watched. */
static void unchecked(void) {
  sh_machine *m;
  uint64_t p, v;
  int n;
  CHECK(sh_open(&m, NULL) == SH_OK);
  CHECK(sh_machine_checked(m) == 0);
  CHECK(sh_alloc(m, 8, 0, &p) == SH_OK);
  CHECK(sh_load(m, p, 8, &v) == SH_OK);
  CHECK(sh_free(m, p) == SH_OK);
  CHECK(sh_free(m, p) == SH_ERR_FREE);
  CHECK(sh_load(m, p, 8, &v) == SH_OK);
  CHECK_U64(sh_report_count(m), 0);
  CHECK(sh_leak_scan(m, &n) == SH_ERR_ARG);
  CHECK_HAS(sh_errmsg(m), "without check");
  sh_close(m);
}

/* Every policy with the checker: quarantined blocks come back when the heap is full. */
static void policies(void) {
  const char *name;
  int i;
  for (i = 0; (name = sh_policy_name(i)) != NULL; i++) {
    sh_config c;
    sh_machine *m = NULL;
    uint64_t p[64];
    int k, rc = SH_OK;
    sh_config_init(&c);
    c.check = 1;
    c.heap.policy = name;
    c.heap.extend = 0;                         /* a fixed heap */
    c.quarantine = (uint64_t)1 << 30;          /* would hold every freed block */
    if (sh_open(&m, &c) != SH_OK) {          /* a policy that cannot be fixed in size */
      CHECK_HAS(sh_errmsg(m), name);
      sh_close(m);
      continue;
    }
    for (k = 0; k < 200 && rc == SH_OK; k++) {
      rc = sh_alloc(m, 100, 0, &p[k % 64]);
      if (rc == SH_OK && strcmp(name, "bump") != 0) {
        CHECK(sh_store(m, p[k % 64], (uint64_t)k, 8) == SH_OK);
        CHECK(sh_free(m, p[k % 64]) == SH_OK);
      }
    }
    if (strcmp(name, "bump") != 0) CHECK(rc == SH_OK);   /* the quarantine gave way */
    else CHECK(sh_heap_reset(m) == SH_OK);
    CHECK_U64(sh_report_count(m), 0);
    sh_close(m);
  }
}

int main(void) {
  kinds_of_misuse();
  stack_misuse();
  leaks();
  unchecked();
  policies();
  return check_done("checker");
}
