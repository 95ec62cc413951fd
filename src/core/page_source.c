// SPDX-License-Identifier: MIT
#include "page_source.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

void page_source_init(struct page_source *src, struct mutex *lock)
{
	src->lock = lock;
	list_init(&src->outstanding);
	pthread_cond_init(&src->completed, NULL);
	src->waiters = 0;
}

void page_source_destroy(struct page_source *src)
{
	assert(list_empty(&src->outstanding)); /* the provider holds its VMO while one is out */
	pthread_cond_destroy(&src->completed);
}

struct page_request *page_source_covering(struct page_source *src, uint64_t page)
{
	list_for_each(n, &src->outstanding)
	{
		struct page_request *r = list_entry(n, struct page_request, link);
		if (r->first <= page && page < r->end)
			return r;
	}
	return NULL;
}

uint64_t page_source_next_covered(struct page_source *src, uint64_t page)
{
	uint64_t best = UINT64_MAX;

	list_for_each(n, &src->outstanding)
	{
		struct page_request *r = list_entry(n, struct page_request, link);
		uint64_t start = r->first > page ? r->first : page;
		if (r->end > page && start < best)
			best = start;
	}
	return best;
}

static void request_put_locked(struct page_source *src, struct page_request *req)
    REQUIRES(*src->lock)
{
	(void)src;
	assert(req->refs > 0);
	if (--req->refs == 0)
		free(req);
}

int page_source_send(struct page_source *src, struct page_provider *provider, struct vmo *vmo,
		     uint64_t first, uint64_t end, const void *owner)
{
	struct page_request *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->src = src;
	r->vmo = vmo;
	r->first = first;
	r->end = end;
	r->refs = 1;
	r->owner = owner;
	list_init(&r->port_link);
	list_push_back(&src->outstanding, &r->link);
	provider->send(provider, r);
	return 0;
}

int page_source_wait(struct page_source *src, struct page_request *r, uint64_t first, uint64_t last)
{
	int status;

	r->refs++;
	src->waiters++;
	while (!r->done)
		mutex_wait(&src->completed, src->lock);
	src->waiters--;
	status = r->status;
	if (status < 0 && !(r->fail_from >= first && r->fail_from <= last))
		status = 0; /* failed before our range: our pages get a request of their own */
	request_put_locked(src, r);
	return status;
}

void page_source_complete(struct page_request *req, int status, uint64_t fail_from)
{
	struct page_source *src = req->src;

	mutex_lock(src->lock);
	list_remove(&req->link);
	req->status = status;
	req->fail_from = fail_from;
	req->done = true;
	pthread_cond_broadcast(&src->completed);
	request_put_locked(src, req);
	mutex_unlock(src->lock);
}

unsigned page_source_outstanding(struct page_source *src)
{
	unsigned n = 0;

	list_for_each(node, &src->outstanding) n++;
	return n;
}

unsigned page_source_waiters(struct page_source *src)
{
	return src->waiters;
}
