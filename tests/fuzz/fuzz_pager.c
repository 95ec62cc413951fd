// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the pager's read path (pager.c, supply.c, vmo.c, page_source.c) over a
 * corrupt extent map. The input is the map itself — a file size and extents with arbitrary
 * logical and physical blocks, lengths and unwritten flags, some pointing past the end of the
 * image as if it were truncated after the mount — followed by a list of reads. Maps that
 * extmap_from_array refuses are skipped; for every other one, each read must return exactly
 * the bytes the image holds where the map points (zeros for holes, unwritten extents and past
 * EOF), or -EIO exactly when a page it touches cannot be read. The cache is tiny so pages are
 * evicted and supplied again. The image: 4 MiB, 1 KiB blocks, every free block a pattern.
 */
#include "extmap.h"
#include "fuzz_image.h"
#include "pager.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IMAGE_BYTES (4u << 20)
#define MAX_EXTENTS 32
#define MAX_READS   16

static struct image *img;
static char img_path[] = "/tmp/fuzz-pager-XXXXXX";

/* A filesystem over a file whose free blocks keep a position-dependent pattern. */
static void make_image(void)
{
	struct image_open_options opts = {0};
	char cmd[256], why[256];
	int fd = mkstemp(img_path);
	uint8_t *pattern = malloc(IMAGE_BYTES);

	if (fd < 0 || !pattern)
		fuzz_fail("setup: cannot create the image");
	for (size_t i = 0; i < IMAGE_BYTES; i++)
		pattern[i] = (uint8_t)(i * 7 + (i >> 10) * 13 + 1);
	if (pwrite(fd, pattern, IMAGE_BYTES, 0) != IMAGE_BYTES)
		fuzz_fail("setup: cannot write the image");
	free(pattern);
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "mkfs.ext4 -q -F -b 1024 -O ^has_journal -E nodiscard %s >/dev/null 2>&1",
		 img_path);
	if (system(cmd) != 0)
		fuzz_fail("setup: mkfs.ext4 failed");
	if (image_open(img_path, &opts, &img, why, sizeof(why)) != 0)
		fuzz_fail("%s", why);
	unlink(img_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	make_image();
	return 0;
}

struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct input *in, size_t bytes)
{
	uint64_t v = 0;

	for (size_t i = 0; i < bytes && in->left > 0; i++, in->p++, in->left--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct pager_config cfg = {.threads = 1, .cache_bytes = 64 << 10, .readahead = 32 << 10};
	uint64_t fs_blocks = image_block_count(img);
	uint64_t file_size = take(&in, 5); /* up to 1 TiB */
	size_t count = (size_t)take(&in, 1) % (MAX_EXTENTS + 1);
	struct extent ext[MAX_EXTENTS];
	struct pager_handle *h;
	struct extmap map, check;
	struct pager *pager;

	for (size_t i = 0; i < count; i++) {
		ext[i].lblk = take(&in, 4);
		ext[i].pblk = take(&in, 3) % (2 * fs_blocks); /* half of them past the image */
		ext[i].len = (uint32_t)take(&in, 2);
		ext[i].unwritten = take(&in, 1) & 1;
	}
	if (extmap_from_array(ext, count, image_block_size(img), 2 * fs_blocks, &map) != 0)
		return 0;
	/* The pager takes `map` over; the oracle reads a copy. */
	if (extmap_from_array(map.ext, map.count, image_block_size(img), 2 * fs_blocks, &check) !=
	    0)
		fuzz_fail("a map extmap accepted once is refused on a copy");
	if (fuzz_pager_create(img, &cfg, &pager) != 0 || pager_start(pager) != 0)
		fuzz_fail("setup: pager");
	if (pager_register_map(pager, 12, file_size, &map, &h) != 0)
		fuzz_fail("pager_register_map refused a valid map");
	for (int r = 0; r < MAX_READS && in.left >= 6; r++) {
		uint64_t off = take(&in, 3) * 1024 % (file_size + 8192);
		size_t len = (size_t)take(&in, 3) % VMO_READ_MAX + 1;
		fuzz_check_pager_read(pager, h, img, &check, file_size, off, len);
	}
	pager_release(pager, h);
	pager_destroy(pager);
	extmap_free(&check);
	return 0;
}
