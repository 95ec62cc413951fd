// SPDX-License-Identifier: MIT
/*
 * supply — the page provider's worker: fills pages of a VMO from the file's extent map and a
 * byte source (Starnix's SupplyHelper in src/starnix/kernel/fs/ext4/pager.rs).
 *
 * Contract: supply_range(buffer, job, first, end) makes pages [first, end) of job->vmo present,
 * in order, and says how far it got:
 *  - data pages are read from job->src at the physical offsets the map gives, straight into the
 *    buffer's page frames, which then move into the VMO whole (no second copy);
 *  - holes, unwritten extents and whatever lies past EOF become the pool's shared zero page
 *    without touching the source; an inline-data file's bytes come from the map itself;
 *  - between read and supply, each whole data page goes through job->transform if there is one
 *    (the slot for decryption); zero pages do not. With a transform the file's last block is
 *    read whole (ciphertext fills it), and the transform zeroes what follows EOF;
 *  - the first failure stops the range: result->next_page is the first page not supplied, and
 *    everything before it is in the VMO. A multi-page read that fails is retried page by page,
 *    so only the unreadable page and what follows it fail (the kernel retries a failed
 *    readahead per folio the same way, mm/filemap.c).
 * Supply never completes a page request and knows nothing of the pager: its caller does both.
 *
 * A supply_buffer is one thread's transfer buffer (SUPPLY_BUFFER_BYTES of frames from the
 * pool); it is not shared. Pages already present keep their contents (vmo_supply).
 */
#ifndef EXT4PAGER_SUPPLY_H
#define EXT4PAGER_SUPPLY_H

#include "byte_source.h"
#include "pagepool.h"
#include "vmo.h"

#include <stddef.h>
#include <stdint.h>

#define SUPPLY_BUFFER_BYTES (1u << 20)

struct supply_buffer;

/* Transforms one whole page of file data in place before it is supplied: 0 or -errno. Owned
 * by the VMO it is attached to (vmo->transform), which calls release(ctx) when it goes. */
struct supply_transform {
	int (*apply)(void *ctx, uint64_t file_page, void *page, size_t page_size);
	void (*release)(void *ctx); /* may be NULL */
	void *ctx;
};

struct supply_job {
	struct vmo *vmo;	 /* its map and size say where the data is */
	struct byte_source *src; /* the map's physical blocks are offsets into this */
	const struct supply_transform *transform; /* NULL: pages as read */
};

struct supply_result {
	uint64_t next_page;	 /* first page not supplied: `end` on success */
	uint64_t bytes_read;	 /* from the source */
	uint64_t pages_supplied; /* data pages */
	uint64_t zero_pages;	 /* shared zero pages */
};

struct supply_buffer *supply_buffer_create(struct pagepool *pool);
void supply_buffer_destroy(struct supply_buffer *b);

/* Fills pages [first, end) of job->vmo. Returns 0, or the error that stopped it (-EIO for an
 * unreadable source range, -ENOMEM, or the transform's). */
int supply_range(struct supply_buffer *b, const struct supply_job *job, uint64_t first,
		 uint64_t end, struct supply_result *result);

#endif
