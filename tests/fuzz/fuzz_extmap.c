// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: extent-map construction (extmap.c: extent trees of any depth, ext2/3 block
 * maps with indirect blocks, inline data) and the pager's read path over whatever map a
 * hostile inode yields. For every regular file: the map must be sorted, non-overlapping and
 * inside the filesystem; SEEK_DATA/SEEK_HOLE must stay inside the file; and the bytes the
 * pager supplies (beginning and end of the file, with a cache small enough to evict) must
 * equal those read straight from the image where the map points. Input: a whole image.
 */
#include "extmap.h"
#include "fuzz_image.h"
#include "inode.h"
#include "pager.h"

#include <stdlib.h>

static struct pager *pager; /* per input */

static void check_map(const struct image *img, const struct extmap *m)
{
	for (size_t i = 0; i < m->count; i++) {
		const struct extent *e = &m->ext[i];
		if (e->len == 0 || e->pblk + e->len > image_block_count(img) ||
		    (i > 0 && m->ext[i - 1].lblk + m->ext[i - 1].len > e->lblk))
			fuzz_fail("extent %zu of a map extmap should have refused", i);
	}
}

static void check_seek(const struct extmap *m, uint64_t size)
{
	uint64_t data, hole;

	if (extmap_seek(m, size, 0, true, &data) == 0 && data >= size)
		fuzz_fail("SEEK_DATA past EOF");
	if (extmap_seek(m, size, 0, false, &hole) == 0 && hole > size)
		fuzz_fail("SEEK_HOLE past EOF");
}

static void visit(struct image *img, uint32_t ino, const struct stat *st)
{
	struct pager_handle *h;
	struct extmap map;
	uint64_t size = 0;

	if (!S_ISREG(st->st_mode) || inode_file_map(img, ino, &size, &map, NULL) != 0)
		return;
	if (size != (uint64_t)st->st_size)
		fuzz_fail("inode %u: map size %llu, stat size %llu", ino, (unsigned long long)size,
			  (unsigned long long)st->st_size);
	check_map(img, &map);
	check_seek(&map, size);
	if (pager_register(pager, ino, &h) == 0) {
		fuzz_check_pager_read(pager, h, img, &map, size, 0, 256 << 10);
		if (size > (64 << 10))
			fuzz_check_pager_read(pager, h, img, &map, size, size - (64 << 10) + 1,
					      64 << 10);
		pager_release(pager, h);
	}
	extmap_free(&map);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pager_config cfg = {.threads = 1, .cache_bytes = 256 << 10};
	struct image *img = fuzz_image_open(data, size);

	if (!img)
		return 0;
	if (fuzz_pager_create(img, &cfg, &pager) == 0) {
		if (pager_start(pager) == 0)
			fuzz_for_each_inode(img, visit);
		pager_destroy(pager);
	}
	fuzz_image_close(img);
	return 0;
}
