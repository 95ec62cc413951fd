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
	list_init(&r->async_waiters);
	list_init(&r->port_link);
	list_push_back(&src->outstanding, &r->link);
	provider->send(provider, r);
	return 0;
}

/* What a done request means to a reader of pages [first, last]. */
static int status_for_reader(const struct page_request *r, uint64_t first, uint64_t last)
{
	if (r->status < 0 && !(r->fail_from >= first && r->fail_from <= last))
		return 0; /* failed before our range: our pages get a request of their own */
	return r->status;
}

int page_source_wait(struct page_source *src, struct page_request *r, uint64_t first, uint64_t last)
{
	int status;

	r->refs++;
	src->waiters++;
	while (!r->done)
		mutex_wait(&src->completed, src->lock);
	src->waiters--;
	status = status_for_reader(r, first, last);
	request_put_locked(src, r);
	return status;
}

void page_source_wait_async(struct page_source *src, struct page_request *req,
			    struct page_waiter *w, uint64_t first, uint64_t last)
{
	assert(!req->done);
	w->first = first;
	w->last = last;
	src->waiters++;
	list_push_back(&req->async_waiters, &w->link);
}

void page_source_complete(struct page_request *req, int status, uint64_t fail_from)
{
	page_source_complete_from(req, status, fail_from, NULL, NULL, NULL);
}

void page_source_complete_from(struct page_request *req, int status, uint64_t fail_from,
			       struct page_waiter *own,
			       void (*defer)(struct page_waiter *w, void *ctx), void *ctx)
{
	struct page_source *src = req->src;
	struct list_node resumed, *n;

	list_init(&resumed);
	mutex_lock(src->lock);
	list_remove(&req->link);
	req->status = status;
	req->fail_from = fail_from;
	req->done = true;
	while ((n = list_pop_front(&req->async_waiters))) {
		struct page_waiter *w = list_entry(n, struct page_waiter, link);
		w->status = status_for_reader(req, w->first, w->last);
		src->waiters--;
		list_push_back(&resumed, n);
	}
	pthread_cond_broadcast(&src->completed);
	request_put_locked(src, req);
	mutex_unlock(src->lock);
	/* Without the lock: a waiter's resume looks at the VMO again and may attach itself to
	 * another request of this source. */
	while ((n = list_pop_front(&resumed))) {
		struct page_waiter *w = list_entry(n, struct page_waiter, link);
		if (defer && w != own)
			defer(w, ctx);
		else
			w->resume(w, w->status);
	}
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
