/* stackheap.h -- the public C API of libstackheap.
** A simulated machine: a stack of typed frames, a policy-driven heap, priced accesses. */
#ifndef STACKHEAP_H
#define STACKHEAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SH_VERSION_MAJOR 0
#define SH_VERSION_MINOR 1
#define SH_VERSION_PATCH 0

/* Result codes.  Every function that can fail returns one; the machine
** keeps a message describing the last failure (sh_errmsg). */
enum {
  SH_OK = 0,
  SH_ERR_ARG,       /* a bad argument: unknown option, bad width, bad size */
  SH_ERR_NOMEM,     /* the host ran out of memory */
  SH_ERR_OOM,       /* the simulated heap has no room and may not grow */
  SH_ERR_OVERFLOW,  /* the stack limit would be exceeded */
  SH_ERR_STACK,     /* stack discipline: empty stack, frame not on top, popped frame */
  SH_ERR_FREE,      /* double or invalid free / realloc of a non-block */
  SH_ERR_ACCESS,    /* an access outside every mapped region (a segfault) */
  SH_ERR_POLICY,    /* the heap policy answered something impossible */
  SH_ERR_CHECK      /* the checker found misuse and was asked to stop */
};

typedef struct sh_machine sh_machine;
typedef struct sh_layout sh_layout;
typedef struct sh_policy_def sh_policy_def;

/* ---- configuration ------------------------------------------------ */

/* Heap policy parameters; 0 (or NULL) means the policy's default. */
typedef struct sh_heap_config {
  const char *policy;   /* "first_fit" */
  uint64_t base;        /* first heap address (default 0x1000) */
  uint64_t size;        /* initial heap bytes (default 64 KiB) */
  uint64_t max;         /* growth limit in bytes (default 1 GiB) */
  int64_t extend;       /* growth step; 0 = never grow; <0 = default (4 KiB) */
  uint64_t align;       /* payload alignment, a power of two (default 2*word) */
  int64_t header;       /* bytes before each payload; <0 = default (word) */
  int64_t footer;       /* bytes after each payload; <0 = default (0) */
  uint64_t min_block;   /* smallest block (default: header+footer+2 words, aligned) */
  uint64_t split_min;   /* do not split off a remainder smaller than this */
  const char *order;    /* free-list order: "address" (default), "lifo", "fifo",
                           "size_asc", "size_desc" */
  const char *coalesce; /* "immediate" (default), "deferred" (when a search
                           fails), "none" */
  const char *fit;      /* segregated, within a class: "first" (default), "best" */
  const uint64_t *classes;  /* segregated: ascending upper bounds of the size
                               classes (block sizes); NULL = powers of two */
  int nclasses;
  int min_order, max_order; /* buddy: smallest and largest block, log2 (0 = default) */
  int sli;              /* tlsf: second-level index bits, 1..6 (0 = default 5) */
  /* A policy the embedder supplies (see "external policies" below); when
  ** set, `policy` is ignored.  The struct is copied by sh_open. */
  const sh_policy_def *external;
} sh_heap_config;

/* Per-operation prices of the constant cost model (cycles).  A later
** cache model replaces `access` by the latency of the level that hits. */
typedef struct sh_cost_config {
  uint32_t access;      /* one memory access (load or store of any width) */
  uint32_t push;        /* the instructions of a call besides its two stores */
  uint32_t pop;         /* the instructions of a return besides its two loads */
  uint32_t alloc;       /* entering and leaving the allocator */
  uint32_t free;        /* entering and leaving free */
  uint32_t step;        /* examining one block while searching */
} sh_cost_config;

/* ---- cache hierarchy configuration (API.md section 4; cache.c) ---- */

#define SH_CACHE_MAX_LEVELS 8

typedef enum sh_replace { SH_REPLACE_LRU, SH_REPLACE_FIFO, SH_REPLACE_RANDOM } sh_replace;

typedef enum sh_write_policy {
  SH_WRITE_BACK,        /* a store marks the line dirty; dirty victims go to the next level */
  SH_WRITE_THROUGH,     /* a store goes on down to memory; no line is ever dirty */
  SH_WRITE_NONE         /* stores behave as loads, no dirty state (cachegrind's model) */
} sh_write_policy;

/* What a level holds: both, or one side of a split first level. */
typedef enum sh_level_kind { SH_LEVEL_UNIFIED, SH_LEVEL_INSTR, SH_LEVEL_DATA } sh_level_kind;

typedef struct sh_cache_level {
  char name[16];        /* "L1", "I1", ...; stats are reported under it */
  uint64_t size;        /* bytes: line * ways * sets */
  uint32_t ways;        /* 1 = direct mapped, size/line = fully associative */
  uint32_t line;        /* bytes, a power of two */
  uint32_t latency;     /* cycles of an access this level serves */
  sh_replace replace;
  sh_level_kind kind;
} sh_cache_level;

typedef struct sh_cache_config {
  int enabled;          /* 0: no cache, every access costs cost.access */
  int nlevels;          /* levels[0] is nearest the processor */
  sh_cache_level levels[SH_CACHE_MAX_LEVELS];
  uint32_t memory;      /* cycles of an access main memory serves */
  sh_write_policy write;
  int allocate;         /* write-allocate: a store that misses brings the line in */
} sh_cache_config;

/* "default": 32 KiB 8-way L1 (4 cycles), 1 MiB 16-way L2 (14), 64-byte
** lines, LRU, memory 200, write-back, write-allocate. */
void sh_cache_config_default(sh_cache_config *c);

typedef struct sh_config {
  int word;             /* pointer size: 4 or 8 (default 8) */
  uint64_t stack_size;  /* stack limit in bytes (default 8 MiB) */
  uint64_t stack_top;   /* one past the highest stack byte (default 0x7fff0000) */
  sh_heap_config heap;
  sh_cost_config cost;
  sh_cache_config cache;  /* enabled with the default hierarchy by sh_config_init */
  int check;            /* 0: misuse is an error code; 1: record it and go on,
                           watching every access (the checker, section 5 of API.md) */
  uint64_t quarantine;  /* with check: freed blocks are kept from the policy until
                           this many freed bytes are newer (default 1 MiB) */
  uint64_t seed;
  uint64_t series;      /* sample heap size and live bytes every this many heap
                           operations (0: no series) */
} sh_config;

/* Fill a config with the defaults. */
void sh_config_init(sh_config *c);

const char *sh_version(void);

/* ---- the machine -------------------------------------------------- */

/* The built-in heap policies' names, i = 0, 1, ...; NULL past the last. */
const char *sh_policy_name(int i);

/* NULL config means every default.  On failure *out may still hold a
** machine whose sh_errmsg explains why; pass it to sh_close. */
int sh_open(sh_machine **out, const sh_config *c);
void sh_close(sh_machine *m);
const char *sh_errmsg(const sh_machine *m);
int sh_word(const sh_machine *m);
uint64_t sh_opcount(const sh_machine *m);  /* operations performed so far */

/* ---- frames ------------------------------------------------------- */

/* What a slot holds: enough for a host to read and write it as a value. */
typedef enum sh_kind {
  SH_K_INT,     /* signed integer of size 1, 2, 4, 8, 16 */
  SH_K_UINT,    /* unsigned integer */
  SH_K_FLOAT,   /* IEEE float of size 4 or 8 */
  SH_K_BOOL,
  SH_K_CHAR,    /* a Unicode scalar, 4 bytes */
  SH_K_PTR,     /* a thin pointer, word bytes */
  SH_K_AGG      /* anything else (arrays, structs, fat pointers): bytes */
} sh_kind;

typedef struct sh_slot_def {
  const char *name;
  const char *type;     /* the type as written, for pictures and messages */
  uint64_t size, align;
  sh_kind kind;
} sh_slot_def;

/* A layout is the compiled shape of a frame: slot offsets relative to the
** frame pointer.  Layouts belong to the machine and live until sh_close. */
int sh_layout_new(sh_machine *m, const sh_slot_def *slots, int n, sh_layout **out);
int sh_layout_count(const sh_layout *l);

/* Push a frame: a return address and the saved frame pointer, then the
** slots below them.  The frame's id is unique for the machine's life. */
int sh_call(sh_machine *m, const char *name, const sh_layout *l, uint64_t *id);
int sh_ret(sh_machine *m);                 /* pop the top frame */
int sh_ret_frame(sh_machine *m, uint64_t id);  /* pop, only if id is on top */
int sh_depth(const sh_machine *m);

typedef struct sh_frame_info {
  uint64_t id;
  const char *name;
  uint64_t fp;          /* frame pointer: where the saved fp is stored */
  uint64_t sp;          /* lowest address of the frame */
  uint64_t top;         /* one past the highest byte (the caller's sp) */
  int nslots;
} sh_frame_info;

typedef struct sh_slot_info {
  const char *name, *type;
  uint64_t addr, size, align;
  sh_kind kind;
} sh_slot_info;

/* Frames are numbered from the top: 0 is the innermost. */
int sh_frame(const sh_machine *m, int level, sh_frame_info *out);
/* The level of frame id, or -1 when it was popped. */
int sh_frame_level(const sh_machine *m, uint64_t id);
int sh_slot(const sh_machine *m, int level, int i, sh_slot_info *out);
/* The layout frame `level` was pushed with (NULL when there is none). */
const sh_layout *sh_frame_layout(const sh_machine *m, int level);
/* Index of a slot by name in frame `level`, or -1. */
int sh_slot_find(const sh_machine *m, int level, const char *name, size_t len);

/* ---- heap --------------------------------------------------------- */

/* align 0 means the policy's alignment.  SH_ERR_OOM leaves the heap as it was. */
int sh_alloc(sh_machine *m, uint64_t size, uint64_t align, uint64_t *addr);
int sh_free(sh_machine *m, uint64_t addr);
/* realloc(0, n) allocates; realloc(p, 0) frees and yields 0.  On failure
** the old block is untouched. */
int sh_realloc(sh_machine *m, uint64_t addr, uint64_t size, uint64_t *out);

typedef struct sh_block {
  uint64_t addr, size;        /* the whole block, [addr, addr+size) */
  int used;
  uint64_t payload, requested; /* used blocks only */
} sh_block;

/* The heap's shape, walked on demand: bucket k holds sizes in [2^k, 2^(k+1)).
** free_*: free blocks by size; used/waste: used blocks by requested size,
** and the bytes their blocks hold beyond the request (headers included). */
typedef struct sh_heap_profile {
  uint64_t free_count[64], free_bytes[64], used_count[64], waste[64];
} sh_heap_profile;
int sh_heap_profile_get(sh_machine *m, sh_heap_profile *out);

/* The sampled series (config.series): point i is after heap operation op[i]. */
typedef struct sh_series_point { uint64_t op, heap_bytes, live_bytes; } sh_series_point;
const sh_series_point *sh_series(const sh_machine *m, size_t *n);

/* Free every block at once: the bump policy's arena reset.  SH_ERR_ARG for
** a policy that cannot. */
int sh_heap_reset(sh_machine *m);

/* Calls fn for every block in address order; a nonzero return stops. */
typedef int (*sh_block_fn)(void *ud, const sh_block *b);
int sh_blocks(sh_machine *m, sh_block_fn fn, void *ud);

/* ---- external policies: an allocator the embedder writes ------------
** The engine calls these for every allocation; the heap driver checks
** each answer (inside the heap, aligned, overlapping no live block) with
** its own record, so a wrong one is an SH_ERR_POLICY naming the operation,
** the request and the answer.  A block is the payload itself: the
** policy's headers live in the heap outside the payloads it hands out.
** A callback returns SH_OK, SH_ERR_OOM (no room: alloc/realloc yield
** nothing and change nothing), or another code after sh_policy_fail. */
struct sh_policy_def {
  const char *name;     /* for messages: "alloc: policy 'NAME' answered ..." */
  void *ud;             /* passed to every callback */
  int (*init)(void *ud, sh_machine *m);      /* NULL: nothing to set up */
  int (*alloc)(void *ud, sh_machine *m, uint64_t size, uint64_t align, uint64_t *addr);
  int (*free)(void *ud, sh_machine *m, uint64_t addr, uint64_t size);
  /* NULL: the driver allocates, copies and frees.  Otherwise the policy
  ** moves the bytes itself (sh_policy_copy) and frees the old block. */
  int (*realloc)(void *ud, sh_machine *m, uint64_t addr, uint64_t old_size, uint64_t size,
                 uint64_t *out);
  /* Called exactly once: by sh_close, or by sh_open when it fails. */
  void (*destroy)(void *ud);
};

/* The heap as a policy sees it; valid only inside the callbacks above
** (SH_ERR_ARG elsewhere or for a built-in policy).  An external policy
** starts with an empty heap (size 0 unless configured) and grows it. */
/* Grow the heap by n bytes, *old the previous break; SH_ERR_OOM past max. */
int sh_policy_sbrk(sh_machine *m, uint64_t n, uint64_t *old);
/* Metadata loads and stores of 1, 2, 4 or 8 bytes inside [base, break):
** priced by the cache model as the allocator's traffic. */
int sh_policy_load(sh_machine *m, uint64_t addr, int width, uint64_t *v);
int sh_policy_store(sh_machine *m, uint64_t addr, uint64_t v, int width);
/* Copy n bytes inside the heap (realloc's move), priced a word at a time. */
int sh_policy_copy(sh_machine *m, uint64_t dst, uint64_t src, uint64_t n);
/* Count n blocks examined: a step and a header read each. */
void sh_policy_step(sh_machine *m, uint64_t n);
/* The heap: [base, brk) now, growing up to base + max; and the resolved
** config (alignment, header, ...) the machine was opened with. */
void sh_policy_bounds(const sh_machine *m, uint64_t *base, uint64_t *brk, uint64_t *max);
const sh_heap_config *sh_policy_config(const sh_machine *m);
/* Set the machine's message; returns SH_ERR_POLICY for the callback to return. */
int sh_policy_fail(sh_machine *m, const char *fmt, ...);
/* The policy's free lists as its searches walk them: fn gets each free block
** with the index of its list (a size class; 0 when there is one list), list
** by list, each in list order.  SH_ERR_ARG when the policy keeps no list
** (bump, the implicit list). */
typedef int (*sh_list_fn)(void *ud, int list, const sh_block *b);
int sh_free_lists(sh_machine *m, sh_list_fn fn, void *ud);

/* ---- memory ------------------------------------------------------- */

/* Little-endian integers of width 1, 2, 4 or 8. */
int sh_load(sh_machine *m, uint64_t addr, int width, uint64_t *v);
int sh_store(sh_machine *m, uint64_t addr, uint64_t v, int width);
int sh_read(sh_machine *m, uint64_t addr, void *buf, size_t n);
int sh_write(sh_machine *m, uint64_t addr, const void *buf, size_t n);
/* For observers (reports, debuggers): read without pricing, counting or
** region checks; unbacked memory reads as zero. */
void sh_peek(sh_machine *m, uint64_t addr, void *buf, size_t n);
/* The same for writing: a harness filling or checking payloads (a replay's
** integrity check) without it counting as the program's traffic. */
void sh_poke(sh_machine *m, uint64_t addr, const void *buf, size_t n);

/* ---- measurement -------------------------------------------------- */

enum { SH_COST_STACK, SH_COST_MEMORY, SH_COST_ALLOC, SH_COST_META, SH_COST_N };

typedef struct sh_stats {
  uint64_t cycles;
  uint64_t cost[SH_COST_N];   /* cycles by category; they sum to cycles */
  uint64_t access_cycles[SH_COST_N];  /* the part of cost[] that memory accesses took */
  uint64_t loads, stores;     /* program accesses (not allocator metadata) */
  struct {
    uint64_t pushes, pops, peak_bytes;
    int depth, peak_depth;
  } stack;
  struct {
    uint64_t allocs, frees, reallocs, failed;
    uint64_t live_bytes, live_blocks, heap_bytes;
    uint64_t peak_live_bytes, peak_heap_bytes, live_at_peak_heap;
    uint64_t searched, splits, coalesces, grows;
    uint64_t meta_loads, meta_stores;
    uint64_t used_block_bytes;        /* sum of used block sizes */
    uint64_t free_bytes, free_blocks, largest_free;
  } heap;
} sh_stats;

void sh_stats_get(sh_machine *m, sh_stats *out);
/* Counters restart from zero; peaks restart from the present state. */
void sh_stats_reset(sh_machine *m);
const char *sh_cost_name(int category);

/* ---- checker ------------------------------------------------------ */

typedef enum sh_error_kind {
  SH_E_DOUBLE_FREE, SH_E_INVALID_FREE, SH_E_USE_AFTER_FREE, SH_E_OUT_OF_BOUNDS,
  SH_E_UNINITIALISED, SH_E_USE_AFTER_RETURN, SH_E_LEAK
} sh_error_kind;

/* No operation: a report field that does not apply (a live block's free_op). */
#define SH_NO_OP UINT64_MAX

typedef struct sh_report {
  sh_error_kind kind;
  uint64_t addr, op;
  const char *message;      /* one line: what happened, where, to which block */
  /* The details (0, SH_NO_OP or NULL when they do not apply). */
  uint64_t size;            /* bytes of the access; a leak: bytes lost */
  const char *site;         /* where the operation was asked for ("file:line") */
  const char *explain;      /* a paragraph in plain words: why it matters */
  uint64_t block, block_size;   /* the block involved: payload and requested size */
  uint64_t alloc_op, free_op;   /* its operations */
  const char *alloc_site, *free_site;
  const char *frame;        /* use_after_return: the frame that owned the bytes */
  uint64_t frame_pop_op;
  const char *pop_site;
  const char *leak;         /* "definitely", "indirectly", "possibly" (Memcheck's words) */
  uint64_t blocks;          /* a leak: how many blocks this record covers */
} sh_report;

int sh_report_count(const sh_machine *m);
int sh_report_get(const sh_machine *m, int i, sh_report *out);
const char *sh_error_kind_name(sh_error_kind k);

/* Where operations come from: a host (the Lua binding) names the line of
** its script that asked for the operation running now.  Called only when
** the checker needs it (block history, reports); the string is copied. */
typedef const char *(*sh_site_fn)(void *ud);
void sh_set_site_fn(sh_machine *m, sh_site_fn fn, void *ud);
/* 1 when the machine was made with check on. */
int sh_machine_checked(const sh_machine *m);

/* A frame's own accesses to its slots by name (frame.x = 1) are not made
** through a pointer: between sh_own_access(m, 1) and (m, 0) the checker
** does not ask whether the address was taken. */
void sh_own_access(sh_machine *m, int own);
/* The program took the address of n bytes of a live frame (&x): accesses
** through it are legitimate while the frame lives, dangling after. */
void sh_escape(sh_machine *m, uint64_t addr, uint64_t n);

/* Scan for leaks now, as Memcheck does at exit: roots are the live frames'
** pointer slots (aggregates scanned word by word), heap blocks are scanned
** for aligned words pointing into live blocks.  *n gets the number of leak
** records (by kind and allocation site), read with sh_leak_get. */
int sh_leak_scan(sh_machine *m, int *n);
int sh_leak_get(const sh_machine *m, int i, sh_report *out);

/* ---- cache hierarchy (cache.c, cache_trace.c) ---------------------- */

/* A hierarchy on its own, for hosts that price their own accesses; a
** machine owns one (sh_machine_cache) unless its config disabled it. */
typedef struct sh_cache sh_cache;

typedef enum sh_access_kind { SH_READ, SH_WRITE, SH_FETCH, SH_ACCESS_KINDS } sh_access_kind;

/* err (errlen bytes) receives the reason when the config is refused. */
int sh_cache_open(sh_cache **out, const sh_cache_config *c, uint64_t seed,
                  char *err, size_t errlen);
void sh_cache_close(sh_cache *c);
/* One access of size bytes; cat is an SH_COST_* category for the
** statistics.  Returns the latency of the level that served it. */
uint32_t sh_cache_access(sh_cache *c, uint64_t addr, uint32_t size, sh_access_kind k, int cat);
/* count accesses at addr, addr+stride, ...; returns their summed latency. */
uint64_t sh_cache_sweep(sh_cache *c, uint64_t addr, uint64_t count, int64_t stride,
                        uint32_t width, sh_access_kind k, int cat);
/* n accesses assumed to hit the first data level (for charges without an
** address, like the headers a logarithmic search stands in for). */
uint64_t sh_cache_assume_hits(sh_cache *c, uint64_t n, int cat);
void sh_cache_invalidate(sh_cache *c);   /* empty every level (dirty lines are dropped) */
void sh_cache_reset_stats(sh_cache *c);

typedef struct sh_cache_stats {
  const char *name;
  uint32_t latency;
  uint64_t accesses, hits, misses, evictions, writebacks;
  uint64_t kind_accesses[SH_ACCESS_KINDS], kind_misses[SH_ACCESS_KINDS];
  uint64_t cat_accesses[SH_COST_N], cat_misses[SH_COST_N];
} sh_cache_stats;

int sh_cache_levels(const sh_cache *c);
/* level == sh_cache_levels(c) is main memory: accesses are the reads and
** writes that reached it, all of them "hits". */
int sh_cache_stats_get(const sh_cache *c, int level, sh_cache_stats *out);
/* The lines level i holds now: fn gets each line's first address and
** whether it is dirty, set by set (a set's ways newest first); a nonzero
** return stops.  SH_ERR_ARG for a level that does not exist. */
typedef int (*sh_line_fn)(void *ud, uint64_t addr, int dirty);
int sh_cache_lines(const sh_cache *c, int level, sh_line_fn fn, void *ud);
/* The machine's hierarchy, or NULL when its config disabled the cache. */
sh_cache *sh_machine_cache(sh_machine *m);

/* ---- batch accesses (batch.c): many program accesses in one call ---- */

/* count loads (or stores of `value` when store != 0) of width bytes at
** addr + i*stride; *sum gets the loaded values' sum (mod 2^64).  The whole
** span is checked first: a bad one performs nothing. */
int sh_sweep(sh_machine *m, uint64_t addr, uint64_t count, int64_t stride, int width,
             int store, uint64_t value, uint64_t *sum);
/* Follow a linked list: at each node load a word-sized next pointer at
** node + next_off, and (when width != 0) a value of width bytes at node +
** val_off first.  Stops at a null pointer or after count nodes. */
int sh_chase(sh_machine *m, uint64_t addr, int64_t next_off, uint64_t count,
             int64_t val_off, int width, uint64_t *sum, uint64_t *visited, uint64_t *last);

/* ---- address traces (cache_trace.c): lackey and Dinero din ---------- */

typedef enum sh_atrace_format { SH_ATRACE_LACKEY, SH_ATRACE_DIN } sh_atrace_format;

typedef struct sh_atrace_opts {
  sh_atrace_format format;
  uint32_t clamp;       /* nonzero: access sizes above it are cut to it (cachegrind) */
  int csim;             /* the cache lab's rules: sizes ignored, M = load + store,
                        ** I lines skipped; counts into hits/misses/evictions */
  /* Called per access in csim mode with its verdicts ("L 10,1 miss hit"). */
  void (*verbose)(void *ud, const char *line);
  void *ud;
} sh_atrace_opts;

typedef struct sh_atrace_result {
  uint64_t lines, accesses;
  uint64_t cycles;                      /* the accesses' latencies, summed */
  uint64_t hits, misses, evictions;     /* csim mode */
  char error[320];                      /* "FILE:LINE: what is wrong" */
} sh_atrace_result;

/* Streams the file through the hierarchy.  SH_ERR_ARG for bad input (the
** message names the file and line), SH_ERR_NOMEM, or SH_OK. */
int sh_cache_trace(sh_cache *c, const char *path, const sh_atrace_opts *o, sh_atrace_result *r);

/* ---- random numbers (random.c): Python's generator -------------------- */

/* MT19937 as CPython's random module runs it, so a simulator ported from
** Python (OSTEP's malloc.py) draws the same numbers from the same seed. */
typedef struct sh_random sh_random;

int sh_random_open(sh_random **out);      /* seeded as sh_random_seed(r, 0); SH_ERR_NOMEM */
void sh_random_close(sh_random *r);
/* random.seed(key) for a key of n 32-bit words, lowest first (init_by_array);
** Python seeds with abs(int) cut into as few words as hold it, 0 being one. */
void sh_random_seed_array(sh_random *r, const uint32_t *key, size_t n);
void sh_random_seed(sh_random *r, uint64_t n);   /* random.seed(n) for 0 <= n < 2^64 */
uint32_t sh_random_u32(sh_random *r);            /* random.getrandbits(32) */
double sh_random_double(sh_random *r);           /* random.random(): 53 bits in [0, 1) */

/* ==== traces and replay ============================================
** Readers of allocation traces (glibc mtrace, malloc-lab .rep, stackheap
** JSONL, and the parsed binary form), writers, and a replayer that applies
** a trace's operations to a machine with the malloc-lab driver's checks.
** A reader needs no machine: it turns bytes into operations, streaming. */

/* Bad input: a trace line that is not what its format allows.  The
** message names the file, the line and what was expected. */
#define SH_ERR_INPUT 32

typedef enum sh_trace_format {
  SH_TRACE_AUTO = 0,    /* tell by the first bytes */
  SH_TRACE_MTRACE,      /* glibc's mtrace(3) log */
  SH_TRACE_REP,         /* malloc-lab .rep (both header forms) */
  SH_TRACE_JSONL,       /* one JSON object per line: {"op":"alloc","id":1,"size":24} */
  SH_TRACE_BIN          /* stackheap's compact parsed form */
} sh_trace_format;

typedef enum sh_op_kind {
  SH_OP_END = 0,        /* the trace has no more operations */
  SH_OP_ALLOC,          /* id = malloc(size) */
  SH_OP_FREE,           /* free(id); id SH_ID_NULL is free(NULL) */
  SH_OP_REALLOC         /* id = realloc(id, size) */
} sh_op_kind;

#define SH_ID_NULL UINT64_MAX

typedef struct sh_op {
  sh_op_kind kind;
  uint64_t id, size;
  uint64_t line;        /* where it was read, for messages */
} sh_op;

typedef struct sh_trace sh_trace;
typedef struct sh_trace_writer sh_trace_writer;
typedef void (*sh_warn_fn)(void *ud, const char *msg);

/* The format's name ("mtrace", "rep", "jsonl", "bin", "auto"), and back
** (-1 for an unknown name). */
const char *sh_trace_format_name(sh_trace_format f);
int sh_trace_format_parse(const char *name);

/* Open a trace file ("-" is standard input).  On failure *out may still
** hold a trace whose sh_trace_errmsg says why; pass it to sh_trace_close. */
int sh_trace_open(sh_trace **out, const char *path, sh_trace_format f);
/* The same over bytes in memory (not copied: they must outlive the trace);
** name is used in messages. */
int sh_trace_open_mem(sh_trace **out, const char *name, const void *data, size_t n,
                      sh_trace_format f);
/* Open path through a cache of its parsed form at cache_path: read the
** cache when it was made from the file as it is now, else parse the text
** and write the cache as a side effect (it appears when the end is read). */
int sh_trace_open_cached(sh_trace **out, const char *path, const char *cache_path,
                         sh_trace_format f);
/* The next operation; op->kind is SH_OP_END at the end.  SH_ERR_INPUT
** (and the same again on every later call) for bad input. */
int sh_trace_next(sh_trace *t, sh_op *op);
const char *sh_trace_errmsg(const sh_trace *t);
/* Warnings (say, an mtrace free of a pointer the trace never allocated)
** are counted, and passed to fn when one is set. */
void sh_trace_on_warning(sh_trace *t, sh_warn_fn fn, void *ud);

typedef struct sh_trace_info {
  const char *name;
  sh_trace_format format;   /* the text's format (after detection; a cache's source) */
  int cached;               /* 1: read from a cache; 2: writing one */
  uint64_t lines, ops, warnings;
  uint64_t bytes_read, bytes_total;  /* total 0 when unknown (a pipe) */
} sh_trace_info;
void sh_trace_info_get(const sh_trace *t, sh_trace_info *out);
void sh_trace_close(sh_trace *t);

/* Writers: every format can be written.  A .rep file's header needs the
** counts, so it is written at close; mtrace gets invented addresses. */
int sh_trace_writer_open(sh_trace_writer **out, const char *path, sh_trace_format f);
int sh_trace_write(sh_trace_writer *w, const sh_op *op);
int sh_trace_write_warning(sh_trace_writer *w, uint64_t line, const char *msg);
/* Finishes the file and frees the writer; returns the first error of its
** life, whose message is copied to msg (when not NULL). */
int sh_trace_writer_close(sh_trace_writer *w, char *msg, size_t cap);
const char *sh_trace_writer_errmsg(const sh_trace_writer *w);

/* Replay: trace ids become simulated addresses.  With SH_REPLAY_CHECK each
** answer is checked as the malloc-lab driver does (aligned, inside the heap,
** overlapping no other payload) and payloads are filled with bytes derived
** from their id, verified on realloc and free.  A failed check is counted,
** its message kept, and the replay goes on. */
enum { SH_REPLAY_CHECK = 1 };
typedef struct sh_replay sh_replay;

int sh_replay_new(sh_replay **out, sh_machine *m, const char *trace_name, int flags);
/* SH_ERR_INPUT when the op is impossible (free of an id that is not live,
** alloc of a live id), with a message naming the trace and line. */
int sh_replay_op(sh_replay *r, const sh_op *op);
const char *sh_replay_errmsg(const sh_replay *r);
/* One JSON line per operation to f (NULL stops): a replayable JSONL trace. */
void sh_replay_log(sh_replay *r, void *file /* FILE * */);
uint64_t sh_replay_ops(const sh_replay *r);
uint64_t sh_replay_error_count(const sh_replay *r);
/* The i-th failed check's message (the first few are kept), or NULL. */
const char *sh_replay_error(const sh_replay *r, int i);
void sh_replay_free(sh_replay *r);

#ifdef __cplusplus
}
#endif
#endif
