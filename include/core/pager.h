// SPDX-License-Identifier: MIT
/*
 * pager — the registry of paged files, the port, and the pager threads (the Starnix pager,
 * src/starnix/kernel/fs/ext4/pager.rs; the per-file record is its Ext4PagedFile).
 *
 *   open    → pager_register(ino): one file record and VMO per inode, shared by every open;
 *             the open gets a child handle. The size and extent map are loaded once, here,
 *             through the backing's `load`.
 *   READ    → pager_read_start(handle, off, len): replies from present pages; missing ones
 *             become page requests (page_source.h). The pager is their provider: it queues
 *             each on the port without allocating, and a pager thread has supply.c fill the
 *             pages from the backing's byte source, then completes the request, which resumes
 *             the read (and answers it) on that thread. A read that may (supply_here) supplies
 *             its own first request on its own thread when it is no larger than the readahead
 *             window: a small file then needs no pager thread at all. Other readers waiting on
 *             such a request are resumed through the port, on a pager thread.
 *   release → pager_release(handle): the release that drops the last child checks, once it
 *             has let go of the registry lock, that no open came back meanwhile, unregisters
 *             the file and reclaims its VMO's pages (Starnix's zero-children handler).
 *
 * Locks, in the order they may be taken: registry_lock → vmo->lock → port_lock. registry_lock
 * guards the registry, every file record's children/refs/zero flag and the handle list;
 * port_lock guards the queues; spare_lock (a leaf) the spare transfer buffers. None is held
 * while the backing is read.
 */
#ifndef EXT4PAGER_PAGER_H
#define EXT4PAGER_PAGER_H

#include "byte_source.h"
#include "extmap.h"
#include "vmo.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGER_DEFAULT_READAHEAD (128u << 10)
#define PAGER_DEFAULT_CACHE	(64u << 20)
#define PAGER_MAX_THREADS	64

/* Where files' bytes come from. Both borrowed for the pager's life. */
struct pager_backing {
	struct byte_source *data; /* extent maps' physical blocks are offsets into it */
	/* Loads file `ino`'s size and map, and the transform its pages need (*transform stays
	 * NULL for none; the VMO takes it over): 0, -EIO, -ENOMEM, or an open's errno (ENOKEY).
	 * May be NULL (pager_register_map only). Called without any pager lock, possibly from
	 * several threads at once. */
	int (*load)(void *ctx, uint32_t ino, uint64_t *size, struct extmap *map,
		    struct supply_transform **transform);
	void *ctx;
};

struct pager_config {
	unsigned threads;     /* pager threads; 0 = default */
	uint64_t readahead;   /* bytes; requests end on a multiple of it */
	uint64_t cache_bytes; /* budget for present pages */
};

/* The counters, declared once: X(name, what it counts). */
#define PAGER_COUNTERS(X)                                                                          \
	X(page_requests, "requests sent to pager threads")                                         \
	X(coalesced_waits, "reads that waited on another reader's request")                        \
	X(bytes_read, "bytes read from the image")                                                 \
	X(pages_supplied, "data pages supplied")                                                   \
	X(zero_pages, "pages supplied as zeros (holes, unwritten, past EOF)")                      \
	X(failed_ranges, "requests that failed (some range got EIO)")                              \
	X(vmos_registered, "files registered")                                                     \
	X(vmos_reclaimed, "files reclaimed after their last child")                                \
	X(vmos_live, "files registered now")                                                       \
	X(read_hits, "reads that waited for no page request")                                      \
	X(inline_supplies, "page requests supplied on the reader's own thread")
/* Read off the cache when stats are taken. */
#define PAGER_GAUGES(X)                                                                            \
	X(pages_evicted, "pages evicted to stay in the budget")                                    \
	X(cache_bytes, "frames in use by VMOs")                                                    \
	X(cache_budget, "the cache budget")

struct pager_stats {
#define PAGER_STAT_FIELD(name, what) uint64_t name;
	PAGER_COUNTERS(PAGER_STAT_FIELD) PAGER_GAUGES(PAGER_STAT_FIELD)
#undef PAGER_STAT_FIELD
};

struct pager;
struct pager_handle; /* a child: what an open file holds */

int pager_create(const struct pager_backing *backing, const struct pager_config *cfg,
		 struct pager **out);
/* Starts the pager threads. Separate from create so a daemon can fork first. */
int pager_start(struct pager *p);
/* Releases what is still open, stops the threads (after they drain the port) and frees
 * everything. */
void pager_destroy(struct pager *p);

/* Registers (or reuses) the file `ino`. Returns 0, -EIO, -ENOMEM. */
int pager_register(struct pager *p, uint32_t ino, struct pager_handle **out);
/* Registers file `ino` with a given size and map (taken over) instead of loading it: for tests
 * and fuzzing, and any caller that has the map already. */
int pager_register_map(struct pager *p, uint32_t ino, uint64_t size, struct extmap *map,
		       struct pager_handle **out);
/* Drops the child handle `h` (and frees it). */
void pager_release(struct pager *p, struct pager_handle *h);
/* The VMO behind a handle (tests, diagnostics); valid while the handle is. */
struct vmo *pager_handle_vmo(const struct pager_handle *h);

/*
 * One read that never sleeps (what a FUSE handler on an io_uring queue needs): the caller fills
 * the public fields and calls pager_read_start, which pins [off, off+len) (len ≤ VMO_READ_MAX)
 * into *view and calls done(r, 0) once every page is present (view->len may be < len at EOF),
 * or done(r, -errno). done is called exactly once: on the caller's thread when no page request
 * had to be waited for or the caller supplied it (supply_here), otherwise on the pager thread
 * that completed the last one (Zircon's model: the provider's completion moves the reader on). `r`, `view` and the handle are the
 * caller's to keep alive until then. After done(r, 0) the caller writes view->iov out and
 * calls pager_view_release.
 */
struct pager_read {
	struct pager_handle *h;
	uint64_t off;
	size_t len;
	struct vmo_view *view;
	void (*done)(struct pager_read *r, int rc);
	/* The caller's thread may read the backing itself for a small request this read waits
	 * on (it then blocks for that read, not for other readers' requests); done may then run
	 * before pager_read_start returns. */
	bool supply_here;
	/* Private to the pager. */
	struct pager *p;
	struct page_waiter waiter;
	uint64_t first, last, readahead_end;
	unsigned requests_sent, coalesced_waits;
};
void pager_read_start(struct pager *p, struct pager_read *r);

/* pager_read_start, waiting for done: 0 or a negative errno, as done would get. */
int pager_read(struct pager *p, struct pager_handle *h, uint64_t off, size_t len,
	       struct vmo_view *view);
void pager_view_release(struct pager *p, struct vmo_view *view);

/* SEEK_DATA/SEEK_HOLE on the file behind `h` (see extmap_seek). */
int pager_seek(struct pager_handle *h, uint64_t off, bool want_data, uint64_t *out);

void pager_get_stats(struct pager *p, struct pager_stats *out);
/* Writes the stats as "name value" lines. Returns the length (like snprintf). */
int pager_format_stats(const struct pager_stats *s, char *buf, size_t len);

#endif
