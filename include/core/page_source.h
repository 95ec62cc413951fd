// SPDX-License-Identifier: MIT
/*
 * page_source — the page requests of one VMO, from creation to the last waiter, as Zircon's
 * PageSource (zircon/kernel/vm/include/vm/page_source.h) keeps them. Whoever fills the pages
 * is a page provider (PageProvider there): here the pager, which queues the request on its
 * port and has supply.c fill the pages.
 *
 * A page request asks for pages [first, end) of a VMO. Its lifecycle, all under the owner's
 * lock (the VMO's, src->lock) except where said:
 *  1. A reader finds pages of its range missing (vmo_get_pages_locked, the VMO's fault path,
 *     as VmCowPages' is in Zircon).
 *  2. A missing page already covered by an outstanding request (page_source_covering): the
 *     reader waits on that request (a coalesced wait: one backing read serves every waiter).
 *     Otherwise the run of missing, uncovered pages, extended to the readahead boundary,
 *     becomes a new request (page_source_send): linked as outstanding, holding one reference
 *     for the provider, and handed to provider->send (which must not block).
 *  3. The reader sleeps in page_source_wait until its request is done.
 *  4. The provider supplies pages to the VMO (vmo_supply), without the lock.
 *  5. The provider calls page_source_complete (without the lock; it takes it): the request is
 *     unlinked and marked done with a status and the first page it failed, the provider's
 *     reference goes, and every waiter wakes.
 *  6. Each waiter drops its reference and looks at the VMO again: its pages are present, or the
 *     request failed at a page it needs and page_source_wait returns the error. A failure
 *     before the reader's first page (another reader's request that began earlier) is not the
 *     reader's: its pages are still missing and get a request of their own.
 * The last reference frees the request. page_source knows nothing of what the pages are: the
 * VMO asks it, never the other way round.
 *
 * A reader that must not sleep (a FUSE handler on an io_uring queue: blocking it stalls every
 * request behind it) waits asynchronously instead of in steps 3 and 6: it attaches a
 * page_waiter to the request (page_source_wait_async) and returns; page_source_complete, once
 * it has dropped the lock, resumes the waiter on the completing thread with the status step 6
 * would have returned. As in Zircon, the provider's completion is what moves the reader on.
 */
#ifndef EXT4PAGER_PAGE_SOURCE_H
#define EXT4PAGER_PAGE_SOURCE_H

#include "list.h"
#include "lock.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vmo; /* the owner: opaque here */
struct page_source;

struct page_request {
	struct page_source *src; /* immutable */
	struct vmo *vmo;	 /* immutable; the provider holds a reference on it */
	uint64_t first, end;	 /* immutable; pages [first, end) */
	int status;		 /* 0, or negative errno once done */
	uint64_t fail_from;	 /* first failed page when status < 0 */
	bool done;
	int refs;		    /* the provider's + one per waiter */
	const void *owner;	    /* the reader that created it: waits by others are coalesced */
	struct list_node async_waiters; /* page_waiter.link: resumed on completion */
	struct list_node link;	    /* the source's outstanding list */
	struct list_node port_link; /* the provider's queue: sending never allocates */
};

struct page_source {
	struct mutex *lock;	      /* immutable; the owner's lock, which guards the rest */
	struct list_node outstanding; /* requests created and not yet completed */
	pthread_cond_t completed;     /* broadcast (with *lock) when a request completes */
	unsigned waiters;	      /* readers asleep on `completed` or attached asynchronously */
};

/* An asynchronous waiter: the reader's memory, attached to one request at a time. */
struct page_waiter {
	/* Called once per attach, on the thread that completed the request, with no lock held;
	 * `status` is what page_source_wait would have returned. It may attach `w` again. */
	void (*resume)(struct page_waiter *w, int status);
	/* Private: set by page_source_wait_async, guarded by the source's lock; `link` is the
	 * defer callee's once page_source_complete_from hands it the waiter. */
	struct list_node link;
	uint64_t first, last;
	int status;
};

struct page_provider {
	/* Takes over a new request (its `refs` holds the provider's reference). Called with the
	 * source's lock held: must not block or take that lock. */
	void (*send)(struct page_provider *provider, struct page_request *req);
};

/* What one fault did, for the pager's counters. */
struct page_source_result {
	unsigned requests_sent;
	unsigned coalesced_waits; /* waits on a request another reader created */
};

/* `lock` is the owner's, held around every call below but complete. */
void page_source_init(struct page_source *src, struct mutex *lock);
void page_source_destroy(struct page_source *src);

/* The outstanding request covering `page`, or NULL. */
struct page_request *page_source_covering(struct page_source *src, uint64_t page)
    REQUIRES(*src->lock);
/* The first page >= `page` covered by an outstanding request, or UINT64_MAX. */
uint64_t page_source_next_covered(struct page_source *src, uint64_t page) REQUIRES(*src->lock);

/* Step 2: a new request for pages [first, end) of `vmo`, created by reader `owner`, linked as
 * outstanding and sent. Returns 0 or -ENOMEM. The caller gives the provider its reference on
 * `vmo`. */
int page_source_send(struct page_source *src, struct page_provider *provider, struct vmo *vmo,
		     uint64_t first, uint64_t end, const void *owner) REQUIRES(*src->lock);

/* Steps 3 and 6: waits until `req` is done (the lock is released meanwhile). Returns its error
 * if it failed at a page in [first, last], else 0. */
int page_source_wait(struct page_source *src, struct page_request *req, uint64_t first,
		     uint64_t last) REQUIRES(*src->lock);

/* Instead of page_source_wait: attaches `w` (the pages it needs are [first, last]) to `req`,
 * which is outstanding, and returns at once. */
void page_source_wait_async(struct page_source *src, struct page_request *req,
			    struct page_waiter *w, uint64_t first, uint64_t last) REQUIRES(*src->lock);

/* Step 5: `req` is done with `status` (pages from `fail_from` on failed when negative).
 * Drops the provider's reference on the request (not on its VMO). Takes the lock, then resumes
 * the asynchronous waiters without it. */
void page_source_complete(struct page_request *req, int status, uint64_t fail_from);

/* page_source_complete for a provider running on a reader's thread (the pager's inline supply):
 * only `own` (that reader's waiter, or NULL) resumes here; every other asynchronous waiter is
 * handed to `defer` instead, which must not block and calls w->resume(w, w->status) later on
 * another thread. A reader's continuation may have to run where its reader can be answered
 * (a FUSE io_uring queue thread answers its own queue's requests without a lock, another
 * queue's only under that queue's lock, which its thread holds while it handles requests):
 * resuming another reader here could wait on a lock held by a thread that waits on ours. */
void page_source_complete_from(struct page_request *req, int status, uint64_t fail_from,
			       struct page_waiter *own,
			       void (*defer)(struct page_waiter *w, void *ctx), void *ctx);

/* Outstanding requests, and readers waiting on them (tests, diagnostics: Zircon's Dump). */
unsigned page_source_outstanding(struct page_source *src) REQUIRES(*src->lock);
unsigned page_source_waiters(struct page_source *src) REQUIRES(*src->lock);

#endif
