/*
 * supply — how a pager thread serves one page request (the seed's receive_pager_packet and
 * SupplyHelper).
 *
 * The transfer buffer is a pager thread's own run of page frames (1 MiB). Image data is pread
 * straight into those frames; every frame that fills up is handed to the VMO as a whole page
 * (the frame itself moves — nothing is copied again) and a fresh frame takes its place. Holes,
 * unwritten extents and the tail past EOF become zero pages without touching the image. The
 * first failure fails the rest of the request's range (fail_to), and nothing before it.
 */
#include "pager.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct pager_transfer {
	size_t nframes;
	size_t len;    /* bytes pending in frames[0..]: always < one page between steps */
	void **frames; /* owned; NULL slots are refilled from the pool on demand */
	void **zeros;  /* nframes NULLs: "supply the shared zero page" */
	struct iovec *iov;
};

struct supply_helper {
	struct pager *p;
	struct pager_transfer *t;
	struct vmo *vmo;
	uint64_t offset; /* file offset of frames[0]: the next page to supply */
};

struct pager_transfer *pager_transfer_create(struct pager *p)
{
	struct pager_transfer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nframes = PAGER_TRANSFER_BYTES / p->page_size;
	t->frames = calloc(t->nframes, sizeof(*t->frames));
	t->zeros = calloc(t->nframes, sizeof(*t->zeros));
	t->iov = calloc(t->nframes, sizeof(*t->iov));
	if (!t->frames || !t->zeros || !t->iov) {
		pager_transfer_destroy(p, t);
		return NULL;
	}
	return t;
}

void pager_transfer_destroy(struct pager *p, struct pager_transfer *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->frames && i < t->nframes; i++)
		pagepool_free(&p->cache.pool, t->frames[i]);
	free(t->frames);
	free(t->zeros);
	free(t->iov);
	free(t);
}

/* Makes sure frames exist for the first `bytes` bytes of the buffer. */
static int ensure_frames(struct supply_helper *h, size_t bytes)
{
	size_t ps = h->p->page_size;

	for (size_t i = 0; i < (bytes + ps - 1) / ps; i++) {
		if (!h->t->frames[i]) {
			h->t->frames[i] = pagepool_alloc(&h->p->cache.pool);
			if (!h->t->frames[i])
				return -ENOMEM;
		}
	}
	return 0;
}

/* Hands every full page in the buffer to the VMO; a partial page moves to the front. */
static int supply_pages(struct supply_helper *h)
{
	struct pager_transfer *t = h->t;
	size_t ps = h->p->page_size;
	size_t n = t->len / ps;
	int rc;

	if (n == 0)
		return 0;
	rc = vmo_supply(h->vmo, h->offset / ps, t->frames, n);
	memmove(t->frames, t->frames + n, (t->nframes - n) * sizeof(*t->frames));
	memset(t->frames + (t->nframes - n), 0, n * sizeof(*t->frames));
	t->len -= n * ps;
	h->offset += n * ps;
	atomic_fetch_add(&h->p->stats.pages_supplied, n);
	return rc;
}

static int fill_from_image(struct supply_helper *h, uint64_t phys, size_t amount);

/*
 * After a failed multi-page read: the same bytes one buffer page at a time, so that every page
 * before the unreadable one is still supplied and only the bad page and the rest of the
 * request fail (as the kernel's per-folio retry after a failed readahead does).
 */
static int fill_page_by_page(struct supply_helper *h, uint64_t phys, size_t amount)
{
	size_t ps = h->p->page_size;
	int rc = 0;

	while (rc == 0 && amount > 0) {
		size_t n = ps - h->t->len % ps < amount ? ps - h->t->len % ps : amount;
		rc = fill_from_image(h, phys, n);
		phys += n;
		amount -= n;
	}
	return rc;
}

/* Reads `amount` bytes of the image at filesystem byte `phys` into the buffer. */
static int fill_from_image(struct supply_helper *h, uint64_t phys, size_t amount)
{
	struct pager_transfer *t = h->t;
	size_t ps = h->p->page_size;
	size_t pos = t->len, left = amount;
	int iovcnt = 0, rc;

	rc = ensure_frames(h, t->len + amount);
	if (rc)
		return rc;
	while (left > 0) {
		size_t in_page = pos % ps;
		size_t n = ps - in_page < left ? ps - in_page : left;
		t->iov[iovcnt].iov_base = (char *)t->frames[pos / ps] + in_page;
		t->iov[iovcnt].iov_len = n;
		iovcnt++;
		pos += n;
		left -= n;
	}
	if (h->p->before_read_hook)
		h->p->before_read_hook(h->p->hook_arg);
	rc = image_preadv(h->p->img, t->iov, iovcnt, amount, phys);
	if (rc && iovcnt > 1)
		return fill_page_by_page(h, phys, amount);
	if (rc)
		return rc;
	atomic_fetch_add(&h->p->stats.bytes_read, amount);
	image_drop_cache(h->p->img, phys, amount);
	t->len += amount;
	return supply_pages(h);
}

static int fill_from_memory(struct supply_helper *h, const uint8_t *src, size_t amount)
{
	struct pager_transfer *t = h->t;
	size_t ps = h->p->page_size;
	int rc = ensure_frames(h, t->len + amount);

	if (rc)
		return rc;
	for (size_t done = 0; done < amount;) {
		size_t in_page = t->len % ps;
		size_t n = ps - in_page < amount - done ? ps - in_page : amount - done;
		memcpy((char *)t->frames[t->len / ps] + in_page, src + done, n);
		t->len += n;
		done += n;
	}
	return supply_pages(h);
}

/* Zeros `len` bytes: the partial page in the buffer first, then whole zero pages. */
static int supply_zero(struct supply_helper *h, uint64_t len)
{
	struct pager_transfer *t = h->t;
	size_t ps = h->p->page_size;
	int rc;

	if (t->len % ps) {
		size_t n = ps - t->len % ps < len ? ps - t->len % ps : (size_t)len;
		memset((char *)t->frames[t->len / ps] + t->len % ps, 0, n);
		t->len += n;
		len -= n;
		rc = supply_pages(h);
		if (rc)
			return rc;
	}
	while (t->len == 0 && len >= ps) {
		size_t n = len / ps < t->nframes ? (size_t)(len / ps) : t->nframes;
		rc = vmo_supply(h->vmo, h->offset / ps, t->zeros, n);
		if (rc)
			return rc;
		h->offset += n * ps;
		len -= n * ps;
		atomic_fetch_add(&h->p->stats.zero_pages, n);
	}
	if (len > 0) {
		rc = ensure_frames(h, t->len + len);
		if (rc)
			return rc;
		memset((char *)t->frames[t->len / ps] + t->len % ps, 0, (size_t)len);
		t->len += len;
	}
	return 0;
}

/* Zero-fills up to the page boundary at or after `end`. */
static int supply_finish(struct supply_helper *h, uint64_t end)
{
	size_t ps = h->p->page_size;
	uint64_t pos = h->offset + h->t->len;

	if (end < pos)
		end = pos;
	end = (end + ps - 1) / ps * ps;
	return supply_zero(h, end - pos);
}

/* Walks the extents over [pos, data_end), supplying data and zeros in order. */
static int supply_extents(struct supply_helper *h, uint64_t pos, uint64_t data_end)
{
	const struct extmap *map = &h->vmo->map;
	uint64_t bs = map->block_size;
	int rc = 0;

	for (size_t ix = extmap_find(map, pos / bs); rc == 0 && ix < map->count && pos < data_end;
	     ix++) {
		const struct extent *e = &map->ext[ix];
		uint64_t lstart = e->lblk * bs;
		uint64_t seg_end = (e->lblk + e->len) * bs;

		if (lstart >= data_end)
			break;
		if (seg_end > data_end)
			seg_end = data_end;
		if (pos < lstart) {
			rc = supply_zero(h, lstart - pos); /* hole before this extent */
			pos = lstart;
		}
		if (rc == 0 && e->unwritten) {
			rc = supply_zero(h, seg_end - pos);
			pos = seg_end;
		}
		while (rc == 0 && pos < seg_end) {
			size_t space = PAGER_TRANSFER_BYTES - h->t->len;
			size_t amount = seg_end - pos < space ? (size_t)(seg_end - pos) : space;
			rc = fill_from_image(h, e->pblk * bs + (pos - lstart), amount);
			pos += amount;
		}
	}
	return rc;
}

static int supply_inline(struct supply_helper *h, uint64_t pos, uint64_t data_end)
{
	const struct extmap *map = &h->vmo->map;

	if (pos >= map->inline_len)
		return 0;
	if (data_end > map->inline_len)
		data_end = map->inline_len;
	return fill_from_memory(h, map->inline_data + pos, (size_t)(data_end - pos));
}

void pager_complete_request(struct pager *p, struct vmo *vmo, struct page_request *req, int rc,
			    uint64_t fail_from)
{
	/* Counted before the waiters wake, so a reader that saw the error also sees it counted. */
	if (rc < 0)
		atomic_fetch_add(&p->stats.failed_ranges, 1);
	pthread_mutex_lock(&vmo->lock);
	page_source_complete(&vmo->source, req, rc, fail_from);
	page_request_put(req);
	pthread_cond_broadcast(&vmo->supplied);
	pthread_mutex_unlock(&vmo->lock);
}

void pager_serve_request(struct pager *p, struct pager_transfer *t, struct vmo *vmo,
			 struct page_request *req)
{
	uint64_t start = req->first * p->page_size, end = req->end * p->page_size;
	uint64_t data_end = end < vmo->size ? end : vmo->size;
	struct supply_helper h = {.p = p, .t = t, .vmo = vmo, .offset = start};
	bool reclaimed;
	int rc;

	pthread_mutex_lock(&vmo->lock);
	reclaimed = vmo->reclaimed;
	pthread_mutex_unlock(&vmo->lock);
	if (reclaimed) {
		pager_complete_request(p, vmo, req, -EIO, req->first);
		return;
	}
	t->len = 0;
	if (vmo->map.inline_data)
		rc = supply_inline(&h, start, data_end);
	else
		rc = supply_extents(&h, start, data_end);
	if (rc == 0)
		rc = supply_finish(&h, end);
	/* fail_to: whatever was not supplied yet, and only that, gets the error. */
	pager_complete_request(p, vmo, req, rc, h.offset / p->page_size);
	t->len = 0;
	vmo_cache_trim(&p->cache);
}
