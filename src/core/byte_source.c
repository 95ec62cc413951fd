// SPDX-License-Identifier: MIT
#include "byte_source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

int byte_source_preadv(struct byte_source *src, const struct iovec *iov, int iovcnt, size_t len,
		       uint64_t pos)
{
	size_t total = 0;

	if (pos > src->size || len > src->size - pos || iovcnt < 0 || iovcnt > BYTE_SOURCE_MAX_IOV)
		return -EIO;
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (total != len)
		return -EINVAL;
	if (len == 0)
		return 0;
	int rc = src->ops->preadv(src, iov, iovcnt, len, pos);
	atomic_fetch_add_explicit(&src->counters.reads, 1, memory_order_relaxed);
	if (rc == 0)
		atomic_fetch_add_explicit(&src->counters.bytes, len, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&src->counters.errors, 1, memory_order_relaxed);
	return rc;
}

int byte_source_pread(struct byte_source *src, void *buf, size_t len, uint64_t pos)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	return byte_source_preadv(src, &iov, 1, len, pos);
}

void byte_source_done_with(struct byte_source *src, uint64_t pos, uint64_t len)
{
	if (src->ops->done_with)
		src->ops->done_with(src, pos, len);
}

bool byte_source_can_prefetch(const struct byte_source *src)
{
	return src->ops->will_need != NULL;
}

void byte_source_will_need(struct byte_source *src, uint64_t pos, uint64_t len)
{
	if (!src->ops->will_need || pos >= src->size)
		return;
	if (len > src->size - pos)
		len = src->size - pos;
	src->ops->will_need(src, pos, len);
}

void byte_source_close(struct byte_source *src)
{
	if (src)
		src->ops->close(src);
}

int byte_source_format_stats(const struct byte_source *src, char *buf, size_t len)
{
	uint64_t reads = atomic_load_explicit(&src->counters.reads, memory_order_relaxed);
	uint64_t bytes = atomic_load_explicit(&src->counters.bytes, memory_order_relaxed);
	int n = snprintf(
	    buf, len,
	    "source_kind %s\nsource_size %llu\nsource_reads %llu\nsource_bytes %llu\n"
	    "source_mean_read %llu\nsource_errors %llu\n",
	    src->kind ? src->kind : "unknown", (unsigned long long)src->size,
	    (unsigned long long)reads, (unsigned long long)bytes,
	    (unsigned long long)(reads ? bytes / reads : 0),
	    (unsigned long long)atomic_load_explicit(&src->counters.errors, memory_order_relaxed));

	if (n < 0 || (size_t)n >= len)
		return n < 0 ? 0 : (int)len - 1;
	if (src->ops->format_stats)
		n += src->ops->format_stats(src, buf + n, len - (size_t)n);
	return n;
}

int byte_source_iov_slice(const struct iovec *iov, int iovcnt, size_t skip, size_t len,
			  struct iovec *out)
{
	int n = 0;

	for (int i = 0; i < iovcnt && len > 0; i++) {
		size_t seg = iov[i].iov_len;
		if (skip >= seg) {
			skip -= seg;
			continue;
		}
		size_t take = seg - skip < len ? seg - skip : len;
		out[n].iov_base = (char *)iov[i].iov_base + skip;
		out[n].iov_len = take;
		n++;
		len -= take;
		skip = 0;
	}
	return n;
}

void byte_source_iov_fill(const struct iovec *iov, int iovcnt, size_t skip, const void *from,
			  size_t len)
{
	struct iovec piece[BYTE_SOURCE_MAX_IOV];
	int n = byte_source_iov_slice(iov, iovcnt, skip, len, piece);
	const char *p = from;

	for (int i = 0; i < n; i++) {
		memcpy(piece[i].iov_base, p, piece[i].iov_len);
		p += piece[i].iov_len;
	}
}

/* ---- a file or block device, or a window of one ---- */

struct file_source {
	struct byte_source base;
	int fd;		 /* immutable; O_RDONLY */
	uint64_t offset; /* immutable; where the window starts in the file */
	bool drop_cache; /* immutable */
};

/* preadv until `len` bytes are in; `local` (a scratch copy of the iovecs) is consumed. */
static int file_read_all(const struct file_source *f, struct iovec *local, int iovcnt, size_t len,
			 uint64_t pos)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = preadv(f->fd, local, iovcnt, (off_t)(f->offset + pos + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO; /* an error, or the file is shorter than it was at open */
		done += (size_t)n;
		/* Skip the iovecs a partial read filled, then retry the rest. */
		while (iovcnt > 0 && (size_t)n >= local[0].iov_len) {
			n -= (ssize_t)local[0].iov_len;
			memmove(local, local + 1, sizeof(*local) * (size_t)--iovcnt);
		}
		if (iovcnt > 0) {
			local[0].iov_base = (char *)local[0].iov_base + n;
			local[0].iov_len -= (size_t)n;
		}
	}
	return 0;
}

static int file_preadv(struct byte_source *src, const struct iovec *iov, int iovcnt, size_t len,
		       uint64_t pos)
{
	struct iovec local[BYTE_SOURCE_MAX_IOV];

	memcpy(local, iov, sizeof(*iov) * (size_t)iovcnt);
	return file_read_all((struct file_source *)src, local, iovcnt, len, pos);
}

static void file_done_with(struct byte_source *src, uint64_t pos, uint64_t len)
{
	struct file_source *f = (struct file_source *)src;

	if (f->drop_cache)
		posix_fadvise(f->fd, (off_t)(f->offset + pos), (off_t)len, POSIX_FADV_DONTNEED);
}

/* The host's readahead for the range (mm/fadvise.c: an asynchronous read of what is not
 * cached; nothing waits for it). */
static void file_will_need(struct byte_source *src, uint64_t pos, uint64_t len)
{
	struct file_source *f = (struct file_source *)src;

	posix_fadvise(f->fd, (off_t)(f->offset + pos), (off_t)len, POSIX_FADV_WILLNEED);
}

static void file_close(struct byte_source *src)
{
	struct file_source *f = (struct file_source *)src;

	close(f->fd);
	free(f);
}

static const struct byte_source_ops file_ops = {
    .preadv = file_preadv,
    .done_with = file_done_with,
    .will_need = file_will_need,
    .close = file_close};

__attribute__((format(printf, 3, 4))) static int refuse(char *why, size_t why_len, const char *fmt,
							...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The bytes of the file or device: its size, or the block device's. */
static int file_bytes(int fd, uint64_t *out)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, out) < 0)
			return -errno;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return -ENOTBLK;
	*out = (uint64_t)st.st_size;
	return 0;
}

static int measure(struct file_source *f, const char *path, uint64_t size_limit, char *why,
		   size_t why_len)
{
	uint64_t have = 0;
	int rc = file_bytes(f->fd, &have);

	if (rc == -ENOTBLK)
		return refuse(why, why_len, "%s is not a regular file or block device", path);
	if (rc)
		return refuse(why, why_len, "cannot measure %s: %s", path, strerror(-rc));
	if (have == 0 && f->offset == 0)
		return refuse(why, why_len,
			      "%s: not a valid ext2/ext3/ext4 filesystem (the file is empty)",
			      path);
	if (have <= f->offset)
		return refuse(why, why_len,
			      "%s: offset %llu is past the end of the image (%llu bytes)", path,
			      (unsigned long long)f->offset, (unsigned long long)have);
	f->base.size = have - f->offset;
	if (size_limit && size_limit < f->base.size)
		f->base.size = size_limit;
	return 0;
}

int byte_source_open_file(const char *path, uint64_t offset, uint64_t size_limit, bool drop_cache,
			  struct byte_source **out, char *why, size_t why_len)
{
	struct file_source *f = calloc(1, sizeof(*f));
	int rc;

	if (!f)
		return -ENOMEM;
	f->base.ops = &file_ops;
	f->base.kind = "file";
	f->offset = offset;
	f->drop_cache = drop_cache;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		rc = -errno;
		snprintf(why, why_len, "cannot open %s: %s", path, strerror(-rc));
		free(f);
		return rc;
	}
	rc = measure(f, path, size_limit, why, why_len);
	if (rc) {
		file_close(&f->base);
		return rc;
	}
	*out = &f->base;
	return 0;
}

int byte_source_file_fd(const struct byte_source *src)
{
	return src->ops == &file_ops ? ((const struct file_source *)src)->fd : -1;
}

/* ---- a memory buffer ---- */

struct memory_source {
	struct byte_source base;
	const uint8_t *data; /* borrowed */
};

static int memory_preadv(struct byte_source *src, const struct iovec *iov, int iovcnt, size_t len,
			 uint64_t pos)
{
	const uint8_t *from = ((struct memory_source *)src)->data + pos;

	(void)len;
	for (int i = 0; i < iovcnt; i++) {
		memcpy(iov[i].iov_base, from, iov[i].iov_len);
		from += iov[i].iov_len;
	}
	return 0;
}

static void memory_close(struct byte_source *src)
{
	free(src);
}

static const struct byte_source_ops memory_ops = {.preadv = memory_preadv, .close = memory_close};

struct byte_source *byte_source_from_memory(const void *data, size_t len)
{
	struct memory_source *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->base.ops = &memory_ops;
	m->base.kind = "memory";
	m->base.size = len;
	m->data = data;
	return &m->base;
}

/* ---- a window of another source ---- */

struct window_source {
	struct byte_source base;
	struct byte_source *inner; /* owned */
	uint64_t offset;	   /* immutable */
};

static struct byte_source *window_inner(const struct byte_source *src, uint64_t *offset)
{
	const struct window_source *w = (const struct window_source *)src;

	*offset = w->offset;
	return w->inner;
}

static int window_preadv(struct byte_source *src, const struct iovec *iov, int iovcnt, size_t len,
			 uint64_t pos)
{
	uint64_t offset;
	struct byte_source *inner = window_inner(src, &offset);

	return byte_source_preadv(inner, iov, iovcnt, len, offset + pos);
}

static void window_done_with(struct byte_source *src, uint64_t pos, uint64_t len)
{
	uint64_t offset;
	struct byte_source *inner = window_inner(src, &offset);

	byte_source_done_with(inner, offset + pos, len);
}

static void window_will_need(struct byte_source *src, uint64_t pos, uint64_t len)
{
	uint64_t offset;
	struct byte_source *inner = window_inner(src, &offset);

	byte_source_will_need(inner, offset + pos, len);
}

static void window_close(struct byte_source *src)
{
	byte_source_close(((struct window_source *)src)->inner);
	free(src);
}

/* The counters of what lies below: what the window passed on is what it was asked. */
static int window_format_stats(const struct byte_source *src, char *buf, size_t len)
{
	const struct byte_source *inner = ((const struct window_source *)src)->inner;

	return inner->ops->format_stats ? inner->ops->format_stats(inner, buf, len) : 0;
}

static const struct byte_source_ops window_ops = {.preadv = window_preadv,
						  .done_with = window_done_with,
						  .will_need = window_will_need,
						  .close = window_close,
						  .format_stats = window_format_stats};

static const struct byte_source_ops window_ops_no_prefetch = {.preadv = window_preadv,
							      .done_with = window_done_with,
							      .close = window_close,
							      .format_stats = window_format_stats};

int byte_source_window(struct byte_source *inner, uint64_t offset, uint64_t size,
		       struct byte_source **out, char *why, size_t why_len)
{
	struct window_source *w;

	if (offset >= inner->size || (size && size > inner->size - offset)) {
		snprintf(why, why_len, "offset %llu%s is past the end of the image (%llu bytes)",
			 (unsigned long long)offset, size ? " plus the partition's size" : "",
			 (unsigned long long)inner->size);
		byte_source_close(inner);
		return -EINVAL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(why, why_len, "out of memory");
		byte_source_close(inner);
		return -ENOMEM;
	}
	w->base.ops = byte_source_can_prefetch(inner) ? &window_ops : &window_ops_no_prefetch;
	w->base.kind = inner->kind;
	w->base.size = size ? size : inner->size - offset;
	w->inner = inner;
	w->offset = offset;
	*out = &w->base;
	return 0;
}
