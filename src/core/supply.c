// SPDX-License-Identifier: MIT
#include "supply.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct supply_buffer {
	struct pagepool *pool; /* not owned */
	size_t page_size;
	size_t nframes;
	size_t len;    /* bytes pending in frames[0..]: always < one page between steps */
	void **frames; /* owned; NULL slots are refilled from the pool on demand */
	void **zeros;  /* nframes NULLs: "supply the shared zero page" */
	struct iovec *iov;
};

/* One supply_range call in progress. */
struct supply_helper {
	struct supply_buffer *t;
	const struct supply_job *job;
	struct supply_result *res;
	uint64_t offset; /* file offset of frames[0]: the next page to supply */
};

struct supply_buffer *supply_buffer_create(struct pagepool *pool)
{
	struct supply_buffer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->pool = pool;
	t->page_size = pool->page_size;
	t->nframes = SUPPLY_BUFFER_BYTES / t->page_size;
	t->frames = calloc(t->nframes, sizeof(*t->frames));
	t->zeros = calloc(t->nframes, sizeof(*t->zeros));
	t->iov = calloc(t->nframes, sizeof(*t->iov));
	if (!t->frames || !t->zeros || !t->iov) {
		supply_buffer_destroy(t);
		return NULL;
	}
	return t;
}

void supply_buffer_destroy(struct supply_buffer *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->frames && i < t->nframes; i++)
		pagepool_free(t->pool, t->frames[i]);
	free(t->frames);
	free(t->zeros);
	free(t->iov);
	free(t);
}

/* Makes sure frames exist for the first `bytes` bytes of the buffer. */
static int ensure_frames(struct supply_helper *h, size_t bytes)
{
	size_t ps = h->t->page_size;

	for (size_t i = 0; i < (bytes + ps - 1) / ps; i++) {
		if (!h->t->frames[i]) {
			h->t->frames[i] = pagepool_alloc(h->t->pool);
			if (!h->t->frames[i])
				return -ENOMEM;
		}
	}
	return 0;
}

/* The transform step between read and supply, on the first `n` frames; *good is how many
 * went through before a failure. */
static int transform_pages(struct supply_helper *h, size_t n, size_t *good)
{
	const struct supply_transform *tf = h->job->transform;
	size_t ps = h->t->page_size;
	int rc = 0;

	for (*good = 0; *good < n; ++*good) {
		rc = tf ? tf->apply(tf->ctx, h->offset / ps + *good, h->t->frames[*good], ps) : 0;
		if (rc)
			break;
	}
	return rc;
}

/* Hands every full page in the buffer to the VMO; a partial page moves to the front. A page
 * the transform refuses stops the range there: the pages before it are still supplied. */
static int supply_pages(struct supply_helper *h)
{
	struct supply_buffer *t = h->t;
	size_t ps = t->page_size;
	size_t n = t->len / ps, good;
	int trc, rc;

	if (n == 0)
		return 0;
	trc = transform_pages(h, n, &good);
	rc = good ? vmo_supply(h->job->vmo, h->offset / ps, t->frames, good) : 0;
	memmove(t->frames, t->frames + good, (t->nframes - good) * sizeof(*t->frames));
	memset(t->frames + (t->nframes - good), 0, good * sizeof(*t->frames));
	t->len -= good * ps;
	h->offset += good * ps;
	h->res->pages_supplied += good;
	return trc ? trc : rc;
}

static int fill_from_image(struct supply_helper *h, uint64_t phys, size_t amount);

/*
 * After a failed multi-page read: the same bytes one buffer page at a time, so that every page
 * before the unreadable one is still supplied and only the bad page and the rest of the
 * request fail (as the kernel's per-folio retry after a failed readahead does).
 */
static int fill_page_by_page(struct supply_helper *h, uint64_t phys, size_t amount)
{
	size_t ps = h->t->page_size;
	int rc = 0;

	while (rc == 0 && amount > 0) {
		size_t n = ps - h->t->len % ps < amount ? ps - h->t->len % ps : amount;
		rc = fill_from_image(h, phys, n);
		phys += n;
		amount -= n;
	}
	return rc;
}

/* Reads `amount` bytes of the source at byte `phys` into the buffer. */
static int fill_from_image(struct supply_helper *h, uint64_t phys, size_t amount)
{
	struct supply_buffer *t = h->t;
	size_t ps = t->page_size;
	size_t pos = t->len, left = amount;
	int iovcnt = 0, rc;

	rc = ensure_frames(h, t->len + amount);
	if (rc)
		return rc;
	while (left > 0) {
		size_t in_page = pos % ps;
		size_t n = ps - in_page < left ? ps - in_page : left;
		char *at = (char *)t->frames[pos / ps] + in_page;
		/* Frames that follow each other in memory make one iovec: a source without
		 * vectored reads (NBD) then reads straight into them. */
		if (iovcnt && (char *)t->iov[iovcnt - 1].iov_base + t->iov[iovcnt - 1].iov_len == at) {
			t->iov[iovcnt - 1].iov_len += n;
		} else {
			t->iov[iovcnt].iov_base = at;
			t->iov[iovcnt].iov_len = n;
			iovcnt++;
		}
		pos += n;
		left -= n;
	}
	rc = byte_source_preadv(h->job->src, t->iov, iovcnt, amount, phys);
	if (rc && t->len % ps + amount > ps) /* more than one page: retry each on its own */
		return fill_page_by_page(h, phys, amount);
	if (rc)
		return rc;
	h->res->bytes_read += amount;
	byte_source_done_with(h->job->src, phys, amount);
	t->len += amount;
	return supply_pages(h);
}

static int fill_from_memory(struct supply_helper *h, const uint8_t *src, size_t amount)
{
	struct supply_buffer *t = h->t;
	size_t ps = t->page_size;
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
	struct supply_buffer *t = h->t;
	size_t ps = t->page_size;
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
		rc = vmo_supply(h->job->vmo, h->offset / ps, t->zeros, n);
		if (rc)
			return rc;
		h->offset += n * ps;
		len -= n * ps;
		h->res->zero_pages += n;
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
	size_t ps = h->t->page_size;
	uint64_t pos = h->offset + h->t->len;

	if (end < pos)
		end = pos;
	end = (end + ps - 1) / ps * ps;
	return supply_zero(h, end - pos);
}

/* Walks the extents over [pos, data_end), supplying data and zeros in order. */
static int supply_extents(struct supply_helper *h, uint64_t pos, uint64_t data_end)
{
	const struct extmap *map = &h->job->vmo->map;
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
			size_t space = SUPPLY_BUFFER_BYTES - h->t->len;
			size_t amount = seg_end - pos < space ? (size_t)(seg_end - pos) : space;
			rc = fill_from_image(h, e->pblk * bs + (pos - lstart), amount);
			pos += amount;
		}
	}
	return rc;
}

static int supply_inline(struct supply_helper *h, uint64_t pos, uint64_t data_end)
{
	const struct extmap *map = &h->job->vmo->map;

	if (pos >= map->inline_len)
		return 0;
	if (data_end > map->inline_len)
		data_end = map->inline_len;
	return fill_from_memory(h, map->inline_data + pos, (size_t)(data_end - pos));
}

int supply_range(struct supply_buffer *t, const struct supply_job *job, uint64_t first,
		 uint64_t end, struct supply_result *result)
{
	struct vmo *vmo = job->vmo;
	size_t ps = t->page_size;
	uint64_t start = first * ps, stop = end * ps;
	uint64_t data_end = stop < vmo->size ? stop : vmo->size;
	struct supply_helper h = {.t = t, .job = job, .res = result, .offset = start};
	int rc;

	memset(result, 0, sizeof(*result));
	t->len = 0;
	/* A transform (decryption) needs whole blocks: the last one is read entire, and the
	 * transform itself zeroes what lies past EOF. */
	if (job->transform && !vmo->map.inline_data && vmo->map.block_size) {
		uint64_t bs = vmo->map.block_size;
		uint64_t whole = (vmo->size + bs - 1) / bs * bs;
		data_end = stop < whole ? stop : whole;
	}
	if (vmo->map.inline_data)
		rc = supply_inline(&h, start, data_end);
	else
		rc = supply_extents(&h, start, data_end);
	if (rc == 0)
		rc = supply_finish(&h, stop);
	t->len = 0; /* a partial page left by a failure is dropped (its frame is reused) */
	result->next_page = h.offset / ps;
	return rc;
}
