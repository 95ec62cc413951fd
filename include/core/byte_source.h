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
 * (offset=, a partition), a window of any other source, and a memory buffer (tests and
 * fuzzing). Elsewhere: an Android sparse image's chunk index (sparse_source.h) and an NBD
 * export (nbd_source.h); source.h picks one for what the user named.
 *
 * Every source counts what was read through it (byte_source_preadv): requests, bytes and
 * failures, for --stats. The counters are relaxed atomics: statistics, not synchronisation.
 */
#ifndef EXT4PAGER_BYTE_SOURCE_H
#define EXT4PAGER_BYTE_SOURCE_H

#include <stdatomic.h>
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
	/* Appends "name value" lines of the source's own counters; may be NULL. */
	int (*format_stats)(const struct byte_source *src, char *buf, size_t len);
};

struct byte_source_counters {
	atomic_uint_fast64_t reads, bytes, errors;
};

struct byte_source {
	const struct byte_source_ops *ops; /* immutable */
	uint64_t size;			   /* immutable; bytes */
	const char *kind; /* immutable; static or owned by the source: "file", "nbd", ... */
	struct byte_source_counters counters;
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
/* "source_kind ..., source_reads N, ..." lines (and the source's own) into buf; returns the
 * length written. */
int byte_source_format_stats(const struct byte_source *src, char *buf, size_t len);

/*
 * [offset, offset + size) of `inner` as a source of its own (offset=, a partition), taking
 * `inner` over: closed with the window, or at once on failure. size 0 = to inner's end.
 * Returns 0, or -EINVAL with a one-line reason when the window is not inside `inner`.
 */
int byte_source_window(struct byte_source *inner, uint64_t offset, uint64_t size,
		       struct byte_source **out, char *why, size_t why_len);

/*
 * The iovecs covering bytes [skip, skip + len) of the buffer `iov` describes, into `out` (at most
 * BYTE_SOURCE_MAX_IOV): returns their count. For sources that split one read into pieces.
 */
int byte_source_iov_slice(const struct iovec *iov, int iovcnt, size_t skip, size_t len,
			  struct iovec *out);
/* Copies `len` bytes from `from` into the buffer `iov` describes, starting `skip` bytes in. */
void byte_source_iov_fill(const struct iovec *iov, int iovcnt, size_t skip, const void *from,
			  size_t len);

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
