/* internal.h -- the engine's private structures and the calls between its files.
** Nothing here is part of the public API; prefixes name the owning file. */
#ifndef SH_INTERNAL_H
#define SH_INTERNAL_H

#include <string.h>
#include "stackheap.h"
#include "tree.h"
#include "trace.h"            /* stdio, and the trace names several engine files share */

#define SH_PAGE_BITS 12
#define SH_PAGE_SIZE ((uint64_t)1 << SH_PAGE_BITS)
#define SH_RECENT 4096              /* frees the heap remembers without the checker */

/* ---- space.c: sparse simulated memory ---- */
typedef struct sh_page {
  uint64_t no;                 /* page number */
  uint8_t *data;               /* SH_PAGE_SIZE bytes in a slab; NULL: an empty slot */
} sh_page;

typedef struct sh_space {
  sh_page *slots;              /* open-addressing table of pages, inline */
  size_t cap, count;
  int bits;                    /* cap == 1 << bits */
  uint64_t lastno;             /* the page touched last: most accesses repeat it */
  uint8_t *last;
  struct shP_slab *slabs;      /* where pages come from, newest first */
  size_t spare;                /* pages of the newest slab not handed out yet */
} sh_space;

void shP_init(sh_space *s);
void shP_free(sh_space *s);
/* Raw byte copies; no pricing, no region checks.  Unbacked pages read as 0. */
int shP_read(sh_space *s, uint64_t addr, void *buf, size_t n);
int shP_write(sh_space *s, uint64_t addr, const void *buf, size_t n);
uint64_t shP_get(sh_space *s, uint64_t addr, int width);
int shP_put(sh_space *s, uint64_t addr, uint64_t v, int width);
uint8_t *shP_span(sh_space *s, uint64_t addr, size_t n, size_t *len, int create);
/* Host bytes the pages and their table take. */
size_t shP_host_bytes(const sh_space *s);
/* The simulated machine is little-endian whatever the host is; on a
** little-endian host (the test folds to a constant) a word is one copy. */
static inline int shP_host_le(void) {
  const union { uint16_t u; uint8_t b[2]; } one = { 1 };
  return one.b[0];
}
static inline uint64_t shP_load_le(const uint8_t *b) {
  uint64_t v = 0;
  int i;
  if (shP_host_le()) { memcpy(&v, b, 8); return v; }
  for (i = 7; i >= 0; i--) v = v << 8 | b[i];
  return v;
}
static inline void shP_store_le(uint8_t *b, uint64_t v) {
  int i;
  if (shP_host_le()) { memcpy(b, &v, 8); return; }
  for (i = 0; i < 8; i++) { b[i] = (uint8_t)v; v >>= 8; }
}

/* ---- stack.c ---- */
struct sh_layout {
  struct sh_layout *next;      /* the machine's list, freed at close */
  int n;
  uint64_t maxalign;           /* the frame anchor is aligned to this */
  int64_t low;                 /* lowest slot offset from the anchor (<= 0) */
  sh_slot_info *slots;         /* addr holds the (negative) offset */
};

typedef struct sh_frame_rec {
  uint64_t id;
  const char *name;            /* interned in the machine */
  const sh_layout *layout;
  uint64_t top, fp, anchor, sp;
} sh_frame_rec;

typedef struct sh_stack {
  sh_frame_rec *frames;
  int depth, cap;
  uint64_t next_id;
  uint64_t limit_lo;           /* stack_top - stack_size */
  sh_layout *layouts;
  char **names;                /* interned frame names (open addressing) */
  size_t ncap, ncount;
} sh_stack;

void shS_init(sh_stack *s);
void shS_free(sh_stack *s);

/* ---- heap.c: the driver every policy goes through ---- */
typedef struct sh_heap sh_heap;

typedef struct sh_policy_ops {
  const char *name;
  /* Fill the policy's own defaults into the fields the user left unset
  ** (0 or -1) and refuse what it cannot honour; runs before the generic
  ** defaults. NULL when the generic ones suit. */
  int (*defaults)(sh_machine *m, sh_heap_config *c);
  int (*init)(sh_machine *m, void **state);
  /* Find room for `size` bytes aligned to `align`; report the whole block.
  ** SH_ERR_OOM when there is none (after trying to grow). */
  int (*alloc)(sh_machine *m, void *st, uint64_t size, uint64_t align,
               uint64_t *payload, uint64_t *block, uint64_t *bsize);
  int (*free)(sh_machine *m, void *st, uint64_t block, uint64_t bsize);
  /* Resize a used block in place so its payload holds `size` bytes: SH_OK
  ** and the block's new size, or SH_ERR_OOM when it must move. NULL: move. */
  int (*resize)(sh_machine *m, void *st, uint64_t block, uint64_t bsize,
                uint64_t payload, uint64_t size, uint64_t *nbsize);
  /* Free blocks in address order. */
  int (*walk_free)(sh_machine *m, void *st, sh_block_fn fn, void *ud);
  void (*free_summary)(sh_machine *m, void *st, uint64_t *bytes, uint64_t *blocks,
                       uint64_t *largest);
  /* Free everything at once (bump's arena); NULL when the policy cannot. */
  int (*reset)(sh_machine *m, void *st);
  void (*destroy)(void *st);
  /* Free blocks list by list, each in the order its search walks it (for
  ** pictures); NULL when the policy keeps no list. */
  int (*walk_lists)(sh_machine *m, void *st, sh_list_fn fn, void *ud);
} sh_policy_ops;

struct sh_heap {
  sh_heap_config cfg;          /* defaults resolved */
  const sh_policy_ops *ops;
  void *state;
  uint64_t brk;
  sh_tree live;                /* key block addr, size bsize, a payload, b requested */
  /* The last frees, direct-mapped by payload, for "freed at op N" when the
  ** checker is off (it keeps every block's history when on): a bounded table
  ** costs one cache line a free, where a map of every address ever freed grew
  ** without end and missed the cache on every operation. */
  struct shH_recent { uint64_t payload, op; } *recent;
};

int shH_init(sh_machine *m, const sh_heap_config *c);
void shH_free(sh_machine *m);
/* sbrk for policies: grow by n bytes; the old break in *old. */
int shH_grow(sh_machine *m, uint64_t n, uint64_t *old);
/* Price an allocator metadata access (and perform the store). */
void shH_meta_load(sh_machine *m, uint64_t addr, int width);
void shH_meta_store(sh_machine *m, uint64_t addr, uint64_t v, int width);
void shH_step(sh_machine *m, uint64_t n);     /* blocks examined */
int shH_in_heap(const sh_machine *m, uint64_t addr, uint64_t n);
uint64_t shH_brk(const sh_machine *m);

/* Free blocks kept in a tree keyed by address, as sh_blocks wants them. */
int shH_walk_free_tree(const sh_tree *t, sh_block_fn fn, void *ud);
/* How many live blocks start below addr (the implicit list walks them too). */
uint64_t shH_live_before(const sh_machine *m, uint64_t addr);
/* log2 of a power of two, or -1 */
int shH_log2(uint64_t x);

/* policy/external.c: an embedder's sh_policy_def behind the ops table.
** busy: SH_OK unless a callback is running (the heap cannot be re-entered);
** moves: whether it has its own realloc, which move calls. */
int shF_external_open(sh_machine *m, const sh_policy_def *d, const sh_policy_ops **ops);
int shF_external_busy(sh_machine *m, const char *op);
int shF_external_moves(const sh_machine *m);
int shF_external_move(sh_machine *m, uint64_t addr, uint64_t old, uint64_t size, uint64_t *np);

extern const sh_policy_ops shF_first_fit, shF_next_fit, shF_best_fit, shF_worst_fit,
  shF_segregated, shF_tlsf, shF_csapp_implicit, shF_buddy, shF_bump;

/* ---- check.c: the list of reports ---- */
typedef struct sh_reports {
  sh_report *list;
  int n, cap;
  uint64_t dropped;            /* reports past SHC_MAX, counted but not kept */
} sh_reports;
#define SHC_MAX 10000
void shC_free(sh_reports *r);
/* Record misuse; SH_OK when recording is the machine's choice, else the
** error code with the message set. */
int shC_misuse(sh_machine *m, sh_error_kind k, uint64_t addr, int code,
               const char *fmt, ...);
/* A report in two steps: begin fills the details the checker can find for
** addr (block, frame, sites); the caller writes m->msg; keep records it. */
void shC_begin(sh_machine *m, sh_report *r, sh_error_kind k, uint64_t addr, uint64_t size);
int shC_keep(sh_machine *m, sh_report *r);
/* Append a finished report (its message already malloc'd) to a list. */
int shC_push(sh_reports *l, const sh_report *r);
extern const char *const shC_explain[];      /* a paragraph per sh_error_kind */

/* ---- checker.c: shadow state, block history, quarantine, the hooks ---- */
/* The shadow byte of every simulated byte (0: nothing lives there). */
#define SHK_A 0x01u          /* addressable: a live payload byte or a live frame's byte */
#define SHK_D 0x02u          /* defined: written since it became addressable */
#define SHK_F 0x04u          /* a freed block's payload */
#define SHK_P 0x08u          /* a popped frame's byte */
#define SHK_E 0x10u          /* its address was taken (live) / leaked (popped) */
#define SHK_G 0x20u          /* live, but a popped frame leaked its address: dangling */
#define SHK_RING 256         /* popped frames remembered for reports */

typedef struct shK_hist {      /* one block's life; free_op SH_NO_OP while it lives */
  uint64_t payload, size;      /* payload SHK_EMPTY: an empty slot of the table */
  uint64_t alloc_op, free_op;
  uint32_t alloc_site, free_site;
} shK_hist;
#define SHK_EMPTY 0           /* no payload is 0 (the heap starts above the null page), and
                                 a table of it comes zeroed from calloc, untouched till used */

typedef struct shK_popped {    /* a popped frame, for use-after-return reports */
  uint64_t id, sp, top, anchor, push_op, pop_op;
  const char *name;
  const sh_layout *layout;
  uint32_t pop_site;
} shK_popped;

typedef struct sh_checker {
  sh_space shadow;             /* the stack's (and anything not heap): a byte a byte */
  uint8_t **hdir;              /* the heap's: 2 bits a byte, a page per 4 KiB from hlo */
  size_t hn;
  uint64_t hlo, hspan;         /* the heap's range [hlo, hlo + hspan) */
  /* Every live block's record and every freed one still remembered, in one
  ** open-addressing table keyed by payload: a payload holds one block at a
  ** time, so a free turns the live record into the freed one where it lies
  ** (one probe, the record in the slot: no second map, no index to follow). */
  shK_hist *blk;
  size_t bcap, bn;
  uint64_t nzero;              /* freed records of zero-size blocks: no shadow shows them */
  uint64_t *q;                 /* quarantine ring of (block, bsize) pairs */
  size_t qhead, qn, qcap;
  uint64_t qbytes, qlimit;
  shK_popped ring[SHK_RING];   /* the last popped frames, newest at nring - 1 */
  uint64_t nring;
  struct shK_push { uint64_t op; } *push;   /* per live frame, by depth */
  int cpush;
  char **sites;                /* interned "file:line"; sites[0] is none */
  uint32_t nsites, csites, *sitetab, lastsite;
  size_t sitecap;
  int own;
  struct shK_page { uint64_t no; uint8_t *data; } pages[4];  /* shadow pages used last */
  sh_reports leaks;            /* the last scan's records */
} sh_checker;

int shK_open(sh_machine *m);
void shK_close(sh_machine *m);
uint32_t shK_site(sh_machine *m);
const char *shK_site_name(const sh_machine *m, uint32_t site);
/* Accesses: SH_OK (after recording any misuse) or an error code. */
int shK_access(sh_machine *m, const char *op, uint64_t addr, uint64_t n, int write);
/* Heap events (heap.c). */
int shK_alloc(sh_machine *m, uint64_t p, uint64_t size, uint64_t b, uint64_t bs);
int shK_resize(sh_machine *m, uint64_t p, uint64_t size, uint64_t b, uint64_t bs);
void shK_copy(sh_machine *m, uint64_t dst, uint64_t src, uint64_t n);
/* A block the program freed: remembered, and held back from the policy
** while the quarantine has room; returns the policy's free's result. */
int shK_free(sh_machine *m, uint64_t p, uint64_t b, uint64_t bs, uint64_t op);
int shK_forget(sh_machine *m, uint64_t p, uint64_t b, uint64_t bs, uint64_t op);
/* Hand quarantined blocks to the policy until at most keep bytes remain. */
int shK_drain(sh_machine *m, uint64_t keep);
int shK_walk_quarantine(sh_machine *m, sh_block_fn fn, void *ud);
void shK_prefetch(sh_machine *m, uint64_t p);   /* an alloc or free of p is coming */
/* The live block whose payload starts at p, or NULL (valid until the next heap event). */
const shK_hist *shK_live(const sh_machine *m, uint64_t p);
/* The shadow byte (SHK_ bits) of the simulated byte at a. */
uint8_t shK_state(sh_machine *m, uint64_t a);
/* The freed block holding addr: its payload and the op that freed it. */
int shK_freed_payload(sh_machine *m, uint64_t addr, uint64_t *payload, uint64_t *op);
/* Stack events (stack.c). */
int shK_push(sh_machine *m, const sh_frame_rec *f);
void shK_pop(sh_machine *m, const sh_frame_rec *f);
/* Fill a report's details about the memory at addr (block or frame). */
void shK_describe(sh_machine *m, sh_report *r);

/* ---- machine.c ---- */
typedef struct sh_counts {
  uint64_t cost[SH_COST_N];
  uint64_t lat[SH_COST_N];     /* the part of cost[] that accesses' latencies make up */
  uint64_t loads, stores;
  uint64_t pushes, pops, peak_bytes;
  int peak_depth;
  uint64_t allocs, frees, reallocs, failed;
  uint64_t live_bytes, live_blocks, used_block_bytes;
  uint64_t peak_live_bytes, peak_heap_bytes, live_at_peak_heap;
  uint64_t searched, splits, coalesces, grows, meta_loads, meta_stores;
} sh_counts;

struct sh_machine {
  sh_config cfg;
  sh_space space;
  sh_stack stack;
  sh_heap heap;
  sh_counts c;
  sh_reports reports;
  sh_series_point *series;     /* config.series samples */
  size_t nseries, cseries;
  sh_cache *cache;             /* NULL: the flat model, every access cost.access */
  sh_checker *chk;             /* NULL unless check: then every event is shown to it */
  sh_site_fn site_fn;
  void *site_ud;
  uint64_t ops;                /* operations so far: the "op N" of messages */
  char msg[512];
};

/* Set the machine's message; returns code so callers can `return shM_err(...)`. */
int shM_err(sh_machine *m, int code, const char *fmt, ...);
static inline void shM_charge(sh_machine *m, int cat, uint64_t cycles) {
  m->c.cost[cat] += cycles;
}
/* A priced, region-checked access of n bytes: op names the operation in
** the message when the address is outside every region. */
int shM_access(sh_machine *m, const char *op, uint64_t addr, uint64_t n, int cat, int write);
/* Price one access (or a word-by-word copy) at its address, by category. */
void shM_price(sh_machine *m, uint64_t addr, uint64_t n, int cat, int write);
void shM_price_range(sh_machine *m, uint64_t addr, uint64_t n, int cat, int write);
/* n accesses whose addresses are not modelled, priced as first-level hits. */
void shM_price_hits(sh_machine *m, uint64_t n, int cat);
int shM_check(sh_machine *m, const char *op, uint64_t addr, uint64_t n);
/* How many word-sized accesses a copy of n bytes at addr makes. */
uint64_t shM_words(const sh_machine *m, uint64_t addr, uint64_t n);
/* Peak bookkeeping (and the series) after a heap operation. */
void shM_heap_changed(sh_machine *m);

#endif
