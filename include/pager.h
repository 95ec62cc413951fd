/*
 * pager — registers files as paged VMOs and serves their page requests (the Starnix pager).
 *
 *   open   → pager_register(ino): one VMO per inode, shared by every open; the open gets a
 *            child handle. The extent map is read once, here.
 *   READ   → pager_read(handle, off, len): replies from present pages; missing ones become page
 *            requests (page_source.h) queued on the port and served by pager threads, which
 *            pread the image into their own transfer buffer and supply whole pages (supply.c).
 *   release→ pager_release(handle): the last child posts a zero-children packet; a pager thread
 *            re-checks under the registry lock that no open came back meanwhile, unregisters the
 *            VMO and frees its pages.
 *
 * Locks: registry_lock guards the registry and every VMO's `children`; port_lock guards the
 * queue. Neither is held while the image is read. Order: registry_lock → vmo->lock → port_lock.
 */
#ifndef EXT4PAGER_PAGER_H
#define EXT4PAGER_PAGER_H

#include "image.h"
#include "vmo.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define PAGER_TRANSFER_BYTES	(1u << 20)
#define PAGER_DEFAULT_READAHEAD (128u << 10)
#define PAGER_DEFAULT_CACHE	(64u << 20)
#define PAGER_MAX_THREADS	64

struct pager_config {
	unsigned threads;     /* pager threads; 0 = default */
	uint64_t readahead;   /* bytes; requests end on a multiple of it */
	uint64_t cache_bytes; /* budget for present pages */
};

struct pager_stats {
	uint64_t page_requests;	  /* requests sent to pager threads */
	uint64_t coalesced_waits; /* reads that waited on another reader's request */
	uint64_t bytes_read;	  /* bytes pread from the image */
	uint64_t pages_supplied;  /* data pages supplied */
	uint64_t zero_pages;	  /* pages supplied as zeros (holes, unwritten, past EOF) */
	uint64_t failed_ranges;	  /* requests failed (some range got EIO) */
	uint64_t vmos_registered;
	uint64_t vmos_reclaimed;
	uint64_t vmos_live;
	uint64_t pages_evicted;
	uint64_t cache_bytes; /* frames in use by VMOs */
	uint64_t cache_budget;
	uint64_t read_hits; /* reads served without any page request */
};

struct port_packet;

struct pager {
	struct image *img; /* not owned */
	struct vmo_cache cache;
	struct pager_config cfg; /* immutable after create */
	size_t page_size;	 /* immutable */

	pthread_mutex_t registry_lock;
	struct vmo **registry;	      /* guarded by: registry_lock; hash by inode */
	struct pager_handle *handles; /* guarded by: registry_lock; live child handles */

	pthread_mutex_t port_lock;
	pthread_cond_t port_ready;     /* signalled when a packet is queued */
	struct port_packet *port_head; /* guarded by: port_lock */
	struct port_packet *port_tail; /* guarded by: port_lock */

	pthread_t threads[PAGER_MAX_THREADS];
	unsigned nthreads; /* threads started */

	struct {
		_Atomic uint64_t page_requests, coalesced_waits, bytes_read, pages_supplied,
		    zero_pages, failed_ranges, vmos_registered, vmos_reclaimed, vmos_live,
		    read_hits;
	} stats;
	/* Test hook: called before each image read of a request (may be NULL). */
	void (*before_read_hook)(void *arg);
	void *hook_arg;
};

/* A child handle: what an open file holds. */
struct pager_handle {
	struct vmo *vmo;
	struct pager_handle *prev, *next; /* guarded by: the pager's registry_lock */
};

int pager_create(struct image *img, const struct pager_config *cfg, struct pager **out);
/* Starts the pager threads. Separate from create so a daemon can fork first. */
int pager_start(struct pager *p);
/* Stops the threads (queued requests are failed) and frees everything. */
void pager_destroy(struct pager *p);

/* Registers (or reuses) the VMO of regular file `ino`. Returns 0, -EIO, -ENOMEM. */
int pager_register(struct pager *p, uint32_t ino, struct pager_handle **out);
/* Registers inode `ino` with a given size and map (taken over) instead of reading the inode:
 * for tests and fuzzing, and any caller that has the map already. */
int pager_register_map(struct pager *p, uint32_t ino, uint64_t size, struct extmap *map,
		       struct pager_handle **out);
/* Drops the child handle `h` (and frees it). */
void pager_release(struct pager *p, struct pager_handle *h);

/*
 * Reads [off, off+len) (len ≤ VMO_READ_MAX) into a pinned view, waiting for page requests as
 * needed. Returns 0 (view->len may be < len at EOF), or a negative errno. On 0, the caller
 * writes view->iov out and then calls pager_view_release.
 */
int pager_read(struct pager *p, struct pager_handle *h, uint64_t off, size_t len,
	       struct vmo_view *view);
void pager_view_release(struct pager *p, struct vmo_view *view);

/* SEEK_DATA/SEEK_HOLE on the file behind `h` (see extmap_seek). */
int pager_seek(struct pager_handle *h, uint64_t off, bool want_data, uint64_t *out);

void pager_get_stats(struct pager *p, struct pager_stats *out);
/* Writes the stats as "name value" lines. Returns the length (like snprintf). */
int pager_format_stats(const struct pager_stats *s, char *buf, size_t len);

/* Internal, shared with supply.c: serve one page request on a pager thread. */
struct pager_transfer;
void pager_serve_request(struct pager *p, struct pager_transfer *t, struct vmo *vmo,
			 struct page_request *req);
/* Marks `req` done with `rc` (failing pages from `fail_from` on), drops the pager's reference
 * and wakes the waiters. Takes vmo->lock. */
void pager_complete_request(struct pager *p, struct vmo *vmo, struct page_request *req, int rc,
			    uint64_t fail_from);
struct pager_transfer *pager_transfer_create(struct pager *p);
void pager_transfer_destroy(struct pager *p, struct pager_transfer *t);

#endif
