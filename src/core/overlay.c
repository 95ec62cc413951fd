// SPDX-License-Identifier: MIT
#include "overlay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void apply_cb(const struct image_io_overlay *io, uint64_t pos, size_t len, void *buf)
{
	overlay_apply((const struct overlay *)io, pos, len, buf);
}

void overlay_init(struct overlay *o, unsigned block_size)
{
	memset(o, 0, sizeof(*o));
	o->io.apply = apply_cb;
	o->block_size = block_size;
}

int overlay_put(struct overlay *o, uint64_t block, const void *data)
{
	uint8_t *copy;

	if (o->count == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		struct overlay_block *b = realloc(o->blocks, cap * sizeof(*b));
		if (!b)
			return -ENOMEM;
		o->blocks = b;
		o->cap = cap;
	}
	copy = malloc(o->block_size);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, o->block_size);
	/* Appended in log order; seal keeps the last copy of each block. */
	o->blocks[o->count++] = (struct overlay_block){.block = block, .data = copy};
	o->bytes += o->block_size;
	return 0;
}

/* Orders by block, and by position in the log (the data pointer is not an order; the index
 * is kept in the sort through a stable merge sort). */
static void merge_sort(struct overlay_block *a, struct overlay_block *tmp, size_t n)
{
	size_t mid = n / 2, i = 0, j = mid, k = 0;

	if (n < 2)
		return;
	merge_sort(a, tmp, mid);
	merge_sort(a + mid, tmp, n - mid);
	while (i < mid && j < n)
		tmp[k++] = a[j].block < a[i].block ? a[j++] : a[i++];
	while (i < mid)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, n * sizeof(*a));
}

void overlay_seal(struct overlay *o)
{
	struct overlay_block *tmp = o->count ? malloc(o->count * sizeof(*tmp)) : NULL;
	size_t out = 0;

	if (tmp) {
		merge_sort(o->blocks, tmp, o->count);
		free(tmp);
	} else if (o->count > 1) {
		/* No memory for the sort buffer: insertion sort keeps stability too. */
		for (size_t i = 1; i < o->count; i++)
			for (size_t j = i; j > 0 && o->blocks[j].block < o->blocks[j - 1].block;
			     j--) {
				struct overlay_block t = o->blocks[j];
				o->blocks[j] = o->blocks[j - 1];
				o->blocks[j - 1] = t;
			}
	}
	for (size_t i = 0; i < o->count; i++) {
		if (out > 0 && o->blocks[out - 1].block == o->blocks[i].block) {
			free(o->blocks[out - 1].data); /* an older copy of the same block */
			o->bytes -= o->block_size;
			o->blocks[out - 1] = o->blocks[i];
		} else {
			o->blocks[out++] = o->blocks[i];
		}
	}
	o->count = out;
	o->sealed = 1;
}

void overlay_free(struct overlay *o)
{
	for (size_t i = 0; i < o->count; i++)
		free(o->blocks[i].data);
	free(o->blocks);
	memset(o, 0, sizeof(*o));
}

/* Index of the first overlay block >= `block`. */
static size_t lower_bound(const struct overlay *o, uint64_t block)
{
	size_t lo = 0, hi = o->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (o->blocks[mid].block < block)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void overlay_apply(const struct overlay *o, uint64_t pos, size_t len, void *buf)
{
	uint64_t bs = o->block_size, end = pos + len;

	if (!o->count || len == 0)
		return;
	for (size_t i = lower_bound(o, pos / bs); i < o->count && o->blocks[i].block * bs < end;
	     i++) {
		uint64_t b0 = o->blocks[i].block * bs;
		uint64_t from = b0 > pos ? b0 : pos, to = b0 + bs < end ? b0 + bs : end;
		memcpy((uint8_t *)buf + (from - pos), o->blocks[i].data + (from - b0), to - from);
	}
}

void overlay_apply_iov(const struct overlay *o, uint64_t pos, const struct iovec *iov, int iovcnt)
{
	if (!o->count)
		return;
	for (int i = 0; i < iovcnt; i++) {
		overlay_apply(o, pos, iov[i].iov_len, iov[i].iov_base);
		pos += iov[i].iov_len;
	}
}
