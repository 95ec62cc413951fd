// SPDX-License-Identifier: MIT
/*
 * overlay — replacement contents for some filesystem blocks, applied to every read of the
 * image (the journal's replayed blocks). Built once at mount (overlay_put, single thread),
 * then frozen by overlay_seal and only read, without a lock, by any thread.
 */
#ifndef EXT4PAGER_OVERLAY_H
#define EXT4PAGER_OVERLAY_H

#include "image_io.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct overlay_block {
	uint64_t block;
	uint8_t *data; /* block_size bytes, owned */
};

struct overlay {
	struct image_io_overlay io; /* first: image_io calls back through it */
	unsigned block_size;
	struct overlay_block *blocks; /* sorted by block after seal; newest copy only */
	size_t count, cap;
	uint64_t bytes; /* memory held by block contents */
	int sealed;
};

void overlay_init(struct overlay *o, unsigned block_size);
/* Sets block `block` to `data` (copied), replacing an earlier copy. 0 or -ENOMEM. */
int overlay_put(struct overlay *o, uint64_t block, const void *data);
/* Sorts and drops older duplicates; after this the overlay is read-only. */
void overlay_seal(struct overlay *o);
void overlay_free(struct overlay *o);

/* Copies replaced bytes of [pos, pos+len) (filesystem-relative) into buf / iov. */
void overlay_apply(const struct overlay *o, uint64_t pos, size_t len, void *buf);
void overlay_apply_iov(const struct overlay *o, uint64_t pos, const struct iovec *iov, int iovcnt);

#endif
