// SPDX-License-Identifier: MIT
#include "extmap.h"

#include <ext2fs/ext2fs.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Collects extents in order, coalescing physically contiguous runs; validates as it goes. */
struct extmap_builder {
	struct extent *ext;
	size_t count, cap;
	uint64_t first_data_block, fs_blocks;
	int error;
};

static int builder_add(struct extmap_builder *b, uint64_t lblk, uint64_t pblk, uint64_t len,
		       bool unwritten)
{
	struct extent *last = b->count ? &b->ext[b->count - 1] : NULL;

	if (len == 0 || len > UINT32_MAX || pblk < b->first_data_block || pblk > b->fs_blocks ||
	    len > b->fs_blocks - pblk)
		return -EIO;
	if (last && lblk < last->lblk + last->len)
		return -EIO; /* out of order or overlapping: also what a loop looks like */
	if (last && last->unwritten == unwritten && last->lblk + last->len == lblk &&
	    last->pblk + last->len == pblk && (uint64_t)last->len + len <= UINT32_MAX) {
		last->len += (uint32_t)len;
		return 0;
	}
	if (b->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct extent *ext;
		if (b->count >= EXTMAP_MAX_EXTENTS)
			return -EIO;
		ext = realloc(b->ext, cap * sizeof(*ext));
		if (!ext)
			return -ENOMEM;
		b->ext = ext;
		b->cap = cap;
	}
	b->ext[b->count++] = (struct extent){lblk, pblk, (uint32_t)len, unwritten};
	return 0;
}

/* Hands the collected extents to `map`, or frees them when building failed with `rc`. */
static int builder_finish(struct extmap_builder *b, int rc, struct extmap *map)
{
	if (rc) {
		free(b->ext);
		return rc;
	}
	map->ext = b->ext;
	map->count = b->count;
	return 0;
}

static int build_from_extent_tree(ext2_filsys fs, uint32_t ino, struct ext2_inode *inode,
				  uint64_t size_blocks, struct extmap_builder *b)
{
	ext2_extent_handle_t h;
	struct ext2fs_extent e;
	errcode_t err;
	int op = EXT2_EXTENT_ROOT;
	int rc = 0;
	uint64_t steps = 0;

	err = ext2fs_extent_open2(fs, ino, inode, &h);
	if (err)
		return err == EXT2_ET_NO_MEMORY ? -ENOMEM : -EIO;
	for (;;) {
		err = ext2fs_extent_get(h, op, &e);
		if (err == EXT2_ET_EXTENT_NO_NEXT)
			break;
		if (err) {
			rc = -EIO;
			break;
		}
		/* Each step visits a node or a leaf entry; a sane tree has fewer than 2 per extent.
		 */
		if (++steps > 2ull * EXTMAP_MAX_EXTENTS) {
			rc = -EIO;
			break;
		}
		op = EXT2_EXTENT_NEXT_LEAF;
		if (!(e.e_flags & EXT2_EXTENT_FLAGS_LEAF))
			continue;
		if (e.e_lblk >= size_blocks)
			continue; /* preallocated past EOF: never read */
		rc = builder_add(b, e.e_lblk, e.e_pblk, e.e_len,
				 (e.e_flags & EXT2_EXTENT_FLAGS_UNINIT) != 0);
		if (rc)
			break;
	}
	ext2fs_extent_free(h);
	return rc;
}

struct blockmap_walk {
	struct extmap_builder *b;
	uint64_t size_blocks;
	uint64_t visited;
};

static int blockmap_visit(ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t blockcnt, blk64_t ref_blk,
			  int ref_offset, void *priv)
{
	struct blockmap_walk *w = priv;
	int rc;

	(void)fs;
	(void)ref_blk;
	(void)ref_offset;
	if (blockcnt < 0)
		return 0; /* an indirect block itself; DATA_ONLY should keep these away */
	if ((uint64_t)blockcnt >= w->size_blocks || ++w->visited > EXTMAP_MAX_EXTENTS)
		return BLOCK_ABORT; /* block maps are walked in logical order: the rest is past EOF
				     */
	rc = builder_add(w->b, (uint64_t)blockcnt, *blocknr, 1, false);
	if (rc) {
		w->b->error = rc;
		return BLOCK_ABORT;
	}
	return 0;
}

static int build_from_block_map(ext2_filsys fs, uint32_t ino, uint64_t size_blocks,
				struct extmap_builder *b)
{
	struct blockmap_walk w = {.b = b, .size_blocks = size_blocks};
	errcode_t err;

	err = ext2fs_block_iterate3(fs, ino, BLOCK_FLAG_DATA_ONLY | BLOCK_FLAG_READ_ONLY, NULL,
				    blockmap_visit, &w);
	if (b->error)
		return b->error;
	if (w.visited > EXTMAP_MAX_EXTENTS)
		return -EIO;
	return err ? -EIO : 0;
}

static int build_inline(ext2_filsys fs, uint32_t ino, struct ext2_inode *inode, uint64_t size,
			struct extmap *map)
{
	size_t len = 0;
	errcode_t err = ext2fs_inline_data_size(fs, ino, &len);

	if (err)
		return -EIO;
	map->inline_data = calloc(1, len ? len : 1);
	if (!map->inline_data)
		return -ENOMEM;
	err = ext2fs_inline_data_get(fs, ino, inode, map->inline_data, &len);
	if (err) {
		free(map->inline_data);
		map->inline_data = NULL;
		return -EIO;
	}
	map->inline_len = len < size ? len : (size_t)size;
	return 0;
}

int extmap_build(ext2_filsys fs, uint32_t ino, uint64_t size, struct extmap *map)
{
	struct ext2_inode inode;
	struct extmap_builder b = {.first_data_block = fs->super->s_first_data_block,
				   .fs_blocks = ext2fs_blocks_count(fs->super)};
	uint64_t size_blocks = (size + fs->blocksize - 1) / fs->blocksize;
	int rc;

	memset(map, 0, sizeof(*map));
	map->block_size = fs->blocksize;
	if (ext2fs_read_inode(fs, ino, &inode))
		return -EIO;
	if (inode.i_flags & EXT4_INLINE_DATA_FL)
		return build_inline(fs, ino, &inode, size, map);
	if (inode.i_flags & EXT4_EXTENTS_FL)
		rc = build_from_extent_tree(fs, ino, &inode, size_blocks, &b);
	else
		rc = build_from_block_map(fs, ino, size_blocks, &b);
	return builder_finish(&b, rc, map);
}

int extmap_from_array(const struct extent *ext, size_t count, unsigned block_size,
		      uint64_t fs_blocks, struct extmap *map)
{
	struct extmap_builder b = {.fs_blocks = fs_blocks};
	int rc = 0;

	memset(map, 0, sizeof(*map));
	map->block_size = block_size;
	for (size_t i = 0; i < count && rc == 0; i++)
		rc = builder_add(&b, ext[i].lblk, ext[i].pblk, ext[i].len, ext[i].unwritten);
	return builder_finish(&b, rc, map);
}

void extmap_free(struct extmap *map)
{
	free(map->ext);
	free(map->inline_data);
	memset(map, 0, sizeof(*map));
}

size_t extmap_find(const struct extmap *map, uint64_t lblk)
{
	size_t lo = 0, hi = map->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (map->ext[mid].lblk + map->ext[mid].len <= lblk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Byte offset where the data run holding logical block `lblk` ends (the run may span several
 * adjacent written extents), or the start of `lblk` itself if it is in a hole. */
static uint64_t data_run_end(const struct extmap *map, uint64_t lblk)
{
	size_t i = extmap_find(map, lblk);

	while (i < map->count && map->ext[i].lblk <= lblk && !map->ext[i].unwritten) {
		lblk = map->ext[i].lblk + map->ext[i].len;
		i++;
	}
	return lblk * map->block_size;
}

int extmap_seek(const struct extmap *map, uint64_t size, uint64_t off, bool want_data,
		uint64_t *out)
{
	uint64_t bs = map->block_size, lblk = off / bs, pos;

	if (off >= size)
		return -ENXIO;
	if (map->inline_data) {
		*out = want_data ? off : size;
		return 0;
	}
	if (!want_data) {
		pos = data_run_end(map, lblk);
		*out = pos > off ? (pos < size ? pos : size) : off;
		return 0;
	}
	for (size_t i = extmap_find(map, lblk); i < map->count; i++) {
		if (map->ext[i].unwritten)
			continue;
		pos = map->ext[i].lblk * bs;
		if (pos < off)
			pos = off;
		if (pos >= size)
			break;
		*out = pos;
		return 0;
	}
	return -ENXIO;
}
