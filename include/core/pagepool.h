// SPDX-License-Identifier: MIT
/*
 * pagepool — page frames for every VMO, reused instead of returned to the OS.
 *
 * A page touched for the first time after the OS handed it out costs microseconds on these
 * virtual machines (2-15 µs, against ~0.25 µs for a page already in use); a frame that goes back on
 * our free list and is handed out again costs nothing. So frames come from 2 MiB slabs mapped once
 * and are never unmapped while the pool lives. `in_use` counts frames handed out; the VMO cache
 * compares it with its budget and evicts.
 *
 * There is also one shared, read-only zero page: a VMO maps holes and unwritten extents to it
 * instead of allocating frames.
 */
#ifndef EXT4PAGER_PAGEPOOL_H
#define EXT4PAGER_PAGEPOOL_H

#include "lock.h"

#include <stddef.h>
#include <stdint.h>

struct pagepool_slab;

struct pagepool {
	struct mutex lock;	     /* leaf lock: taken last, never held across calls out */
	void **free_frames;	     /* guarded by: lock; stack of free frames */
	size_t free_count;	     /* guarded by: lock */
	size_t free_cap;	     /* guarded by: lock */
	struct pagepool_slab *slabs; /* guarded by: lock */
	size_t total_frames;	     /* guarded by: lock; frames in all slabs */
	size_t in_use;		     /* guarded by: lock */
	size_t page_size;	     /* immutable */
	const uint8_t *zero_page;    /* immutable; PROT_READ, all zeros */
};

int pagepool_init(struct pagepool *pool);
void pagepool_destroy(struct pagepool *pool);

/* A frame of page_size bytes (contents undefined), or NULL when memory is exhausted. */
void *pagepool_alloc(struct pagepool *pool);
/* Returns a frame to the pool. `frame` must come from pagepool_alloc; the zero page is ignored. */
void pagepool_free(struct pagepool *pool, void *frame);
size_t pagepool_in_use(struct pagepool *pool);
/* Bytes mapped for frames (in use or free): what the pool costs in RSS at most. */
size_t pagepool_mapped_bytes(struct pagepool *pool);

#endif
