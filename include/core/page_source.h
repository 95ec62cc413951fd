// SPDX-License-Identifier: MIT
/*
 * page_source — the page requests of one VMO, from creation to the last waiter, as Zircon's
 * PageSource (zircon/kernel/vm/include/vm/page_source.h) keeps them. Whoever fills the pages
 * is a page provider (PageProvider there): here the pager, which queues the request on its
 * port and has supply.c fill the pages.
 *
 * A page request asks for pages [first, end) of a VMO. Its lifecycle, all under vmo->lock
 * except where said:
 *  1. A reader calls page_source_get_pages_locked for pages [first, last]. Present pages need
 *     nothing.
 *  2. A missing page already covered by an outstanding request: the reader takes a reference
 *     and waits on that request (a coalesced wait: one backing read serves every waiter).
 *     Otherwise the run of missing, uncovered pages, extended to the readahead boundary,
 *     becomes a new request linked as outstanding, holding one reference for the provider
 *     (and one on the VMO), and goes to provider->send (which must not block).
 *  3. The reader sleeps on the source's `completed` condition until its request is done.
 *  4. The provider supplies pages to the VMO (vmo_supply), without vmo->lock.
 *  5. The provider calls page_source_complete (without vmo->lock; it takes it): the request
 *     is unlinked and marked done with a status and the first page it failed, the provider's
 *     references go, and every waiter wakes.
 *  6. Each waiter drops its reference and looks at the VMO again: its pages are present, or the
 *     request failed at a page it needs and the reader returns the error. A failure before the
 *     reader's first page (another reader's request that began earlier) is not the reader's:
 *     its pages are still missing and get a request of their own.
 * The last reference frees the request.
 */
#ifndef EXT4PAGER_PAGE_SOURCE_H
#define EXT4PAGER_PAGE_SOURCE_H

#include "list.h"
#include "lock.h"
#include "vmo.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct page_request {
	struct vmo *vmo;     /* immutable; the provider's reference on it */
	uint64_t first, end; /* immutable; pages [first, end) */
	int status;	     /* 0, or negative errno once done */
	uint64_t fail_from;  /* first failed page when status < 0 */
	bool done;
	int refs;		    /* the provider's + one per waiter */
	const void *owner;	    /* the reader that created it: waits by others are coalesced */
	struct list_node link;	    /* the source's outstanding list */
	struct list_node port_link; /* the provider's queue: sending never allocates */
};

struct page_source {
	struct list_node outstanding; /* requests created and not yet completed */
	pthread_cond_t completed;     /* broadcast (with vmo->lock) when a request completes */
	unsigned waiters;	      /* readers asleep on `completed` */
};

struct page_provider {
	/* Takes over a new request (its `refs` holds the provider's reference). Called with
	 * vmo->lock held: must not block or take vmo->lock. */
	void (*send)(struct page_provider *provider, struct page_request *req);
};

/* What one get_pages did, for the pager's counters. */
struct page_source_result {
	unsigned requests_sent;
	unsigned coalesced_waits; /* waits on a request another reader created */
};

/* A VMO's page source (vmo_create makes it), or NULL without memory. */
struct page_source *page_source_create(void);
void page_source_destroy(struct page_source *src);

/*
 * Steps 1-3 and 6: returns once pages [first, last] of `vmo` are all present (0), or with the
 * error of a request that failed at one of them, -EIO if the VMO was reclaimed, or -ENOMEM.
 * New requests end at `readahead_end` (exclusive) at most when they reach `last`. The caller
 * holds vmo->lock (it is released while waiting) and has pinned the pages.
 */
int page_source_get_pages_locked(struct vmo *vmo, struct page_provider *provider, uint64_t first,
				 uint64_t last, uint64_t readahead_end,
				 struct page_source_result *result) REQUIRES(vmo->lock);

/* Step 5: `req` is done with `status` (pages from `fail_from` on failed when negative).
 * Drops the provider's reference on the request. Takes vmo->lock. */
void page_source_complete(struct page_request *req, int status, uint64_t fail_from);

/* Outstanding requests, and readers waiting on them (tests, diagnostics: Zircon's Dump). */
unsigned page_source_outstanding_locked(struct vmo *vmo) REQUIRES(vmo->lock);
unsigned page_source_waiters_locked(struct vmo *vmo) REQUIRES(vmo->lock);

#endif
