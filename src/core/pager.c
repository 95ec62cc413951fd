// SPDX-License-Identifier: MIT
#include "pager.h"

#include "list.h"
#include "lock.h"
#include "supply.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REGISTRY_BUCKETS 4096
#define SPARE_BUFFERS	 PAGER_MAX_THREADS

/*
 * The pager's record of one paged file. Alive while anything refers to it: the registry
 * (while registered), each child handle, a queued zero-children packet.
 */
struct pager_file {
	uint32_t ino;		      /* immutable */
	struct vmo *vmo;	      /* immutable; one reference, dropped when the file goes */
	struct pager_file *hash_next; /* guarded by: registry_lock */
	bool registered;	      /* guarded by: registry_lock */
	int children;		      /* guarded by: registry_lock; open handles */
	int refs;		      /* guarded by: registry_lock */
	bool zero_queued;	      /* guarded by: registry_lock; a zero-children check is due */
};

struct pager_handle {
	struct pager_file *file;
	struct list_node link; /* guarded by: registry_lock; the pager's live handles */
};

struct pager {
	struct page_provider provider; /* first: page_source calls back through it */
	struct pager_backing backing;  /* immutable */
	struct vmo_cache cache;
	struct pager_config cfg; /* immutable after create */
	size_t page_size;	 /* immutable */

	struct mutex registry_lock;
	struct pager_file **registry; /* guarded by: registry_lock; hash by inode */
	struct list_node handles;     /* guarded by: registry_lock */

	struct mutex port_lock;
	pthread_cond_t port_ready; /* signalled when a packet is queued or on quit */
	struct list_node reads;	   /* guarded by: port_lock; page_request.port_link */
	struct list_node resumes;  /* guarded by: port_lock; page_waiter.link, deferred */
	bool quitting;		   /* guarded by: port_lock */

	/* Transfer buffers for supplies on readers' threads, kept between them. */
	struct mutex spare_lock;
	struct supply_buffer *spare[SPARE_BUFFERS]; /* guarded by: spare_lock */
	unsigned nspare;			    /* guarded by: spare_lock */

	pthread_t threads[PAGER_MAX_THREADS];
	unsigned nthreads; /* threads started */

	struct {
#define PAGER_ATOMIC_FIELD(name, what) _Atomic uint64_t name;
		PAGER_COUNTERS(PAGER_ATOMIC_FIELD)
#undef PAGER_ATOMIC_FIELD
	} stats;
};

#define COUNT(p, name, n) atomic_fetch_add(&(p)->stats.name, (n))

/* ---- the port ---- */

/*
 * A read whose caller lets it supply on its own thread (pager_read.supply_here) parks the first
 * request it creates here instead of queueing it when it is no larger than the readahead
 * window, and supplies it once the VMO is unlocked: a small file or an mmap fault then costs no
 * hand-off to a pager thread and back (Zircon's synchronous page requests,
 * zircon/kernel/vm/page_source.cc PageSource::GetPageSync, serve the same purpose). A stream's
 * 1 MiB READs still go to the pager threads, which read them in parallel. Set only around the
 * fault in pager_read_start, on that thread.
 */
struct inline_claim {
	const struct pager *p;
	struct page_request *req;
};
static _Thread_local struct inline_claim *claim;

static void port_queue_read(struct pager *p, struct page_request *req)
{
	mutex_lock(&p->port_lock);
	list_push_back(&p->reads, &req->port_link);
	pthread_cond_signal(&p->port_ready);
	mutex_unlock(&p->port_lock);
}

/* page_provider.send: a new page request, queued (or claimed). Called under vmo->lock; never
 * allocates. */
static void port_send_read(struct page_provider *provider, struct page_request *req)
{
	struct pager *p = (struct pager *)provider;

	COUNT(p, page_requests, 1);
	if (claim && claim->p == p && !claim->req &&
	    (req->end - req->first) * p->page_size <= p->cfg.readahead)
		claim->req = req;
	else
		port_queue_read(p, req);
}

/* page_source_complete_from's defer: another reader's continuation, for a pager thread. */
static void port_send_resume(struct page_waiter *w, void *ctx)
{
	struct pager *p = ctx;

	mutex_lock(&p->port_lock);
	list_push_back(&p->resumes, &w->link);
	pthread_cond_signal(&p->port_ready);
	mutex_unlock(&p->port_lock);
}

/* The next packet: a read (*req) or a deferred resume (*w). Blocks while the port is empty,
 * unless `wait` is false or the pager is quitting; false when there is none. */
static bool port_take(struct pager *p, bool wait, struct page_request **req,
		      struct page_waiter **w)
{
	struct list_node *n = NULL;

	*req = NULL;
	*w = NULL;
	mutex_lock(&p->port_lock);
	for (;;) {
		if ((n = list_pop_front(&p->resumes))) { /* first: their readers are waiting */
			*w = list_entry(n, struct page_waiter, link);
			break;
		}
		if ((n = list_pop_front(&p->reads))) {
			*req = list_entry(n, struct page_request, port_link);
			break;
		}
		if (!wait || p->quitting)
			break;
		mutex_wait(&p->port_ready, &p->port_lock);
	}
	mutex_unlock(&p->port_lock);
	return n != NULL;
}

/* ---- the registry and file records ---- */

static size_t registry_slot(uint32_t ino)
{
	return (ino * 2654435761u) % REGISTRY_BUCKETS;
}

static struct pager_file *registry_find_locked(struct pager *p, uint32_t ino)
    REQUIRES(p->registry_lock)
{
	for (struct pager_file *f = p->registry[registry_slot(ino)]; f; f = f->hash_next)
		if (f->ino == ino)
			return f;
	return NULL;
}

static void registry_insert_locked(struct pager *p, struct pager_file *f) REQUIRES(p->registry_lock)
{
	f->hash_next = p->registry[registry_slot(f->ino)];
	p->registry[registry_slot(f->ino)] = f;
	f->registered = true;
	f->refs++;
	COUNT(p, vmos_registered, 1);
	COUNT(p, vmos_live, 1);
}

static void registry_remove_locked(struct pager *p, struct pager_file *f) REQUIRES(p->registry_lock)
{
	struct pager_file **pp = &p->registry[registry_slot(f->ino)];

	while (*pp != f)
		pp = &(*pp)->hash_next;
	*pp = f->hash_next;
	f->hash_next = NULL;
	f->registered = false;
	f->refs--;
}

/* Drops one reference; true when it was the last (the caller then calls file_free). */
static bool file_put_locked(struct pager *p, struct pager_file *f) REQUIRES(p->registry_lock)
{
	(void)p;
	assert(f->refs > 0);
	return --f->refs == 0;
}

static void file_free(struct pager_file *f)
{
	vmo_put(f->vmo);
	free(f);
}

static struct pager_file *file_create(struct pager *p, uint32_t ino, uint64_t size,
				      struct extmap *map, struct supply_transform *transform)
{
	struct pager_file *f = calloc(1, sizeof(*f));

	if (f)
		f->vmo = vmo_create(&p->cache, size, map);
	else
		extmap_free(map);
	if (!f || !f->vmo) {
		if (transform && transform->release)
			transform->release(transform->ctx);
		free(f);
		return NULL;
	}
	f->vmo->transform = transform;
	f->ino = ino;
	return f;
}

/* A new child of `f`; caller holds registry_lock and has a handle allocated. */
static struct pager_handle *adopt_child_locked(struct pager *p, struct pager_file *f,
					       struct pager_handle *h) REQUIRES(p->registry_lock)
{
	f->children++;
	f->refs++;
	h->file = f;
	list_push_back(&p->handles, &h->link);
	return h;
}

/* Starnix's zero-children handler (src/starnix/kernel/fs/ext4/pager.rs, the
 * VMO_ZERO_CHILDREN signal), run by the release that dropped the last child once it has let go
 * of the registry lock: an open may have come back in between. */
static void handle_zero_children(struct pager *p, struct pager_file *f)
{
	bool reclaim = false, last;

	mutex_lock(&p->registry_lock);
	f->zero_queued = false;
	if (f->children == 0 && f->registered) {
		registry_remove_locked(p, f);
		reclaim = true;
	}
	last = file_put_locked(p, f); /* the check's */
	mutex_unlock(&p->registry_lock);
	if (reclaim) {
		/* Unregistered with no children: nothing can find the file any more. */
		vmo_reclaim(f->vmo);
		/* live first: whoever sees the reclaim counted also sees the file gone */
		atomic_fetch_sub(&p->stats.vmos_live, 1);
		COUNT(p, vmos_reclaimed, 1);
	}
	if (last)
		file_free(f);
}

/* ---- the pager threads ---- */

/* Supplies `req` and completes it. `own` is the waiter of the reader whose thread this is when
 * the supply runs inline (see inline_claim); other readers then resume on a pager thread. */
static void serve_read(struct pager *p, struct supply_buffer *buf, struct page_request *req,
		       bool on_reader_thread, struct page_waiter *own)
{
	struct vmo *vmo = req->vmo;
	struct supply_job job = {.vmo = vmo, .src = p->backing.data, .transform = vmo->transform};
	struct supply_result res = {.next_page = req->first};
	bool reclaimed;
	int rc = -EIO;

	mutex_lock(&vmo->lock);
	reclaimed = vmo->reclaimed;
	mutex_unlock(&vmo->lock);
	if (buf && !reclaimed)
		rc = supply_range(buf, &job, req->first, req->end, &res);
	COUNT(p, bytes_read, res.bytes_read);
	COUNT(p, pages_supplied, res.pages_supplied);
	COUNT(p, zero_pages, res.zero_pages);
	/* Counted before the waiters wake, so a reader that saw the error also sees it counted. */
	if (rc < 0)
		COUNT(p, failed_ranges, 1);
	if (on_reader_thread)
		page_source_complete_from(req, rc, res.next_page, own, port_send_resume, p);
	else
		page_source_complete(req, rc, res.next_page);
	vmo_put(vmo); /* the reference the VMO gave its provider with the request */
	vmo_cache_trim(&p->cache);
}

/* Handles one packet taken off the port. Without a buffer, reads fail (nobody hangs). */
static void handle_packet(struct pager *p, struct supply_buffer *buf, struct page_request *req,
			  struct page_waiter *w)
{
	if (req)
		serve_read(p, buf, req, false, NULL);
	else
		w->resume(w, w->status);
}

static void *pager_thread(void *arg)
{
	struct pager *p = arg;
	struct supply_buffer *buf = supply_buffer_create(&p->cache.pool);
	struct page_request *req;
	struct page_waiter *w;

	while (port_take(p, true, &req, &w))
		handle_packet(p, buf, req, w);
	supply_buffer_destroy(buf);
	return NULL;
}

/* A transfer buffer for a supply on a reader's thread; NULL when none can be made (the
 * request then fails, as on a pager thread without one). */
static struct supply_buffer *spare_take(struct pager *p)
{
	struct supply_buffer *b = NULL;

	mutex_lock(&p->spare_lock);
	if (p->nspare)
		b = p->spare[--p->nspare];
	mutex_unlock(&p->spare_lock);
	return b ? b : supply_buffer_create(&p->cache.pool);
}

static void spare_give(struct pager *p, struct supply_buffer *b)
{
	mutex_lock(&p->spare_lock);
	if (b && p->nspare < SPARE_BUFFERS) {
		p->spare[p->nspare++] = b;
		b = NULL;
	}
	mutex_unlock(&p->spare_lock);
	supply_buffer_destroy(b);
}

/* The claimed request, supplied on the reader's thread; `own` may resume (and be answered)
 * before this returns. */
static void serve_inline(struct pager *p, struct page_request *req, struct page_waiter *own)
{
	struct supply_buffer *buf = spare_take(p);

	COUNT(p, inline_supplies, 1);
	serve_read(p, buf, req, true, own);
	spare_give(p, buf);
}

static unsigned default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 2 ? 2 : (n > 8 ? 8 : (unsigned)n);
}

static void configure(struct pager *p, const struct pager_config *cfg)
{
	p->cfg = *cfg;
	if (!p->cfg.threads)
		p->cfg.threads = default_threads();
	if (p->cfg.threads > PAGER_MAX_THREADS)
		p->cfg.threads = PAGER_MAX_THREADS;
	if (!p->cfg.readahead)
		p->cfg.readahead = PAGER_DEFAULT_READAHEAD;
	if (!p->cfg.cache_bytes)
		p->cfg.cache_bytes = PAGER_DEFAULT_CACHE;
}

int pager_create(const struct pager_backing *backing, const struct pager_config *cfg,
		 struct pager **out)
{
	struct pager *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return -ENOMEM;
	p->provider.send = port_send_read;
	p->backing = *backing;
	configure(p, cfg);
	rc = vmo_cache_init(&p->cache, p->cfg.cache_bytes);
	p->registry = calloc(REGISTRY_BUCKETS, sizeof(*p->registry));
	if (rc || !p->registry) {
		if (rc == 0)
			vmo_cache_destroy(&p->cache);
		free(p->registry);
		free(p);
		return rc ? rc : -ENOMEM;
	}
	p->page_size = p->cache.pool.page_size;
	if (p->cfg.readahead < p->page_size)
		p->cfg.readahead = p->page_size;
	mutex_init(&p->registry_lock);
	mutex_init(&p->port_lock);
	mutex_init(&p->spare_lock);
	pthread_cond_init(&p->port_ready, NULL);
	list_init(&p->handles);
	list_init(&p->reads);
	list_init(&p->resumes);
	*out = p;
	return 0;
}

int pager_start(struct pager *p)
{
	sigset_t all, old;
	int rc = 0;

	/* Signals belong to the thread that runs the FUSE loop: one taken by a pager thread
	 * would set the exit flag without waking the loop, and SIGTERM would not unmount. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	while (p->nthreads < p->cfg.threads) {
		if (pthread_create(&p->threads[p->nthreads], NULL, pager_thread, p) != 0) {
			rc = p->nthreads ? 0 : -EAGAIN;
			break;
		}
		p->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* Frees every file still registered; no thread runs any more. */
static void registry_clear(struct pager *p)
{
	mutex_lock(&p->registry_lock);
	for (size_t i = 0; i < REGISTRY_BUCKETS; i++) {
		while (p->registry[i]) {
			struct pager_file *f = p->registry[i];
			registry_remove_locked(p, f);
			if (f->refs == 0)
				file_free(f);
		}
	}
	mutex_unlock(&p->registry_lock);
}

void pager_destroy(struct pager *p)
{
	struct page_request *req;
	struct page_waiter *w;

	/* Files still open when the session ended (a lazy unmount, a signal) are released here,
	 * while the threads still run to reclaim their VMOs. No request can come in any more. */
	for (;;) {
		struct list_node *n;
		mutex_lock(&p->registry_lock);
		n = list_empty(&p->handles) ? NULL : p->handles.next;
		mutex_unlock(&p->registry_lock);
		if (!n)
			break;
		pager_release(p, list_entry(n, struct pager_handle, link));
	}
	mutex_lock(&p->port_lock);
	p->quitting = true; /* the threads drain the port first: port_take prefers packets */
	pthread_cond_broadcast(&p->port_ready);
	mutex_unlock(&p->port_lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	while (port_take(p, false, &req, &w)) /* never started: fail here */
		handle_packet(p, NULL, req, w);
	registry_clear(p);
	while (p->nspare)
		supply_buffer_destroy(p->spare[--p->nspare]);
	free(p->registry);
	vmo_cache_destroy(&p->cache);
	pthread_cond_destroy(&p->port_ready);
	mutex_destroy(&p->spare_lock);
	mutex_destroy(&p->port_lock);
	mutex_destroy(&p->registry_lock);
	free(p);
}

/* Registers `fresh` (a new file with no references) unless another open registered the inode
 * first; either way the result gets a child handle `h`. */
static struct pager_handle *register_or_adopt(struct pager *p, struct pager_file *fresh,
					      struct pager_handle *h)
{
	struct pager_file *f;

	mutex_lock(&p->registry_lock);
	f = registry_find_locked(p, fresh->ino);
	if (!f) {
		registry_insert_locked(p, fresh);
		f = fresh;
		fresh = NULL;
	}
	adopt_child_locked(p, f, h);
	mutex_unlock(&p->registry_lock);
	if (fresh)
		file_free(fresh);
	return h;
}

/* `transform` (may be NULL) goes with the file's VMO, set before anyone can read it. */
static int register_loaded(struct pager *p, uint32_t ino, uint64_t size, struct extmap *map,
			   struct supply_transform *transform, struct pager_handle *h,
			   struct pager_handle **out)
{
	struct pager_file *f = file_create(p, ino, size, map, transform);

	if (!f) {
		free(h);
		return -ENOMEM;
	}
	*out = register_or_adopt(p, f, h);
	return 0;
}

int pager_register(struct pager *p, uint32_t ino, struct pager_handle **out)
{
	struct pager_handle *h = malloc(sizeof(*h));
	struct pager_file *f;
	struct supply_transform *transform = NULL;
	struct extmap map;
	uint64_t size = 0;
	int rc;

	if (!h)
		return -ENOMEM;
	mutex_lock(&p->registry_lock);
	f = registry_find_locked(p, ino);
	if (f)
		*out = adopt_child_locked(p, f, h);
	mutex_unlock(&p->registry_lock);
	if (f)
		return 0;
	/* Loaded without the registry lock; if another open raced us, its file wins. */
	rc = p->backing.load ? p->backing.load(p->backing.ctx, ino, &size, &map, &transform) : -EIO;
	if (rc) {
		free(h);
		return rc;
	}
	return register_loaded(p, ino, size, &map, transform, h, out);
}

int pager_register_map(struct pager *p, uint32_t ino, uint64_t size, struct extmap *map,
		       struct pager_handle **out)
{
	struct pager_handle *h = malloc(sizeof(*h));

	if (!h) {
		extmap_free(map);
		return -ENOMEM;
	}
	return register_loaded(p, ino, size, map, NULL, h, out);
}

void pager_release(struct pager *p, struct pager_handle *h)
{
	struct pager_file *f = h->file;
	bool zero = false, last;

	mutex_lock(&p->registry_lock);
	list_remove(&h->link);
	assert(f->children > 0);
	if (--f->children == 0 && !f->zero_queued) {
		f->zero_queued = true;
		f->refs++; /* the check's */
		zero = true;
	}
	last = file_put_locked(p, f);
	mutex_unlock(&p->registry_lock);
	if (zero)
		handle_zero_children(p, f); /* here: a hand-off to a pager thread costs more */
	if (last)
		file_free(f);
	free(h);
}

struct vmo *pager_handle_vmo(const struct pager_handle *h)
{
	return h->file->vmo;
}

/* The read's pages are pinned: asks for the missing ones. 0 (view filled), -EINPROGRESS (the
 * waiter is attached to a request), or an error (pins dropped). */
static int read_continue_locked(struct pager *p, struct pager_read *r, struct vmo *vmo)
    REQUIRES(vmo->lock)
{
	struct page_source_result res = {0};
	int rc = vmo_get_pages_locked(vmo, &p->provider, r->first, r->last, r->readahead_end, &res,
				      &r->waiter);

	r->requests_sent += res.requests_sent;
	r->coalesced_waits += res.coalesced_waits;
	if (rc == 0)
		vmo_view_fill_locked(vmo, r->off, r->len, r->view);
	else if (rc != -EINPROGRESS)
		vmo_unpin_locked(vmo, r->view);
	return rc;
}

static void read_finish(struct pager *p, struct pager_read *r, int rc)
{
	if (r->coalesced_waits) /* no shared-counter write on the common path */
		COUNT(p, coalesced_waits, r->coalesced_waits);
	if (rc == 0 && r->requests_sent == 0 && r->coalesced_waits == 0)
		COUNT(p, read_hits, 1); /* waited for nothing */
	if (rc == 0 && r->view->npinned)
		vmo_get(r->view->vmo); /* the view's: the file may be released before the view is */
	r->done(r, rc);
}

/* page_waiter.resume: a request the read waited for is done (on the completing thread). */
static void read_resume(struct page_waiter *w, int status)
{
	struct pager_read *r = (struct pager_read *)((char *)w - offsetof(struct pager_read, waiter));
	struct vmo *vmo = r->view->vmo;
	int rc;

	mutex_lock(&vmo->lock);
	if (status) {
		vmo_unpin_locked(vmo, r->view);
		rc = status;
	} else {
		rc = read_continue_locked(r->p, r, vmo);
	}
	mutex_unlock(&vmo->lock);
	if (rc != -EINPROGRESS)
		read_finish(r->p, r, rc);
}

void pager_read_start(struct pager *p, struct pager_read *r)
{
	struct vmo *vmo = r->h->file->vmo;
	struct vmo_view *view = r->view;
	uint64_t ra = p->cfg.readahead / p->page_size;
	struct inline_claim mine = {.p = p};
	size_t len = r->len;
	int rc;

	view->vmo = vmo;
	view->iovcnt = 0;
	view->len = 0;
	view->npinned = 0;
	r->p = p;
	r->waiter.resume = read_resume;
	r->requests_sent = 0;
	r->coalesced_waits = 0;
	if (r->off >= vmo->size || len == 0) {
		r->done(r, 0);
		return;
	}
	if (len > vmo->size - r->off)
		r->len = len = (size_t)(vmo->size - r->off);
	if (len > VMO_READ_MAX) {
		r->done(r, -EINVAL);
		return;
	}
	r->first = r->off / p->page_size;
	r->last = (r->off + len - 1) / p->page_size;
	r->readahead_end = (r->last / ra + 1) * ra;

	if (r->supply_here)
		claim = &mine;
	mutex_lock(&vmo->lock);
	rc = vmo_pin_locked(vmo, r->first, r->last, view);
	if (rc == 0)
		rc = read_continue_locked(p, r, vmo);
	mutex_unlock(&vmo->lock);
	claim = NULL;
	if (mine.req && rc != -EINPROGRESS) /* readahead the read does not wait for */
		port_queue_read(p, mine.req);
	if (rc != -EINPROGRESS)
		read_finish(p, r, rc);
	else if (mine.req)
		serve_inline(p, mine.req, &r->waiter); /* may finish `r`: not touched after */
}

/* pager_read's wait: done may run on a pager thread while the reader sleeps here. */
struct read_sync {
	struct pager_read r;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done; /* guarded by: lock */
	int rc;
};

static void read_sync_done(struct pager_read *r, int rc)
{
	struct read_sync *s = (struct read_sync *)r;

	pthread_mutex_lock(&s->lock);
	s->rc = rc;
	s->done = true;
	pthread_cond_signal(&s->cond); /* under the lock: `s` is gone once the reader sees done */
	pthread_mutex_unlock(&s->lock);
}

int pager_read(struct pager *p, struct pager_handle *h, uint64_t off, size_t len,
	       struct vmo_view *view)
{
	struct read_sync s = {
	    .r = {.h = h, .off = off, .len = len, .view = view, .done = read_sync_done}};

	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	pager_read_start(p, &s.r);
	pthread_mutex_lock(&s.lock);
	while (!s.done)
		pthread_cond_wait(&s.cond, &s.lock);
	pthread_mutex_unlock(&s.lock);
	pthread_cond_destroy(&s.cond);
	pthread_mutex_destroy(&s.lock);
	return s.rc;
}

void pager_view_release(struct pager *p, struct vmo_view *view)
{
	(void)p;
	if (!view->vmo || view->npinned == 0)
		return;
	mutex_lock(&view->vmo->lock);
	vmo_unpin_locked(view->vmo, view);
	mutex_unlock(&view->vmo->lock);
	vmo_put(view->vmo);
	view->vmo = NULL;
}

int pager_seek(struct pager_handle *h, uint64_t off, bool want_data, uint64_t *out)
{
	/* The map and size are immutable while the handle holds its child reference. */
	return extmap_seek(&h->file->vmo->map, h->file->vmo->size, off, want_data, out);
}

void pager_get_stats(struct pager *p, struct pager_stats *s)
{
#define PAGER_LOAD(name, what) s->name = atomic_load(&p->stats.name);
	PAGER_COUNTERS(PAGER_LOAD)
#undef PAGER_LOAD
	s->pages_evicted = atomic_load(&p->cache.pages_evicted);
	s->cache_bytes = pagepool_in_use(&p->cache.pool) * p->page_size;
	s->cache_budget = p->cache.budget_pages * p->page_size;
}

int pager_format_stats(const struct pager_stats *s, char *buf, size_t len)
{
	size_t n = 0;

#define PAGER_PRINT(name, what)                                                                    \
	n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, #name " %llu\n",   \
			      (unsigned long long)s->name);
	PAGER_COUNTERS(PAGER_PRINT)
	PAGER_GAUGES(PAGER_PRINT)
#undef PAGER_PRINT
	return (int)n;
}
