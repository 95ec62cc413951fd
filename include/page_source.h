/*
 * page_source — the outstanding page requests of one VMO, as in Zircon's PageSource.
 *
 * A page request asks the pager for pages [first, end) of a VMO. Its lifecycle:
 *  1. A reader (pager_read) finds a page of its range missing, under vmo->lock.
 *  2. If an outstanding request already covers that page, the reader takes a reference on it
 *     and waits (a coalesced wait: one image read serves every waiter). Otherwise it creates a
 *     request for the run of missing, uncovered pages, extended to the readahead boundary,
 *     links it here (page_source_add) and queues it on the pager's port.
 *  3. The reader sleeps on vmo->supplied until the request is done.
 *  4. A pager thread takes the request off the port, reads the image and supplies pages to the
 *     VMO (vmo_supply), or fails the rest of the range at the first error.
 *  5. The pager completes it (page_source_complete): unlinks it, records status and the first
 *     failed page, and broadcasts vmo->supplied.
 *  6. Each waiter wakes, sees `done`, drops its reference and looks at the VMO again: its pages
 *     are present, or the request failed at or before them and the reader returns the error.
 * The last reference frees the request (page_request_put).
 *
 * Everything here is guarded by the owning vmo->lock; no function takes a lock itself.
 */
#ifndef EXT4PAGER_PAGE_SOURCE_H
#define EXT4PAGER_PAGE_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

struct vmo;

struct page_request {
	uint64_t first, end; /* pages [first, end) */
	int status;	     /* 0, or negative errno once done */
	uint64_t fail_from;  /* first failed page when status < 0 */
	bool done;
	int refs;		   /* the pager's + one per waiter */
	const void *owner;	   /* the reader that created it: waits by others are coalesced */
	struct page_request *next; /* outstanding list */
};

struct page_source {
	struct page_request *outstanding; /* requests created and not yet completed */
	uint64_t count;			  /* outstanding requests */
};

/* Outstanding request covering `page`, or NULL. */
struct page_request *page_source_covering(struct page_source *src, uint64_t page);
/* First page ≥ `page` covered by an outstanding request, or UINT64_MAX. */
uint64_t page_source_next_covered(struct page_source *src, uint64_t page);
/* A new request for [first, end) with one reference (the pager's), linked as outstanding. */
struct page_request *page_source_add(struct page_source *src, uint64_t first, uint64_t end);
/* Unlinks `req`, marks it done with `status` (failing pages from `fail_from` on). */
void page_source_complete(struct page_source *src, struct page_request *req, int status,
			  uint64_t fail_from);
void page_request_get(struct page_request *req);
void page_request_put(struct page_request *req);

#endif
