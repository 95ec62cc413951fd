// SPDX-License-Identifier: MIT
#include "fuzz_image.h"

#include "extmap.h"
#include "inode.h"
#include "pager.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static int image_fd = -1; /* the memfd behind the open image; one image at a time */

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz finding: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

struct image *fuzz_image_open(const uint8_t *data, size_t size)
{
	struct image_open_options opts = {0};
	struct image *img = NULL;
	char path[64], why[512] = "";
	int fd = memfd_create("fuzz-image", MFD_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size) {
		close(fd);
		return NULL;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (image_open(path, &opts, &img, why, sizeof(why)) != 0) {
		if (!why[0])
			fuzz_fail("image_open refused (%d) without saying why", -errno);
		close(fd);
		return NULL;
	}
	image_fd = fd;
	return img;
}

void fuzz_image_close(struct image *img)
{
	image_close(img);
	close(image_fd);
	image_fd = -1;
}

void fuzz_for_each_inode(struct image *img,
			 void (*visit)(struct image *img, uint32_t ino, const struct stat *st))
{
	uint32_t count = image_inode_count(img);

	if (count > FUZZ_MAX_INODES)
		count = FUZZ_MAX_INODES;
	for (uint32_t ino = 1; ino <= count; ino++) {
		struct stat st;
		if (inode_stat(img, ino, &st, NULL) == 0)
			visit(img, ino, &st);
	}
}

void fuzz_visit_image(const uint8_t *data, size_t size,
		      void (*visit)(struct image *img, uint32_t ino, const struct stat *st))
{
	struct image *img = fuzz_image_open(data, size);

	if (!img)
		return;
	fuzz_for_each_inode(img, visit);
	fuzz_image_close(img);
}

long fuzz_expected_bytes(struct image *img, const struct extmap *map, uint64_t size, uint64_t off,
			 size_t len, uint8_t *out)
{
	uint64_t bs = map->block_size;

	if (off >= size)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	memset(out, 0, len);
	if (map->inline_data) {
		if (off < map->inline_len) {
			size_t n = map->inline_len - off < len ? map->inline_len - off : len;
			memcpy(out, map->inline_data + off, n);
		}
		return (long)len;
	}
	for (size_t i = extmap_find(map, off / bs); i < map->count; i++) {
		const struct extent *e = &map->ext[i];
		uint64_t from = e->lblk * bs, to = (e->lblk + e->len) * bs;
		if (from >= off + len)
			break;
		if (e->unwritten)
			continue;
		if (from < off)
			from = off;
		if (to > off + len)
			to = off + len;
		if (byte_source_pread(image_data(img), out + (from - off), to - from,
				      e->pblk * bs + (from - e->lblk * bs)))
			return -EIO;
	}
	return (long)len;
}

void fuzz_check_pager_read(struct pager *p, struct pager_handle *h, struct image *img,
			   const struct extmap *map, uint64_t size, uint64_t off, size_t len)
{
	static uint8_t want[VMO_READ_MAX + 2 * 65536];
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t first = off / ps * ps, end = (off + len + ps - 1) / ps * ps;
	/* The pager supplies whole pages, so whether the read fails is decided page-wise. */
	long pages =
	    off >= size ? 0 : fuzz_expected_bytes(img, map, size, first, end - first, want);
	struct vmo_view view;
	int rc = pager_read(p, h, off, len, &view);
	size_t at = (size_t)(off - first);

	if (pages < 0) {
		if (rc != -EIO)
			fuzz_fail("read %llu+%zu of size %llu: rc %d, but a page cannot be read",
				  (unsigned long long)off, len, (unsigned long long)size, rc);
		return;
	}
	if (rc != 0)
		fuzz_fail("read %llu+%zu of size %llu: rc %d, but the image can serve it",
			  (unsigned long long)off, len, (unsigned long long)size, rc);
	if (off >= size ? view.len != 0 : view.len != (len < size - off ? len : size - off))
		fuzz_fail("read %llu+%zu of size %llu: %zu bytes", (unsigned long long)off, len,
			  (unsigned long long)size, view.len);
	for (int i = 0; i < view.iovcnt; i++) {
		if (memcmp(view.iov[i].iov_base, want + at, view.iov[i].iov_len) != 0)
			fuzz_fail("read %llu+%zu: bytes differ from the image's in iov %d",
				  (unsigned long long)off, len, i);
		at += view.iov[i].iov_len;
	}
	pager_view_release(p, &view);
}

static int load_from_inode(void *img, uint32_t ino, uint64_t *size, struct extmap *map,
			   struct supply_transform **transform)
{
	return inode_file_map(img, ino, size, map, transform);
}

int fuzz_pager_create(struct image *img, const struct pager_config *cfg, struct pager **out)
{
	struct pager_backing b = {.data = image_data(img), .load = load_from_inode, .ctx = img};
	return pager_create(&b, cfg, out);
}
