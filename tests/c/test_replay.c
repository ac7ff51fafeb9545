/* test_replay.c -- the replay's payload bytes: what they are, and that a changed byte is found where it is.
** The pattern is made and checked a word at a time; these hold it to its byte-by-byte definition. */
#include <stdlib.h>
#include "check.h"
#include "stackheap.h"
#include "trace.h"

/* The definition, written out apart from replay.c: byte i is byte i % 8 of
** the id's splitmix64 hash plus i / 8. */
static uint8_t expect(uint64_t id, uint64_t i) {
  uint64_t h = id + 0x9E3779B97F4A7C15ull;
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
  h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
  h ^= h >> 31;
  return (uint8_t)((h >> ((i & 7) * 8)) + (i >> 3));
}

static sh_op op(int kind, uint64_t id, uint64_t size, uint64_t line) {
  sh_op o;
  memset(&o, 0, sizeof o);
  o.kind = kind;
  o.id = id;
  o.size = size;
  o.line = line;
  return o;
}

static int payload_of(void *ud, const sh_block *b) {
  if (b->used) *(uint64_t *)ud = b->payload;
  return 0;
}

/* Alloc size bytes (then realloc to resize, when not 0), flip byte at and
** free: the one failed check names byte at, on the line of the free. */
static void scribbled(uint64_t size, uint64_t resize, uint64_t at) {
  sh_machine *m;
  sh_replay *r;
  sh_op o;
  uint64_t addr = 0, n = resize ? resize : size;
  uint8_t b;
  char want[200];
  CHECK(sh_open(&m, NULL) == SH_OK);
  CHECK(sh_replay_new(&r, m, "t", SH_REPLAY_CHECK) == SH_OK);
  o = op(SH_OP_ALLOC, 5, size, 1);
  CHECK(sh_replay_op(r, &o) == SH_OK);
  if (resize) {
    o = op(SH_OP_REALLOC, 5, resize, 2);
    CHECK(sh_replay_op(r, &o) == SH_OK);
  }
  CHECK_U64(sh_replay_error_count(r), 0);
  sh_blocks(m, payload_of, &addr);
  CHECK(addr != 0);
  sh_peek(m, addr + at, &b, 1);
  b ^= 0x40;
  sh_poke(m, addr + at, &b, 1);
  o = op(SH_OP_FREE, 5, 0, 3);
  CHECK(sh_replay_op(r, &o) == SH_OK);
  CHECK_U64(sh_replay_error_count(r), 1);
  snprintf(want, sizeof want, "t:3: the payload of id 5 (0x%llx, %llu bytes) changed before its "
           "free: byte %llu is not", (unsigned long long)addr, (unsigned long long)n,
           (unsigned long long)at);
  CHECK_HAS(sh_replay_error(r, 0), want);
  sh_replay_free(r);
  sh_close(m);
}

/* Ids in several of the live-id array's chunks and beyond it (the hash
** map's): each is live from its alloc to its free, and only then. */
static void live_ids(void) {
  static const uint64_t id[] = { 0, 1, 4095, 4096, 9000, 20000, 3, 1ull << 40, 4097 };
  size_t n = sizeof id / sizeof id[0], i;
  sh_machine *m;
  sh_replay *r;
  sh_op o;
  CHECK(sh_open(&m, NULL) == SH_OK);
  CHECK(sh_replay_new(&r, m, "t", SH_REPLAY_CHECK) == SH_OK);
  for (i = 0; i < 6000; i++) {                   /* live: ids up to 13024 are kept dense */
    o = op(SH_OP_ALLOC, 30000 + i, 8, 1);
    CHECK(sh_replay_op(r, &o) == SH_OK);
  }
  for (i = 0; i < n; i++) {
    o = op(SH_OP_ALLOC, id[i], 24 + i, i + 1);
    CHECK(sh_replay_op(r, &o) == SH_OK);
  }
  o = op(SH_OP_ALLOC, 4096, 8, 50);
  CHECK(sh_replay_op(r, &o) == SH_ERR_INPUT);
  CHECK_HAS(sh_replay_errmsg(r), "t:50: alloc of id 4096, which is still live");
  for (i = 0; i < n; i++) {
    o = op(SH_OP_FREE, id[n - 1 - i], 0, 100 + i);
    CHECK(sh_replay_op(r, &o) == SH_OK);
  }
  o = op(SH_OP_FREE, 9000, 0, 200);
  CHECK(sh_replay_op(r, &o) == SH_ERR_INPUT);
  CHECK_HAS(sh_replay_errmsg(r), "t:200: free of id 9000, which is not live");
  o = op(SH_OP_REALLOC, 1ull << 40, 8, 201);
  CHECK(sh_replay_op(r, &o) == SH_ERR_INPUT);
  o = op(SH_OP_ALLOC, 4095, 100, 202);            /* a freed id may come back */
  CHECK(sh_replay_op(r, &o) == SH_OK);
  CHECK_U64(sh_replay_error_count(r), 0);
  CHECK_U64(sh_replay_ops(r), 6000 + 2 * n + 1);
  sh_replay_free(r);
  sh_close(m);
}

int main(void) {
  static const uint64_t ids[] = { 0, 1, 7, 255, 0x123456789abcdefull, SH_ID_NULL - 1 };
  static const size_t lens[] = { 0, 1, 7, 8, 9, 15, 16, 17, 2047, 2048, 2049, 5000 };
  size_t i, k, j;
  uint8_t *buf = malloc(5000 + 8);
  int bad = 0;
  CHECK(buf != NULL);
  for (i = 0; i < sizeof ids / sizeof ids[0]; i++)
    for (k = 0; k < sizeof lens / sizeof lens[0]; k++) {
      memset(buf, 0xA5, 5000 + 8);
      shY_pattern(buf + 1, ids[i], lens[k]);       /* an odd address: no alignment assumed */
      for (j = 0; j < lens[k]; j++) bad += buf[1 + j] != expect(ids[i], j);
      bad += buf[0] != 0xA5 || buf[1 + lens[k]] != 0xA5;  /* nothing written outside */
    }
  CHECK(bad == 0);
  free(buf);
  /* the first and last bytes, both ends of a word, across pages */
  scribbled(100, 0, 0);
  scribbled(100, 0, 99);
  scribbled(100, 0, 7);
  scribbled(100, 0, 8);
  scribbled(9000, 0, 4099);
  scribbled(9000, 0, 8999);
  /* a grown block: the kept part verified, the new tail filled from byte 13 */
  scribbled(13, 5000, 12);
  scribbled(13, 5000, 13);
  scribbled(13, 5000, 4321);
  live_ids();
  return check_done("replay");
}
