// SPDX-License-Identifier: MIT
/*
 * statfs — filesystem totals as the kernel's ext4_statfs computes them: f_blocks less the
 * metadata overhead (ext4_calculate_overhead), f_bavail less the reserved blocks and the
 * kernel's own reserve (2% or 4096 clusters with extents), free counts summed over the group
 * descriptors. Computed once at mount: the image is immutable.
 */
#ifndef EXT4PAGER_STATFS_H
#define EXT4PAGER_STATFS_H

#include <stdint.h>

struct image;

struct fs_totals {
	uint64_t bsize, blocks, bfree, bavail, files, ffree, namemax;
};

/* Caller holds no lock. Returns 0 or -EIO. */
int statfs_compute(struct image *img, struct fs_totals *out);

#endif
