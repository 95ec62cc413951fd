// SPDX-License-Identifier: MIT
/*
 * extmap — a file's logical→physical block map, read once from the inode into a sorted array.
 *
 * Built from whichever form the inode uses: an extent tree of any depth,
 * an ext2/ext3 block map (direct, single, double and triple indirect blocks, coalesced into
 * runs), or inline data (the bytes themselves, copied out of the inode). After construction
 * the map is immutable, so the pager reads it without any lock.
 *
 * Construction refuses a map ext4pager cannot trust — extents out of order or overlapping,
 * pointing outside the filesystem, zero-length, or more of them than a sane file has — with
 * -EIO, so a corrupt inode fails its own open and nothing else.
 */
#ifndef EXT4PAGER_EXTMAP_H
#define EXT4PAGER_EXTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct struct_ext2_filsys; /* libext2fs's ext2_filsys */

struct extent {
	uint64_t lblk;	/* first logical block */
	uint64_t pblk;	/* first physical block */
	uint32_t len;	/* blocks, > 0 */
	bool unwritten; /* allocated but never written: reads as zeros */
};

struct extmap {
	struct extent *ext; /* sorted by lblk, non-overlapping */
	size_t count;
	uint8_t *inline_data; /* non-NULL for an inline-data inode; then count == 0 */
	size_t inline_len;
	unsigned block_size;
};

/* Hard cap on extents per file: bounds memory on a hostile block map (24 bytes each). */
#define EXTMAP_MAX_EXTENTS (4u << 20)

/*
 * Builds the map of inode `ino` of size `size` bytes from libext2fs's view of the filesystem;
 * the caller serializes libext2fs (the image lock, image_fs.h). Returns 0, -EIO for a corrupt
 * map, or -ENOMEM.
 */
int extmap_build(struct struct_ext2_filsys *fs, uint32_t ino, uint64_t size, struct extmap *map);

/* Builds a map from an array (tests, fuzzing): validates as extmap_build does. Copies `ext`. */
int extmap_from_array(const struct extent *ext, size_t count, unsigned block_size,
		      uint64_t fs_blocks, struct extmap *map);

void extmap_free(struct extmap *map);

/* Index of the first extent that ends after logical block `lblk` (== count if none). */
size_t extmap_find(const struct extmap *map, uint64_t lblk);

/*
 * SEEK_DATA (want_data) / SEEK_HOLE from byte `off` of a file of `size` bytes, answered as
 * ext4 does: holes and unwritten extents are holes, inline data is data, and there is always
 * a hole at EOF. Returns 0 with the offset in *out, or -ENXIO when off >= size or no data
 * follows.
 */
int extmap_seek(const struct extmap *map, uint64_t size, uint64_t off, bool want_data,
		uint64_t *out);

#endif
