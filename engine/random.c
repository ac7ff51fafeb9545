/* random.c -- Python's random number generator: MT19937 seeded by init_by_array, 53-bit doubles.
** Simulators written in Python (OSTEP's homework) draw from it; the same seed must give the same draws. */
#include <stdlib.h>
#include "stackheap.h"

#define N 624
#define M 397
#define MATRIX_A 0x9908b0dfu
#define UPPER 0x80000000u
#define LOWER 0x7fffffffu

struct sh_random {
  uint32_t mt[N];
  int i;                       /* next word of mt to temper; N: regenerate first */
};

int sh_random_open(sh_random **out) {
  *out = malloc(sizeof **out);
  if (*out == NULL) return SH_ERR_NOMEM;
  sh_random_seed(*out, 0);
  return SH_OK;
}

void sh_random_close(sh_random *r) {
  free(r);
}

static void init_genrand(sh_random *r, uint32_t s) {
  int i;
  r->mt[0] = s;
  for (i = 1; i < N; i++)
    r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
  r->i = N;
}

void sh_random_seed_array(sh_random *r, const uint32_t *key, size_t n) {
  static const uint32_t zero = 0;
  size_t i = 1, j = 0, k;
  if (n == 0) { key = &zero; n = 1; }  /* Python never passes an empty key: 0 is one word */
  init_genrand(r, 19650218u);
  for (k = N > n ? N : n; k > 0; k--) {
    r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1664525u)) + key[j] + (uint32_t)j;
    i++; j++;
    if (i >= N) { r->mt[0] = r->mt[N - 1]; i = 1; }
    if (j >= n) j = 0;
  }
  for (k = N - 1; k > 0; k--) {
    r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1566083941u)) - (uint32_t)i;
    i++;
    if (i >= N) { r->mt[0] = r->mt[N - 1]; i = 1; }
  }
  r->mt[0] = 0x80000000u;      /* a non-zero state whatever the key */
  r->i = N;
}

void sh_random_seed(sh_random *r, uint64_t n) {
  /* Python keys the generator with the integer's 32-bit words, low first,
  ** as few as hold it (one for 0). */
  uint32_t key[2] = { (uint32_t)n, (uint32_t)(n >> 32) };
  sh_random_seed_array(r, key, key[1] ? 2 : 1);
}

static void regenerate(sh_random *r) {
  int k;
  for (k = 0; k < N; k++) {
    uint32_t y = (r->mt[k] & UPPER) | (r->mt[(k + 1) % N] & LOWER);
    r->mt[k] = r->mt[(k + M) % N] ^ (y >> 1) ^ ((y & 1u) ? MATRIX_A : 0u);
  }
  r->i = 0;
}

uint32_t sh_random_u32(sh_random *r) {
  uint32_t y;
  if (r->i >= N) regenerate(r);
  y = r->mt[r->i++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

double sh_random_double(sh_random *r) {
  /* 27 high bits then 26: Python's random() is (a * 2^26 + b) / 2^53. */
  uint32_t a = sh_random_u32(r) >> 5, b = sh_random_u32(r) >> 6;
  return ((double)a * 67108864.0 + (double)b) * (1.0 / 9007199254740992.0);
}
