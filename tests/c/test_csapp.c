/* test_csapp.c -- csapp_implicit against a plain implicit-list allocator written the textbook's way.
** The reference keeps its tags in a byte array and walks it; the policy must give the same addresses,
** heap sizes and blocks examined, operation by operation. */
#include <stdlib.h>
#include "check.h"
#include "stackheap.h"

#define HEAPMAX (1u << 22)
static unsigned char heap[HEAPMAX];
static uint32_t brk_, listp;         /* offsets from the heap's start */
static uint64_t walked;

static uint32_t get(uint32_t p) { uint32_t v; memcpy(&v, heap + p, 4); return v; }
static void put(uint32_t p, uint32_t v) { memcpy(heap + p, &v, 4); }
#define HDRP(bp) ((bp) - 4)
#define SIZE(p) (get(p) & ~7u)
#define ALLOC(p) (get(p) & 1u)
#define FTRP(bp) ((bp) + SIZE(HDRP(bp)) - 8)
#define NEXT(bp) ((bp) + SIZE((bp) - 4))
#define PREV(bp) ((bp) - SIZE((bp) - 8))

static uint32_t coalesce(uint32_t bp) {
  uint32_t pa = ALLOC(FTRP(PREV(bp))), na = ALLOC(HDRP(NEXT(bp))), size = SIZE(HDRP(bp));
  if (pa && na) return bp;
  if (pa) { size += SIZE(HDRP(NEXT(bp))); put(HDRP(bp), size); put(FTRP(bp), size); return bp; }
  if (na) {
    size += SIZE(HDRP(PREV(bp)));
    put(FTRP(bp), size); put(HDRP(PREV(bp)), size);
    return PREV(bp);
  }
  size += SIZE(HDRP(PREV(bp))) + SIZE(FTRP(NEXT(bp)));
  put(HDRP(PREV(bp)), size); put(FTRP(NEXT(bp)), size);
  return PREV(bp);
}

static uint32_t extend(uint32_t bytes) {
  uint32_t bp = brk_;
  brk_ += bytes;
  put(HDRP(bp), bytes); put(FTRP(bp), bytes);
  put(HDRP(NEXT(bp)), 1);
  return coalesce(bp);
}

static void ref_init(void) {
  brk_ = 16;
  put(0, 0); put(4, 8 | 1); put(8, 8 | 1); put(12, 1);
  listp = 8;
  extend(4096);
}

static void place(uint32_t bp, uint32_t asize) {
  uint32_t csize = SIZE(HDRP(bp));
  if (csize - asize >= 16) {
    put(HDRP(bp), asize | 1); put(FTRP(bp), asize | 1);
    bp = NEXT(bp);
    put(HDRP(bp), csize - asize); put(FTRP(bp), csize - asize);
  } else {
    put(HDRP(bp), csize | 1); put(FTRP(bp), csize | 1);
  }
}

static uint32_t ref_malloc(uint32_t size) {
  uint32_t asize = size <= 8 ? 16 : 8 * ((size + 8 + 7) / 8), bp;
  for (bp = listp; SIZE(HDRP(bp)) > 0; bp = NEXT(bp)) {
    walked++;
    if (!ALLOC(HDRP(bp)) && asize <= SIZE(HDRP(bp))) { place(bp, asize); return bp; }
  }
  bp = extend(asize > 4096 ? asize : 4096);
  place(bp, asize);
  return bp;
}

static void ref_free(uint32_t bp) {
  uint32_t size = SIZE(HDRP(bp));
  put(HDRP(bp), size); put(FTRP(bp), size);
  coalesce(bp);
}

int main(void) {
  sh_config c;
  sh_machine *m;
  uint64_t live[512], base = 0x1000;
  uint32_t rlive[512];
  int n = 0, k, same = 1;
  uint64_t x = 0x9E3779B97F4A7C15ull;
  sh_stats s;
  sh_config_init(&c);
  c.heap.policy = "csapp_implicit";
  CHECK(sh_open(&m, &c) == SH_OK);
  ref_init();
  for (k = 0; k < 20000 && same; k++) {
    uint64_t a = 0;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    if (n == 0 || (n < 512 && x % 100 < 55)) {
      uint32_t size = (uint32_t)((x >> 20) % 8 == 0 ? (x >> 32) % 5000 + 1 : (x >> 32) % 200 + 1);
      rlive[n] = ref_malloc(size);
      CHECK(sh_alloc(m, size, 0, &a) == SH_OK);
      live[n++] = a;
      if (a != base + rlive[n - 1]) same = 0;
    } else {
      int i = (int)((x >> 8) % (uint64_t)n);
      ref_free(rlive[i]);
      CHECK(sh_free(m, live[i]) == SH_OK);
      live[i] = live[--n];
      rlive[i] = rlive[n];
    }
    sh_stats_get(m, &s);
    if (s.heap.heap_bytes != brk_ || s.heap.searched != walked) same = 0;
    if (!same)
      fprintf(stderr, "op %d: address 0x%llx vs 0x%llx, heap %llu vs %u, searched %llu vs %llu\n", k,
              (unsigned long long)a, (unsigned long long)(base + (n ? rlive[n - 1] : 0)),
              (unsigned long long)s.heap.heap_bytes, brk_, (unsigned long long)s.heap.searched,
              (unsigned long long)walked);
  }
  CHECK(same);
  CHECK_U64(k, 20000);
  sh_close(m);
  return check_done("csapp");
}
