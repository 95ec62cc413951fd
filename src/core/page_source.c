// SPDX-License-Identifier: MIT
#include "page_source.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

struct page_source *page_source_create(void)
{
	struct page_source *src = calloc(1, sizeof(*src));

	if (!src)
		return NULL;
	list_init(&src->outstanding);
	pthread_cond_init(&src->completed, NULL);
	return src;
}

void page_source_destroy(struct page_source *src)
{
	assert(list_empty(&src->outstanding)); /* every request holds a VMO reference */
	pthread_cond_destroy(&src->completed);
	free(src);
}

/* Outstanding request covering `page`, or NULL. */
static struct page_request *covering_locked(struct vmo *vmo, uint64_t page) REQUIRES(vmo->lock)
{
	list_for_each(n, &vmo->source->outstanding)
	{
		struct page_request *r = list_entry(n, struct page_request, link);
		if (r->first <= page && page < r->end)
			return r;
	}
	return NULL;
}

/* First page ≥ `page` covered by an outstanding request, or UINT64_MAX. */
static uint64_t next_covered_locked(struct vmo *vmo, uint64_t page) REQUIRES(vmo->lock)
{
	uint64_t best = UINT64_MAX;

	list_for_each(n, &vmo->source->outstanding)
	{
		struct page_request *r = list_entry(n, struct page_request, link);
		uint64_t start = r->first > page ? r->first : page;
		if (r->end > page && start < best)
			best = start;
	}
	return best;
}

static void request_put_locked(struct vmo *vmo, struct page_request *req) REQUIRES(vmo->lock)
{
	(void)vmo;
	assert(req->refs > 0);
	if (--req->refs == 0)
		free(req);
}

/* A new outstanding request for [first, end) with the provider's reference, sent. */
static int send_request_locked(struct vmo *vmo, struct page_provider *provider, uint64_t first,
			       uint64_t end, const void *owner) REQUIRES(vmo->lock)
{
	struct page_request *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->vmo = vmo;
	r->first = first;
	r->end = end;
	r->refs = 1;
	r->owner = owner;
	list_init(&r->port_link);
	list_push_back(&vmo->source->outstanding, &r->link);
	vmo_get(vmo); /* the provider's, dropped by page_source_complete */
	provider->send(provider, r);
	return 0;
}

/* Step 2: requests for every run of missing, uncovered pages in [from, last]; a run that
 * reaches `last` goes on to `ra_end`. */
static int request_missing_locked(struct vmo *vmo, struct page_provider *provider, uint64_t from,
				  uint64_t last, uint64_t ra_end, const void *owner,
				  struct page_source_result *result) REQUIRES(vmo->lock)
{
	uint64_t page = from;

	if (ra_end > vmo->npages)
		ra_end = vmo->npages;
	while (page <= last) {
		struct page_request *r;
		uint64_t end, stop;
		int rc;

		page = vmo_first_missing_locked(vmo, page, last);
		if (page == UINT64_MAX)
			break;
		r = covering_locked(vmo, page);
		if (r) {
			page = r->end;
			continue;
		}
		stop = next_covered_locked(vmo, page);
		if (stop > ra_end)
			stop = ra_end;
		for (end = page + 1; end < stop && !vmo_page_present_locked(vmo, end); end++)
			;
		rc = send_request_locked(vmo, provider, page, end, owner);
		if (rc)
			return rc;
		result->requests_sent++;
		page = end;
	}
	return 0;
}

/* Steps 3 and 6 for one request: its status as far as pages [first, last] are concerned. */
static int wait_for_locked(struct vmo *vmo, struct page_request *r, uint64_t first, uint64_t last)
    REQUIRES(vmo->lock)
{
	int status;

	r->refs++;
	vmo->source->waiters++;
	while (!r->done)
		mutex_wait(&vmo->source->completed, &vmo->lock);
	vmo->source->waiters--;
	status = r->status;
	if (status < 0 && !(r->fail_from >= first && r->fail_from <= last))
		status = 0; /* failed before our range: our pages get a request of their own */
	request_put_locked(vmo, r);
	return status;
}

int page_source_get_pages_locked(struct vmo *vmo, struct page_provider *provider, uint64_t first,
				 uint64_t last, uint64_t readahead_end,
				 struct page_source_result *result)
{
	const void *owner = result; /* unique per call: tells our own requests from others' */

	for (;;) {
		uint64_t page = vmo_first_missing_locked(vmo, first, last);
		struct page_request *r;
		int rc;

		if (page == UINT64_MAX)
			return 0;
		if (vmo->reclaimed)
			return -EIO;
		r = covering_locked(vmo, page);
		if (!r) {
			rc = request_missing_locked(vmo, provider, page, last, readahead_end, owner,
						    result);
			if (rc)
				return rc;
			continue;
		}
		if (r->owner != owner)
			result->coalesced_waits++;
		rc = wait_for_locked(vmo, r, first, last);
		if (rc)
			return rc;
	}
}

void page_source_complete(struct page_request *req, int status, uint64_t fail_from)
{
	struct vmo *vmo = req->vmo;

	mutex_lock(&vmo->lock);
	list_remove(&req->link);
	req->status = status;
	req->fail_from = fail_from;
	req->done = true;
	pthread_cond_broadcast(&vmo->source->completed);
	request_put_locked(vmo, req);
	mutex_unlock(&vmo->lock);
	vmo_put(vmo); /* after the unlock: this may be the last reference */
}

unsigned page_source_outstanding_locked(struct vmo *vmo)
{
	unsigned n = 0;

	list_for_each(node, &vmo->source->outstanding) n++;
	return n;
}

unsigned page_source_waiters_locked(struct vmo *vmo)
{
	return vmo->source->waiters;
}
