#include "pager.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REGISTRY_BUCKETS 4096

enum packet_type { PACKET_READ, PACKET_ZERO_CHILDREN, PACKET_QUIT };

/* One entry on the port. Owns a VMO reference (except QUIT) and, for READ, the pager's
 * reference on the request. */
struct port_packet {
	enum packet_type type;
	struct vmo *vmo;
	struct page_request *req;
	struct port_packet *next;
};

static void port_push(struct pager *p, struct port_packet *pkt)
{
	pthread_mutex_lock(&p->port_lock);
	pkt->next = NULL;
	if (p->port_tail)
		p->port_tail->next = pkt;
	else
		p->port_head = pkt;
	p->port_tail = pkt;
	pthread_cond_signal(&p->port_ready);
	pthread_mutex_unlock(&p->port_lock);
}

/* Blocks until a packet is queued, or returns NULL at once if `wait` is false and none is. */
static struct port_packet *port_pop(struct pager *p, bool wait)
{
	struct port_packet *pkt;

	pthread_mutex_lock(&p->port_lock);
	while (wait && !p->port_head)
		pthread_cond_wait(&p->port_ready, &p->port_lock);
	pkt = p->port_head;
	if (pkt) {
		p->port_head = pkt->next;
		if (!p->port_head)
			p->port_tail = NULL;
	}
	pthread_mutex_unlock(&p->port_lock);
	return pkt;
}

static size_t registry_slot(uint32_t ino)
{
	return (ino * 2654435761u) % REGISTRY_BUCKETS;
}

/* Caller holds registry_lock. */
static struct vmo *registry_find_locked(struct pager *p, uint32_t ino)
{
	for (struct vmo *v = p->registry[registry_slot(ino)]; v; v = v->registry_next)
		if (v->ino == ino)
			return v;
	return NULL;
}

static void registry_remove_locked(struct pager *p, struct vmo *vmo)
{
	for (struct vmo **pp = &p->registry[registry_slot(vmo->ino)]; *pp;
	     pp = &(*pp)->registry_next) {
		if (*pp == vmo) {
			*pp = vmo->registry_next;
			vmo->registry_next = NULL;
			return;
		}
	}
}

/* The seed's VMO_ZERO_CHILDREN handler: an open may have come back since the packet was sent. */
static void handle_zero_children(struct pager *p, struct vmo *vmo)
{
	bool reclaim = false;

	pthread_mutex_lock(&p->registry_lock);
	if (vmo->children == 0 && registry_find_locked(p, vmo->ino) == vmo) {
		registry_remove_locked(p, vmo);
		reclaim = true;
	}
	pthread_mutex_unlock(&p->registry_lock);
	if (reclaim) {
		vmo_reclaim(vmo);
		vmo_put(vmo); /* the registry's reference */
		atomic_fetch_add(&p->stats.vmos_reclaimed, 1);
		atomic_fetch_sub(&p->stats.vmos_live, 1);
	}
}

/* Handles one packet; returns false for QUIT. Frees the packet. */
static bool handle_packet(struct pager *p, struct pager_transfer *t, struct port_packet *pkt)
{
	bool go_on = true;

	switch (pkt->type) {
	case PACKET_READ:
		if (t)
			pager_serve_request(p, t, pkt->vmo, pkt->req);
		else
			pager_complete_request(p, pkt->vmo, pkt->req, -EIO, pkt->req->first);
		break;
	case PACKET_ZERO_CHILDREN:
		handle_zero_children(p, pkt->vmo);
		break;
	case PACKET_QUIT:
		go_on = false;
		break;
	}
	if (pkt->vmo)
		vmo_put(pkt->vmo);
	free(pkt);
	return go_on;
}

static void *pager_thread(void *arg)
{
	struct pager *p = arg;
	struct pager_transfer *t = pager_transfer_create(p);

	/* Without a transfer buffer this thread can still fail requests, so no reader hangs. */
	while (handle_packet(p, t, port_pop(p, true)))
		;
	pager_transfer_destroy(p, t);
	return NULL;
}

static unsigned default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 2 ? 2 : (n > 8 ? 8 : (unsigned)n);
}

int pager_create(struct image *img, const struct pager_config *cfg, struct pager **out)
{
	struct pager *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return -ENOMEM;
	p->img = img;
	p->cfg = *cfg;
	if (!p->cfg.threads)
		p->cfg.threads = default_threads();
	if (p->cfg.threads > PAGER_MAX_THREADS)
		p->cfg.threads = PAGER_MAX_THREADS;
	if (!p->cfg.readahead)
		p->cfg.readahead = PAGER_DEFAULT_READAHEAD;
	if (!p->cfg.cache_bytes)
		p->cfg.cache_bytes = PAGER_DEFAULT_CACHE;
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
	pthread_mutex_init(&p->registry_lock, NULL);
	pthread_mutex_init(&p->port_lock, NULL);
	pthread_cond_init(&p->port_ready, NULL);
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

void pager_destroy(struct pager *p)
{
	struct port_packet *pkt;

	/* Files still open when the session ended (a lazy unmount, a signal) are released here,
	 * while the threads still run to reclaim their VMOs. No request can come in any more. */
	while (p->handles)
		pager_release(p, p->handles);

	for (unsigned i = 0; i < p->nthreads; i++) {
		pkt = calloc(1, sizeof(*pkt));
		if (!pkt)
			abort(); /* cannot stop the threads otherwise */
		pkt->type = PACKET_QUIT;
		port_push(p, pkt);
	}
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	while ((pkt = port_pop(p, false)))
		handle_packet(p, NULL, pkt);
	for (size_t i = 0; i < REGISTRY_BUCKETS; i++) {
		while (p->registry[i]) {
			struct vmo *v = p->registry[i];
			p->registry[i] = v->registry_next;
			vmo_put(v);
		}
	}
	free(p->registry);
	vmo_cache_destroy(&p->cache);
	pthread_cond_destroy(&p->port_ready);
	pthread_mutex_destroy(&p->port_lock);
	pthread_mutex_destroy(&p->registry_lock);
	free(p);
}

/* A new child handle on `vmo`, linked into the pager's list of live handles. */
static struct pager_handle *handle_for(struct pager *p, struct vmo *vmo)
{
	struct pager_handle *h = malloc(sizeof(*h));

	if (!h)
		return NULL;
	h->vmo = vmo;
	h->prev = NULL;
	pthread_mutex_lock(&p->registry_lock);
	h->next = p->handles;
	if (h->next)
		h->next->prev = h;
	p->handles = h;
	pthread_mutex_unlock(&p->registry_lock);
	return h;
}

static void unlink_handle(struct pager *p, struct pager_handle *h)
{
	pthread_mutex_lock(&p->registry_lock);
	if (h->prev)
		h->prev->next = h->next;
	else
		p->handles = h->next;
	if (h->next)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&p->registry_lock);
}

/* Looks the inode up in the registry and, if there, counts a new child. Takes registry_lock. */
static struct vmo *registry_adopt(struct pager *p, uint32_t ino, struct vmo *fresh)
{
	struct vmo *v;

	pthread_mutex_lock(&p->registry_lock);
	v = registry_find_locked(p, ino);
	if (!v && fresh) {
		v = fresh;
		v->registry_next = p->registry[registry_slot(ino)];
		p->registry[registry_slot(ino)] = v;
		vmo_get(v); /* the registry keeps the creation reference; this one is the child's */
		atomic_fetch_add(&p->stats.vmos_registered, 1);
		atomic_fetch_add(&p->stats.vmos_live, 1);
	} else if (v) {
		vmo_get(v);
	}
	if (v)
		v->children++;
	pthread_mutex_unlock(&p->registry_lock);
	return v;
}

static int build_vmo(struct pager *p, uint32_t ino, struct vmo **out)
{
	struct ext2_inode inode;
	struct extmap map;
	uint64_t size = 0;
	int rc;

	image_lock(p->img);
	rc = image_errno(ext2fs_read_inode(p->img->fs, ino, &inode));
	if (rc == 0) {
		size = EXT2_I_SIZE(&inode);
		rc = extmap_build(p->img, ino, size, &map);
	}
	image_unlock(p->img);
	if (rc)
		return rc < 0 && rc != -ENOMEM ? -EIO : rc;
	*out = vmo_create(&p->cache, ino, size, &map);
	return *out ? 0 : -ENOMEM;
}

static void release_child(struct pager *p, struct vmo *v);

/* Registers `fresh` unless another open registered the inode first; returns the winner. */
static int register_vmo(struct pager *p, struct vmo *fresh, struct pager_handle **out)
{
	struct vmo *v = registry_adopt(p, fresh->ino, fresh);

	if (v != fresh)
		vmo_put(fresh);
	*out = handle_for(p, v);
	if (!*out) {
		release_child(p, v);
		return -ENOMEM;
	}
	return 0;
}

int pager_register(struct pager *p, uint32_t ino, struct pager_handle **out)
{
	struct vmo *v = registry_adopt(p, ino, NULL);
	int rc;

	if (v) {
		*out = handle_for(p, v);
		if (*out)
			return 0;
		release_child(p, v);
		return -ENOMEM;
	}
	/* Built without the registry lock; if another open raced us, its VMO wins. */
	rc = build_vmo(p, ino, &v);
	return rc ? rc : register_vmo(p, v, out);
}

int pager_register_map(struct pager *p, uint32_t ino, uint64_t size, struct extmap *map,
		       struct pager_handle **out)
{
	struct vmo *v = vmo_create(&p->cache, ino, size, map);
	return v ? register_vmo(p, v, out) : -ENOMEM;
}

static void post(struct pager *p, enum packet_type type, struct vmo *vmo, struct page_request *req)
{
	struct port_packet *pkt = calloc(1, sizeof(*pkt));

	if (!pkt)
		abort(); /* a lost packet would hang a reader forever; there is no safe way on */
	pkt->type = type;
	pkt->vmo = vmo;
	pkt->req = req;
	port_push(p, pkt);
}

/* Drops one child of `v`; the last one sends the zero-children packet. */
static void release_child(struct pager *p, struct vmo *v)
{
	bool zero;

	pthread_mutex_lock(&p->registry_lock);
	zero = --v->children == 0;
	pthread_mutex_unlock(&p->registry_lock);
	if (zero)
		post(p, PACKET_ZERO_CHILDREN, v, NULL); /* the packet takes the child's reference */
	else
		vmo_put(v);
}

void pager_release(struct pager *p, struct pager_handle *h)
{
	unlink_handle(p, h);
	release_child(p, h->vmo);
	free(h);
}

/* Queues page requests for every run of missing, unrequested pages in [from, last]; a run
 * that reaches `last` goes on to the readahead boundary. Caller holds vmo->lock. */
static int queue_missing_locked(struct pager *p, struct vmo *vmo, uint64_t from, uint64_t last,
				const void *owner)
{
	uint64_t ra = p->cfg.readahead / p->page_size;
	uint64_t ra_end = (last / ra + 1) * ra;
	uint64_t page = from;

	if (ra_end > vmo->npages)
		ra_end = vmo->npages;
	while (page <= last) {
		struct page_request *r;
		uint64_t end, stop;

		page = vmo_first_missing_locked(vmo, page, last);
		if (page == UINT64_MAX)
			break;
		r = page_source_covering(&vmo->source, page);
		if (r) {
			page = r->end;
			continue;
		}
		stop = page_source_next_covered(&vmo->source, page);
		if (stop > ra_end)
			stop = ra_end;
		for (end = page + 1; end < stop && !vmo_page_present_locked(vmo, end); end++)
			;
		r = page_source_add(&vmo->source, page, end);
		if (!r)
			return -ENOMEM;
		r->owner = owner;
		vmo_get(vmo);
		post(p, PACKET_READ, vmo, r);
		atomic_fetch_add(&p->stats.page_requests, 1);
		page = end;
	}
	return 0;
}

/* Waits until every page of [first, last] is present. Caller holds vmo->lock (pinned). */
static int wait_for_pages_locked(struct pager *p, struct vmo *vmo, uint64_t first, uint64_t last,
				 bool *requested)
{
	const void *owner = requested;

	for (;;) {
		uint64_t page = vmo_first_missing_locked(vmo, first, last);
		struct page_request *r;
		int status;

		if (page == UINT64_MAX)
			return 0;
		if (vmo->reclaimed)
			return -EIO;
		r = page_source_covering(&vmo->source, page);
		if (!r) {
			int rc = queue_missing_locked(p, vmo, page, last, owner);
			if (rc)
				return rc;
			*requested = true;
			continue;
		}
		if (r->owner != owner)
			atomic_fetch_add(&p->stats.coalesced_waits, 1);
		page_request_get(r);
		while (!r->done)
			pthread_cond_wait(&vmo->supplied, &vmo->lock);
		status = r->status;
		/* A failure before `first` (another reader's request that began earlier) is not
		 * this read's: its pages are simply still missing and get a request of their own.
		 */
		if (status < 0 && r->fail_from >= first && r->fail_from <= last) {
			page_request_put(r);
			return status;
		}
		page_request_put(r);
	}
}

int pager_read(struct pager *p, struct pager_handle *h, uint64_t off, size_t len,
	       struct vmo_view *view)
{
	struct vmo *vmo = h->vmo;
	bool requested = false;
	uint64_t first, last;
	int rc;

	view->vmo = vmo;
	view->iovcnt = 0;
	view->len = 0;
	view->npinned = 0;
	if (off >= vmo->size || len == 0)
		return 0;
	if (len > vmo->size - off)
		len = (size_t)(vmo->size - off);
	if (len > VMO_READ_MAX)
		return -EINVAL;
	first = off / p->page_size;
	last = (off + len - 1) / p->page_size;

	pthread_mutex_lock(&vmo->lock);
	rc = vmo_pin_locked(vmo, first, last, view);
	if (rc == 0) {
		rc = wait_for_pages_locked(p, vmo, first, last, &requested);
		if (rc == 0)
			vmo_view_fill_locked(vmo, off, len, view);
		else
			vmo_unpin_locked(vmo, view);
	}
	pthread_mutex_unlock(&vmo->lock);
	if (rc == 0)
		vmo_get(vmo); /* the view's: the file may be released before the view is */
	if (rc == 0 && !requested)
		atomic_fetch_add(&p->stats.read_hits, 1);
	return rc;
}

void pager_view_release(struct pager *p, struct vmo_view *view)
{
	(void)p;
	if (!view->vmo || view->npinned == 0)
		return;
	pthread_mutex_lock(&view->vmo->lock);
	vmo_unpin_locked(view->vmo, view);
	pthread_mutex_unlock(&view->vmo->lock);
	vmo_put(view->vmo);
	view->vmo = NULL;
}

int pager_seek(struct pager_handle *h, uint64_t off, bool want_data, uint64_t *out)
{
	/* The map and size are immutable while the handle holds its child reference. */
	return extmap_seek(&h->vmo->map, h->vmo->size, off, want_data, out);
}

void pager_get_stats(struct pager *p, struct pager_stats *s)
{
	s->page_requests = atomic_load(&p->stats.page_requests);
	s->coalesced_waits = atomic_load(&p->stats.coalesced_waits);
	s->bytes_read = atomic_load(&p->stats.bytes_read);
	s->pages_supplied = atomic_load(&p->stats.pages_supplied);
	s->zero_pages = atomic_load(&p->stats.zero_pages);
	s->failed_ranges = atomic_load(&p->stats.failed_ranges);
	s->vmos_registered = atomic_load(&p->stats.vmos_registered);
	s->vmos_reclaimed = atomic_load(&p->stats.vmos_reclaimed);
	s->vmos_live = atomic_load(&p->stats.vmos_live);
	s->read_hits = atomic_load(&p->stats.read_hits);
	s->pages_evicted = atomic_load(&p->cache.pages_evicted);
	s->cache_bytes = pagepool_in_use(&p->cache.pool) * p->page_size;
	s->cache_budget = p->cache.budget_pages * p->page_size;
}

int pager_format_stats(const struct pager_stats *s, char *buf, size_t len)
{
	return snprintf(buf, len,
			"page_requests %llu\ncoalesced_waits %llu\nbytes_read %llu\n"
			"pages_supplied %llu\nzero_pages %llu\nfailed_ranges %llu\n"
			"vmos_registered %llu\nvmos_reclaimed %llu\nvmos_live %llu\n"
			"pages_evicted %llu\ncache_bytes %llu\ncache_budget %llu\nread_hits %llu\n",
			(unsigned long long)s->page_requests,
			(unsigned long long)s->coalesced_waits, (unsigned long long)s->bytes_read,
			(unsigned long long)s->pages_supplied, (unsigned long long)s->zero_pages,
			(unsigned long long)s->failed_ranges,
			(unsigned long long)s->vmos_registered,
			(unsigned long long)s->vmos_reclaimed, (unsigned long long)s->vmos_live,
			(unsigned long long)s->pages_evicted, (unsigned long long)s->cache_bytes,
			(unsigned long long)s->cache_budget, (unsigned long long)s->read_hits);
}
