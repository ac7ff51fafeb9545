/* stats.c -- the measurements a scenario reads: costs by category, stack and heap counters.
** Counters are kept as operations run; the free-space summary is asked of the policy. */
#include <string.h>
#include "internal.h"

static const char *const costnames[SH_COST_N] = { "stack", "memory", "alloc", "meta" };

const char *sh_cost_name(int category) {
  return category >= 0 && category < SH_COST_N ? costnames[category] : NULL;
}

void sh_stats_get(sh_machine *m, sh_stats *out) {
  const sh_counts *c = &m->c;
  int i;
  memset(out, 0, sizeof *out);
  for (i = 0; i < SH_COST_N; i++) {
    out->cost[i] = c->cost[i];
    out->access_cycles[i] = c->lat[i];
    out->cycles += c->cost[i];
  }
  out->loads = c->loads;
  out->stores = c->stores;
  out->stack.pushes = c->pushes;
  out->stack.pops = c->pops;
  out->stack.depth = m->stack.depth;
  out->stack.peak_depth = c->peak_depth;
  out->stack.peak_bytes = c->peak_bytes;
  out->heap.allocs = c->allocs;
  out->heap.frees = c->frees;
  out->heap.reallocs = c->reallocs;
  out->heap.failed = c->failed;
  out->heap.live_bytes = c->live_bytes;
  out->heap.live_blocks = c->live_blocks;
  out->heap.heap_bytes = m->heap.brk - m->heap.cfg.base;
  out->heap.peak_live_bytes = c->peak_live_bytes;
  out->heap.peak_heap_bytes = c->peak_heap_bytes;
  out->heap.live_at_peak_heap = c->live_at_peak_heap;
  out->heap.searched = c->searched;
  out->heap.splits = c->splits;
  out->heap.coalesces = c->coalesces;
  out->heap.grows = c->grows;
  out->heap.meta_loads = c->meta_loads;
  out->heap.meta_stores = c->meta_stores;
  out->heap.used_block_bytes = c->used_block_bytes;
  if (m->heap.ops && m->heap.ops->free_summary)
    m->heap.ops->free_summary(m, m->heap.state, &out->heap.free_bytes,
                              &out->heap.free_blocks, &out->heap.largest_free);
}

void sh_stats_reset(sh_machine *m) {
  sh_counts *c = &m->c;
  uint64_t live = c->live_bytes, blocks = c->live_blocks, used = c->used_block_bytes;
  memset(c, 0, sizeof *c);
  if (m->cache) sh_cache_reset_stats(m->cache);
  c->live_bytes = c->peak_live_bytes = c->live_at_peak_heap = live;
  c->live_blocks = blocks;
  c->used_block_bytes = used;
  c->peak_heap_bytes = m->heap.brk - m->heap.cfg.base;
  c->peak_depth = m->stack.depth;
  c->peak_bytes = m->cfg.stack_top -
    (m->stack.depth ? m->stack.frames[m->stack.depth - 1].sp : m->cfg.stack_top);
}
