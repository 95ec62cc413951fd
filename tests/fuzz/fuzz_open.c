// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: opening a filesystem (image_open: superblock, group descriptors, feature
 * checks, size checks, libext2fs's open through image_io) and what a mount computes right
 * after — statfs totals, the root inode, the stats text. Input: a whole image.
 */
#include "fuzz_image.h"
#include "inode.h"
#include "statfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image *img = fuzz_image_open(data, size);
	struct fs_totals totals;
	struct stat st;
	char stats[4096];

	if (!img)
		return 0;
	statfs_compute(img, &totals);
	inode_stat(img, INODE_ROOT, &st, NULL);
	image_format_stats(img, stats, sizeof(stats));
	fuzz_image_close(img);
	return 0;
}
