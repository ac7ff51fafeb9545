/* check.h -- the smallest test harness that reports what failed and where.
** Each test program counts its checks and returns nonzero when any failed. */
#ifndef SH_CHECK_H
#define SH_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_run, check_failed;

#define CHECK(cond) do { check_run++; if (!(cond)) { check_failed++; \
  fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

#define CHECK_U64(a, b) do { unsigned long long a_ = (unsigned long long)(a), \
  b_ = (unsigned long long)(b); check_run++; if (a_ != b_) { check_failed++; \
  fprintf(stderr, "%s:%d: %s == %llu (0x%llx), expected %llu (0x%llx)\n", __FILE__, \
  __LINE__, #a, a_, a_, b_, b_); } } while (0)

#define CHECK_HAS(s, sub) do { const char *s_ = (s); check_run++; \
  if (s_ == NULL || strstr(s_, (sub)) == NULL) { check_failed++; \
  fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
  s_ ? s_ : "(null)", (sub)); } } while (0)

static int check_done(const char *name) {
  printf("%s: %d checks, %d failed\n", name, check_run, check_failed);
  return check_failed != 0;
}

#endif
