// SPDX-License-Identifier: MIT
#include "statfs.h"

#include "image_fs.h"

#include <errno.h>
#include <string.h>

/* Group descriptor blocks (and reserved GDT blocks) stored in `group`. */
static uint64_t group_desc_blocks(ext2_filsys fs, dgrp_t group)
{
	struct ext2_super_block *sb = fs->super;
	uint64_t per_block = EXT2_DESC_PER_BLOCK(sb);
	uint64_t metagroup = group / per_block;
	uint64_t first = metagroup * per_block;

	if (!ext2fs_has_feature_meta_bg(sb) || metagroup < sb->s_first_meta_bg) {
		if (!ext2fs_bg_has_super(fs, group))
			return 0;
		/* ext4_num_base_meta_blocks() counts the reserved GDT blocks too. */
		return (ext2fs_has_feature_meta_bg(sb) ? sb->s_first_meta_bg : fs->desc_blocks) +
		       sb->s_reserved_gdt_blocks;
	}
	return (group == first || group == first + 1 || group == first + per_block - 1) ? 1 : 0;
}

/* ext4_calculate_overhead() for a filesystem without bigalloc. */
static uint64_t computed_overhead(ext2_filsys fs)
{
	struct ext2_super_block *sb = fs->super;
	uint64_t itb =
	    ((uint64_t)sb->s_inodes_per_group * EXT2_INODE_SIZE(sb) + fs->blocksize - 1) /
	    fs->blocksize;
	uint64_t overhead = sb->s_first_data_block;

	for (dgrp_t g = 0; g < fs->group_desc_count; g++)
		overhead +=
		    (ext2fs_bg_has_super(fs, g) ? 1 : 0) + group_desc_blocks(fs, g) + itb + 2;
	return overhead;
}

static uint64_t journal_blocks(ext2_filsys fs)
{
	struct ext2_super_block *sb = fs->super;
	struct ext2_inode inode;

	if (!ext2fs_has_feature_journal(sb) || !sb->s_journal_inum ||
	    ext2fs_read_inode(fs, sb->s_journal_inum, &inode))
		return 0;
	return EXT2_I_SIZE(&inode) / fs->blocksize;
}

int statfs_compute(struct image *img, struct fs_totals *t)
{
	ext2_filsys fs;
	struct ext2_super_block *sb;
	uint64_t blocks, overhead, free_clusters = 0, free_inodes = 0, resv = 0, reserved;
	unsigned cluster_ratio;

	image_lock(img);
	fs = image_fs(img);
	sb = fs->super;
	cluster_ratio = (unsigned)EXT2FS_CLUSTER_RATIO(fs);
	blocks = ext2fs_blocks_count(sb);
	for (dgrp_t g = 0; g < fs->group_desc_count; g++) {
		free_clusters += ext2fs_bg_free_blocks_count(fs, g);
		free_inodes += ext2fs_bg_free_inodes_count(fs, g);
	}
	/* Bigalloc overhead counting walks bitmaps in the kernel; mke2fs records the result. */
	/* The kernel takes a recorded value as is (journal included) and computes otherwise. */
	if (ext2fs_has_feature_bigalloc(sb) && sb->s_overhead_clusters &&
	    sb->s_overhead_clusters <= blocks)
		overhead = (uint64_t)sb->s_overhead_clusters * cluster_ratio;
	else
		overhead = computed_overhead(fs) + journal_blocks(fs);
	if (ext2fs_has_feature_extents(sb)) {
		resv = (blocks / cluster_ratio) / 50;
		if (resv > 4096)
			resv = 4096;
		resv *= cluster_ratio;
	}
	reserved = ext2fs_r_blocks_count(sb) + resv;
	image_unlock(img);

	memset(t, 0, sizeof(*t));
	t->bsize = fs->blocksize;
	t->blocks = blocks > overhead ? blocks - overhead : 0;
	t->bfree = free_clusters * cluster_ratio;
	t->bavail = t->bfree > reserved ? t->bfree - reserved : 0;
	t->files = sb->s_inodes_count;
	t->ffree = free_inodes;
	t->namemax = EXT2_NAME_LEN;
	return 0;
}
