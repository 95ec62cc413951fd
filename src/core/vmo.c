// SPDX-License-Identifier: MIT
#include "vmo.h"

#include "supply.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct vmo_chunk {
	uint64_t index;		      /* pages [index * VMO_CHUNK_PAGES, +VMO_CHUNK_PAGES) */
	struct vmo *vmo;	      /* immutable */
	struct vmo_chunk *hash_next;  /* guarded by: vmo->lock */
	uint64_t present;	      /* guarded by: vmo->lock; bit i: pages[i] valid */
	unsigned pins;		      /* guarded by: vmo->lock; readers replying from it */
	struct list_node lru;	      /* guarded by: cache->lock; linked while not being freed */
	void *pages[VMO_CHUNK_PAGES]; /* guarded by: vmo->lock */
};

int vmo_cache_init(struct vmo_cache *cache, size_t budget_bytes)
{
	int rc;

	memset(cache, 0, sizeof(*cache));
	rc = pagepool_init(&cache->pool);
	if (rc)
		return rc;
	mutex_init(&cache->lock);
	list_init(&cache->lru);
	cache->budget_pages = budget_bytes / cache->pool.page_size;
	if (cache->budget_pages < VMO_CHUNK_PAGES)
		cache->budget_pages = VMO_CHUNK_PAGES;
	return 0;
}

void vmo_cache_destroy(struct vmo_cache *cache)
{
	pagepool_destroy(&cache->pool);
	mutex_destroy(&cache->lock);
}

/* Moves `c` to the most recently used end of the LRU. */
static void lru_touch(struct vmo_cache *cache, struct vmo_chunk *c)
{
	mutex_lock(&cache->lock);
	list_remove(&c->lru);
	list_push_back(&cache->lru, &c->lru);
	mutex_unlock(&cache->lock);
}

static size_t bucket_of(uint64_t index, size_t nbuckets)
{
	return (size_t)((index * 0x9E3779B97F4A7C15ull) >> 32) & (nbuckets - 1);
}

static struct vmo_chunk *chunk_find_locked(struct vmo *vmo, uint64_t index) REQUIRES(vmo->lock)
{
	if (!vmo->nbuckets)
		return NULL;
	for (struct vmo_chunk *c = vmo->buckets[bucket_of(index, vmo->nbuckets)]; c;
	     c = c->hash_next)
		if (c->index == index)
			return c;
	return NULL;
}

static int table_grow_locked(struct vmo *vmo) REQUIRES(vmo->lock)
{
	size_t n = vmo->nbuckets ? vmo->nbuckets * 2 : 16;
	struct vmo_chunk **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < vmo->nbuckets; i++) {
		struct vmo_chunk *c = vmo->buckets[i];
		while (c) {
			struct vmo_chunk *next = c->hash_next;
			size_t k = bucket_of(c->index, n);
			c->hash_next = b[k];
			b[k] = c;
			c = next;
		}
	}
	free(vmo->buckets);
	vmo->buckets = b;
	vmo->nbuckets = n;
	return 0;
}

static struct vmo_chunk *chunk_get_locked(struct vmo *vmo, uint64_t index) REQUIRES(vmo->lock)
{
	struct vmo_chunk *c = chunk_find_locked(vmo, index);
	size_t k;

	if (c)
		return c;
	if (vmo->nchunks >= vmo->nbuckets && table_grow_locked(vmo) < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->index = index;
	c->vmo = vmo;
	list_init(&c->lru);
	k = bucket_of(index, vmo->nbuckets);
	c->hash_next = vmo->buckets[k];
	vmo->buckets[k] = c;
	vmo->nchunks++;
	mutex_lock(&vmo->cache->lock);
	list_push_back(&vmo->cache->lru, &c->lru);
	mutex_unlock(&vmo->cache->lock);
	return c;
}

/* Unhooks `c` from the VMO's table and returns its frames to the pool; the LRU link must be
 * gone already. Returns the number of pages it held. Caller holds vmo->lock. */
static unsigned chunk_destroy_locked(struct vmo *vmo, struct vmo_chunk *c) REQUIRES(vmo->lock)
{
	struct vmo_chunk **p = &vmo->buckets[bucket_of(c->index, vmo->nbuckets)];
	unsigned pages = 0;

	while (*p != c)
		p = &(*p)->hash_next;
	*p = c->hash_next;
	vmo->nchunks--;
	for (unsigned i = 0; i < VMO_CHUNK_PAGES; i++) {
		if (c->present & (1ull << i)) {
			pagepool_free(&vmo->cache->pool, c->pages[i]);
			pages++;
		}
	}
	free(c);
	return pages;
}

static void chunk_unlink_and_destroy_locked(struct vmo *vmo, struct vmo_chunk *c)
    REQUIRES(vmo->lock)
{
	mutex_lock(&vmo->cache->lock);
	list_remove(&c->lru);
	mutex_unlock(&vmo->cache->lock);
	chunk_destroy_locked(vmo, c);
}

/* Picks the least recently used chunk nobody has pinned, and returns it with its VMO locked
 * and off the LRU. NULL when there is none. The VMO lock is only tried: the usual order is
 * vmo->lock → cache->lock, and this holds cache->lock first. (clang cannot follow a lock
 * taken by trylock and handed back to the caller, hence NO_TSA.) */
static struct vmo_chunk *pick_victim(struct vmo_cache *cache) NO_TSA
{
	struct vmo_chunk *victim = NULL;

	mutex_lock(&cache->lock);
	list_for_each(n, &cache->lru)
	{
		struct vmo_chunk *c = list_entry(n, struct vmo_chunk, lru);
		if (mutex_trylock(&c->vmo->lock) != 0)
			continue;
		if (c->pins == 0) {
			list_remove(&c->lru);
			victim = c;
			break;
		}
		mutex_unlock(&c->vmo->lock);
	}
	mutex_unlock(&cache->lock);
	return victim;
}

void vmo_cache_trim(struct vmo_cache *cache) NO_TSA /* victims come locked from pick_victim */
{
	while (pagepool_in_use(&cache->pool) > cache->budget_pages) {
		struct vmo_chunk *victim = pick_victim(cache);
		struct vmo *vmo;
		unsigned pages;

		if (!victim)
			return;
		vmo = victim->vmo;
		pages = chunk_destroy_locked(vmo, victim);
		mutex_unlock(&vmo->lock);
		atomic_fetch_add(&cache->pages_evicted, pages);
	}
}

struct vmo *vmo_create(struct vmo_cache *cache, uint64_t size, struct extmap *map)
{
	struct vmo *vmo = calloc(1, sizeof(*vmo));
	size_t ps = cache->pool.page_size;

	if (!vmo) {
		extmap_free(map);
		return NULL;
	}
	mutex_init(&vmo->lock);
	page_source_init(&vmo->source, &vmo->lock);
	vmo->size = size;
	vmo->npages = size / ps + (size % ps != 0);
	vmo->map = *map;
	memset(map, 0, sizeof(*map));
	vmo->cache = cache;
	atomic_init(&vmo->refs, 1);
	return vmo;
}

void vmo_get(struct vmo *vmo)
{
	atomic_fetch_add(&vmo->refs, 1);
}

void vmo_put(struct vmo *vmo)
{
	int was = atomic_fetch_sub(&vmo->refs, 1);

	assert(was > 0);
	if (was != 1)
		return;
	vmo_reclaim(vmo);
	if (vmo->transform && vmo->transform->release)
		vmo->transform->release(vmo->transform->ctx);
	extmap_free(&vmo->map);
	free(vmo->buckets);
	page_source_destroy(&vmo->source);
	mutex_destroy(&vmo->lock);
	free(vmo);
}

void vmo_reclaim(struct vmo *vmo)
{
	mutex_lock(&vmo->lock);
	vmo->reclaimed = true;
	for (size_t i = 0; i < vmo->nbuckets; i++) {
		struct vmo_chunk *c = vmo->buckets[i];
		while (c) {
			struct vmo_chunk *next = c->hash_next;
			/* A reader may still be unpinning after its reply reached the kernel (which
			 * can send RELEASE at once): its last unpin frees the chunk instead. */
			if (c->pins == 0)
				chunk_unlink_and_destroy_locked(vmo, c);
			c = next;
		}
	}
	mutex_unlock(&vmo->lock);
}

bool vmo_page_present_locked(struct vmo *vmo, uint64_t page)
{
	struct vmo_chunk *c = chunk_find_locked(vmo, page / VMO_CHUNK_PAGES);
	return c && (c->present & (1ull << (page % VMO_CHUNK_PAGES)));
}

/* Bits for pages [first, last] that fall in chunk `index`. */
static uint64_t chunk_mask(uint64_t index, uint64_t first, uint64_t last)
{
	uint64_t base = index * VMO_CHUNK_PAGES;
	unsigned lo = first > base ? (unsigned)(first - base) : 0;
	unsigned hi =
	    last < base + VMO_CHUNK_PAGES - 1 ? (unsigned)(last - base) : VMO_CHUNK_PAGES - 1;
	uint64_t upto = hi == 63 ? ~0ull : ((1ull << (hi + 1)) - 1);
	return upto & ~((1ull << lo) - 1);
}

uint64_t vmo_first_missing_locked(struct vmo *vmo, uint64_t first, uint64_t last)
{
	for (uint64_t idx = first / VMO_CHUNK_PAGES; idx <= last / VMO_CHUNK_PAGES; idx++) {
		struct vmo_chunk *c = chunk_find_locked(vmo, idx);
		uint64_t missing = chunk_mask(idx, first, last) & ~(c ? c->present : 0);
		if (missing)
			return idx * VMO_CHUNK_PAGES + (uint64_t)__builtin_ctzll(missing);
	}
	return UINT64_MAX;
}

int vmo_pin_locked(struct vmo *vmo, uint64_t first, uint64_t last, struct vmo_view *view)
{
	view->vmo = vmo;
	view->npinned = 0;
	for (uint64_t idx = first / VMO_CHUNK_PAGES; idx <= last / VMO_CHUNK_PAGES; idx++) {
		struct vmo_chunk *c = chunk_get_locked(vmo, idx);
		if (!c || view->npinned == VMO_VIEW_MAX_CHUNKS) {
			vmo_unpin_locked(vmo, view);
			return -ENOMEM;
		}
		c->pins++;
		lru_touch(vmo->cache, c);
		view->pinned[view->npinned++] = c;
	}
	return 0;
}

void vmo_unpin_locked(struct vmo *vmo, struct vmo_view *view)
{
	for (int i = 0; i < view->npinned; i++) {
		struct vmo_chunk *c = view->pinned[i];
		/* A chunk pinned for a read that then failed may hold nothing, and one that
		 * outlived a reclaim is garbage: drop either now. */
		assert(c->pins > 0);
		if (--c->pins == 0 && (c->present == 0 || vmo->reclaimed))
			chunk_unlink_and_destroy_locked(vmo, c);
	}
	view->npinned = 0;
}

static void view_push(struct vmo_view *view, uint8_t *base, size_t len)
{
	struct iovec *prev = view->iovcnt ? &view->iov[view->iovcnt - 1] : NULL;

	if (prev && (uint8_t *)prev->iov_base + prev->iov_len == base) {
		prev->iov_len += len; /* frames that happen to be adjacent in a slab */
	} else {
		view->iov[view->iovcnt].iov_base = base;
		view->iov[view->iovcnt].iov_len = len;
		view->iovcnt++;
	}
	view->len += len;
}

void vmo_view_fill_locked(struct vmo *vmo, uint64_t off, size_t len, struct vmo_view *view)
{
	size_t ps = vmo->cache->pool.page_size;

	view->iovcnt = 0;
	view->len = 0;
	while (len > 0) {
		uint64_t page = off / ps;
		size_t in_page = (size_t)(off % ps);
		size_t n = ps - in_page < len ? ps - in_page : len;
		struct vmo_chunk *c = chunk_find_locked(vmo, page / VMO_CHUNK_PAGES);
		view_push(view, (uint8_t *)c->pages[page % VMO_CHUNK_PAGES] + in_page, n);
		off += n;
		len -= n;
	}
}

int vmo_supply(struct vmo *vmo, uint64_t page, void **frames, size_t n)
{
	struct pagepool *pool = &vmo->cache->pool;
	int rc = 0;

	mutex_lock(&vmo->lock);
	for (size_t i = 0; i < n; i++) {
		uint64_t p = page + i;
		struct vmo_chunk *c = NULL;
		uint64_t bit = 1ull << (p % VMO_CHUNK_PAGES);

		if (!vmo->reclaimed && rc == 0 && p < vmo->npages)
			c = chunk_get_locked(vmo, p / VMO_CHUNK_PAGES);
		if (!c || (c->present & bit)) {
			if (!vmo->reclaimed && p < vmo->npages && !c)
				rc = -ENOMEM;
			pagepool_free(pool, frames[i]);
			continue;
		}
		c->pages[p % VMO_CHUNK_PAGES] = frames[i] ? frames[i] : (void *)pool->zero_page;
		c->present |= bit;
	}
	mutex_unlock(&vmo->lock);
	return rc;
}

uint64_t vmo_present_pages(struct vmo *vmo)
{
	uint64_t n = 0;

	mutex_lock(&vmo->lock);
	for (size_t i = 0; i < vmo->nbuckets; i++)
		for (struct vmo_chunk *c = vmo->buckets[i]; c; c = c->hash_next)
			n += (uint64_t)__builtin_popcountll(c->present);
	mutex_unlock(&vmo->lock);
	return n;
}

/* The page source's lock is the VMO's (page_source_init in vmo_create): tells clang so. */
static inline void source_locked(struct vmo *vmo) REQUIRES(vmo->lock)
    ASSERT_HELD(*vmo->source.lock) NO_TSA
{
	(void)vmo;
}

/* Requests for every run of missing, uncovered pages in [from, last]; a run that reaches
 * `last` goes on to `ra_end`. */
static int request_missing_locked(struct vmo *vmo, struct page_provider *provider, uint64_t from,
				  uint64_t last, uint64_t ra_end, const void *owner,
				  struct page_source_result *result) REQUIRES(vmo->lock)
{
	uint64_t page = from;

	source_locked(vmo);
	if (ra_end > vmo->npages)
		ra_end = vmo->npages;
	while (page <= last) {
		struct page_request *r;
		uint64_t end, stop;
		int rc;

		page = vmo_first_missing_locked(vmo, page, last);
		if (page == UINT64_MAX)
			break;
		r = page_source_covering(&vmo->source, page);
		if (r) {
			page = r->end;
			continue;
		}
		stop = page_source_next_covered(&vmo->source, page);
		if (stop > ra_end)
			stop = ra_end;
		for (end = page + 1; end < stop && !vmo_page_present_locked(vmo, end); end++)
			;
		vmo_get(vmo); /* the provider's, dropped once it has completed the request */
		rc = page_source_send(&vmo->source, provider, vmo, page, end, owner);
		if (rc) {
			vmo_put(
			    vmo); /* never the last: the reader holds the VMO through its handle */
			return rc;
		}
		result->requests_sent++;
		page = end;
	}
	return 0;
}

int vmo_get_pages_locked(struct vmo *vmo, struct page_provider *provider, uint64_t first,
			 uint64_t last, uint64_t readahead_end, struct page_source_result *result,
			 struct page_waiter *async)
{
	/* Unique per read: tells our own requests from others' (an asynchronous read keeps its
	 * waiter across resumes, a synchronous one its result). */
	const void *owner = async ? (const void *)async : (const void *)result;

	source_locked(vmo);
	for (;;) {
		uint64_t page = vmo_first_missing_locked(vmo, first, last);
		struct page_request *r;
		int rc;

		if (page == UINT64_MAX)
			return 0;
		if (vmo->reclaimed)
			return -EIO;
		r = page_source_covering(&vmo->source, page);
		if (!r) {
			rc = request_missing_locked(vmo, provider, page, last, readahead_end, owner,
						    result);
			if (rc)
				return rc;
			continue;
		}
		if (r->owner != owner)
			result->coalesced_waits++;
		if (async) {
			page_source_wait_async(&vmo->source, r, async, first, last);
			return -EINPROGRESS;
		}
		rc = page_source_wait(&vmo->source, r, first, last);
		if (rc)
			return rc;
	}
}
