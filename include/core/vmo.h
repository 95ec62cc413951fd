// SPDX-License-Identifier: MIT
/*
 * vmo — one regular file's page cache: a paged VMO, as Zircon's VmObjectPaged
 * (zircon/kernel/vm/include/vm/vm_object_paged.h) and Asterinas' Vmo keep one.
 *
 * A VMO holds the file's size and extent map (immutable once created) and a sparse table of
 * present pages. Pages are grouped in chunks of VMO_CHUNK_PAGES; a chunk exists while any of
 * its pages is present or while a reader has pinned it. A present page points either at a frame
 * from the page pool or at the pool's shared zero page (holes, unwritten extents, past EOF).
 *
 * Every VMO belongs to one vmo_cache, which keeps all chunks on one LRU list and evicts clean,
 * unpinned chunks whenever the frames in use exceed the cache budget. Evicted pages are simply
 * paged in again on the next read: the image is immutable.
 *
 * Lifetime: reference counted (vmo_get/vmo_put). The pager's file record holds one reference,
 * every outstanding page request one, every view a reader has not released yet one.
 * vmo_reclaim() drops all pages when the file's last child goes away; the struct itself goes
 * with the last put. Which file a VMO belongs to, and how many children it has, is the
 * pager's business (pager.c), not the VMO's.
 *
 * Locking, in the order they may be taken: vmo->lock → cache->lock → pool->lock.
 * Eviction holds cache->lock and only *tries* a VMO's lock, so it never inverts that order.
 */
#ifndef EXT4PAGER_VMO_H
#define EXT4PAGER_VMO_H

#include "extmap.h"
#include "list.h"
#include "lock.h"
#include "page_source.h"
#include "pagepool.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define VMO_CHUNK_PAGES 64
/* Largest read vmo_view can describe: the FUSE layer negotiates at most this much. */
#define VMO_READ_MAX	    (1u << 20)
#define VMO_VIEW_MAX_IOV    (VMO_READ_MAX / 4096 + 2)
#define VMO_VIEW_MAX_CHUNKS (VMO_VIEW_MAX_IOV / VMO_CHUNK_PAGES + 2)

struct vmo_chunk;

struct vmo_cache {
	struct pagepool pool;
	struct mutex lock;
	struct list_node lru; /* guarded by: lock; chunks, least recently used first */
	size_t budget_pages;  /* immutable */
	_Atomic uint64_t pages_evicted;
};

struct supply_transform;

struct vmo {
	struct mutex lock;
	uint64_t size;		    /* immutable; bytes */
	uint64_t npages;	    /* immutable; size rounded up to pages */
	struct extmap map;	    /* immutable; owned */
	/* What supply does to each data page (decryption), or NULL. Immutable; owned. */
	struct supply_transform *transform;
	struct vmo_cache *cache;    /* immutable */
	struct vmo_chunk **buckets; /* guarded by: lock; chunk hash table */
	size_t nbuckets;	    /* guarded by: lock */
	size_t nchunks;		    /* guarded by: lock */
	struct page_source source;  /* guarded by: lock; the outstanding page requests */
	bool reclaimed;		    /* guarded by: lock; no pages will be supplied again */
	_Atomic int refs;
};

/* A pinned, present range of a VMO, ready to be written out without copying. */
struct vmo_view {
	struct iovec iov[VMO_VIEW_MAX_IOV];
	int iovcnt;
	size_t len;
	struct vmo *vmo;
	struct vmo_chunk *pinned[VMO_VIEW_MAX_CHUNKS];
	int npinned;
};

int vmo_cache_init(struct vmo_cache *cache, size_t budget_bytes);
void vmo_cache_destroy(struct vmo_cache *cache);
/* Evicts LRU chunks until frames in use fit the budget or nothing more can go. No lock held. */
void vmo_cache_trim(struct vmo_cache *cache);

/* Takes ownership of `map`. Returns NULL on ENOMEM (and frees the map). Starts with refs = 1. */
struct vmo *vmo_create(struct vmo_cache *cache, uint64_t size, struct extmap *map);
void vmo_get(struct vmo *vmo);
void vmo_put(struct vmo *vmo);

/* Drops every page; later supplies are discarded. Caller holds no lock; readers must be gone. */
void vmo_reclaim(struct vmo *vmo);

/* All below: caller holds vmo->lock. */
bool vmo_page_present_locked(struct vmo *vmo, uint64_t page) REQUIRES(vmo->lock);
/* First page in [first, last] that is not present, or UINT64_MAX. */
uint64_t vmo_first_missing_locked(struct vmo *vmo, uint64_t first, uint64_t last)
    REQUIRES(vmo->lock);
/* Pins the chunks covering pages [first, last] into `view` (creating empty ones). -ENOMEM. */
int vmo_pin_locked(struct vmo *vmo, uint64_t first, uint64_t last, struct vmo_view *view)
    REQUIRES(vmo->lock);
void vmo_unpin_locked(struct vmo *vmo, struct vmo_view *view) REQUIRES(vmo->lock);
/* Fills view->iov for bytes [off, off+len), all present and pinned. */
void vmo_view_fill_locked(struct vmo *vmo, uint64_t off, size_t len, struct vmo_view *view)
    REQUIRES(vmo->lock);

/*
 * Supplies `n` pages starting at `page`: takes ownership of frames[0..n) (NULL entries mean the
 * shared zero page). Pages already present keep their contents and the new frame is freed.
 * Caller holds no lock. Returns 0, or -ENOMEM (the frames are then freed).
 */
int vmo_supply(struct vmo *vmo, uint64_t page, void **frames, size_t n) EXCLUDES(vmo->lock);

/*
 * The VMO's fault path (VmCowPages' in Zircon): returns once pages [first, last] are all
 * present (0), or with the error of a request that failed at one of them, -EIO if the VMO was
 * reclaimed, or -ENOMEM. Missing pages not covered by an outstanding request become new
 * requests sent to `provider` (each with a VMO reference for the provider), ending at
 * `readahead_end` (exclusive) at most when they reach `last`; covered ones are waited for. The
 * caller holds vmo->lock (released while waiting) and has pinned the pages.
 * With `async`, nothing waits: at the first page that needs a wait, `async` is attached to its
 * request and -EINPROGRESS returned; the caller calls again once `async` is resumed.
 */
int vmo_get_pages_locked(struct vmo *vmo, struct page_provider *provider, uint64_t first,
			 uint64_t last, uint64_t readahead_end, struct page_source_result *result,
			 struct page_waiter *async) REQUIRES(vmo->lock);

/* Pages currently present (tests, stats). Takes the lock. */
uint64_t vmo_present_pages(struct vmo *vmo);

#endif
