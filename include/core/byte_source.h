// SPDX-License-Identifier: MIT
/*
 * byte_source — the bytes an image is read from, and nothing else: the bottom of ext4pager.
 *
 * Contract, for every implementation:
 *  - `size` is fixed for the source's life; a read of [pos, pos+len) with pos + len > size
 *    fails with -EIO and reads nothing from the backing store;
 *  - a read returns all `len` bytes or a negative errno (a short read is -EIO): never a
 *    partial success, never bytes that are not the source's;
 *  - reads may come from any thread at once and take no lock of the caller's;
 *  - nothing is ever written: a source has no write operation at all;
 *  - byte_source_done_with() is a hint that a range has been consumed and need not stay in any
 *    cache below (the file source drops it from the host page cache); it may do nothing.
 *  - byte_source_will_need() is a hint that a range will be read soon: a source with a slow
 *    backing store may start fetching it (the file source asks the host for readahead); it
 *    may do nothing, and never blocks for the data.
 *
 * Implementations here: a read-only regular file or block device, optionally a window of it
 * (offset=, a partition), and a memory buffer (tests and fuzzing). Anything that can serve
 * size + read-a-range (a sparse image's chunk index, an NBD export) fits the same slot.
 */
#ifndef EXT4PAGER_BYTE_SOURCE_H
#define EXT4PAGER_BYTE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct byte_source;

struct byte_source_ops {
	/* Reads exactly `len` bytes (the total of `iov`) at `pos`, already bounds-checked. */
	int (*preadv)(struct byte_source *src, const struct iovec *iov, int iovcnt, size_t len,
		      uint64_t pos);
	void (*done_with)(struct byte_source *src, uint64_t pos, uint64_t len); /* may be NULL */
	void (*will_need)(struct byte_source *src, uint64_t pos, uint64_t len); /* may be NULL */
	void (*close)(struct byte_source *src);
};

struct byte_source {
	const struct byte_source_ops *ops; /* immutable */
	uint64_t size;			   /* immutable; bytes */
};

/* Largest iovec count one read takes (Linux's IOV_MAX). */
#define BYTE_SOURCE_MAX_IOV 1024

int byte_source_preadv(struct byte_source *src, const struct iovec *iov, int iovcnt, size_t len,
		       uint64_t pos);
int byte_source_pread(struct byte_source *src, void *buf, size_t len, uint64_t pos);
void byte_source_done_with(struct byte_source *src, uint64_t pos, uint64_t len);
/* Whether will_need does anything for this source (callers skip the work of asking). */
bool byte_source_can_prefetch(const struct byte_source *src);
/* The hint for [pos, pos+len), clipped to the source's size. */
void byte_source_will_need(struct byte_source *src, uint64_t pos, uint64_t len);
void byte_source_close(struct byte_source *src);

/*
 * A read-only regular file or block device, from byte `offset` to its end, or to at most
 * `size_limit` bytes after it (a partition; 0 = no limit). `drop_cache` makes done_with drop
 * ranges from the host page cache. Returns 0, or a negative errno with a one-line reason.
 */
int byte_source_open_file(const char *path, uint64_t offset, uint64_t size_limit, bool drop_cache,
			  struct byte_source **out, char *why, size_t why_len);
/* Is the file source's fd (tests: faults, O_RDONLY checks); -1 for another kind. */
int byte_source_file_fd(const struct byte_source *src);

/* `len` bytes at `data`, borrowed: the caller keeps them alive and unchanged until close. */
struct byte_source *byte_source_from_memory(const void *data, size_t len);

#endif
