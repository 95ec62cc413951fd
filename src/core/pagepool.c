// SPDX-License-Identifier: MIT
#include "pagepool.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define SLAB_BYTES (2u << 20)

struct pagepool_slab {
	struct pagepool_slab *next;
	void *base;
};

int pagepool_init(struct pagepool *pool)
{
	void *zero;

	*pool = (struct pagepool){0};
	pool->page_size = (size_t)sysconf(_SC_PAGESIZE);
	zero = mmap(NULL, pool->page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (zero == MAP_FAILED)
		return -ENOMEM;
	pool->zero_page = zero;
	mutex_init(&pool->lock);
	return 0;
}

void pagepool_destroy(struct pagepool *pool)
{
	struct pagepool_slab *s = pool->slabs;

	while (s) {
		struct pagepool_slab *next = s->next;
		munmap(s->base, SLAB_BYTES);
		free(s);
		s = next;
	}
	free(pool->free_frames);
	if (pool->zero_page)
		munmap((void *)pool->zero_page, pool->page_size);
	mutex_destroy(&pool->lock);
}

/* Maps one more slab and pushes its frames on the free stack. Caller holds pool->lock. */
static int pool_grow_locked(struct pagepool *pool) REQUIRES(pool->lock)
{
	size_t per_slab = SLAB_BYTES / pool->page_size;
	struct pagepool_slab *slab;

	if (pool->free_cap < pool->total_frames + per_slab) {
		size_t cap = (pool->total_frames + per_slab) * 2;
		void **frames = realloc(pool->free_frames, cap * sizeof(*frames));
		if (!frames)
			return -ENOMEM;
		pool->free_frames = frames;
		pool->free_cap = cap;
	}
	slab = malloc(sizeof(*slab));
	if (!slab)
		return -ENOMEM;
	slab->base =
	    mmap(NULL, SLAB_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (slab->base == MAP_FAILED) {
		free(slab);
		return -ENOMEM;
	}
	slab->next = pool->slabs;
	pool->slabs = slab;
	for (size_t i = per_slab; i-- > 0;)
		pool->free_frames[pool->free_count++] = (char *)slab->base + i * pool->page_size;
	pool->total_frames += per_slab;
	return 0;
}

void *pagepool_alloc(struct pagepool *pool)
{
	void *frame = NULL;

	mutex_lock(&pool->lock);
	if (pool->free_count > 0 || pool_grow_locked(pool) == 0) {
		frame = pool->free_frames[--pool->free_count];
		pool->in_use++;
	}
	mutex_unlock(&pool->lock);
	return frame;
}

void pagepool_free(struct pagepool *pool, void *frame)
{
	if (!frame || frame == pool->zero_page)
		return;
	mutex_lock(&pool->lock);
	pool->free_frames[pool->free_count++] = frame;
	pool->in_use--;
	mutex_unlock(&pool->lock);
}

size_t pagepool_in_use(struct pagepool *pool)
{
	size_t n;

	mutex_lock(&pool->lock);
	n = pool->in_use;
	mutex_unlock(&pool->lock);
	return n;
}

size_t pagepool_mapped_bytes(struct pagepool *pool)
{
	size_t n;

	mutex_lock(&pool->lock);
	n = pool->total_frames * pool->page_size;
	mutex_unlock(&pool->lock);
	return n;
}
