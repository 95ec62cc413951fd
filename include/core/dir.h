// SPDX-License-Identifier: MIT
/*
 * dir — directory listings, read once per directory and shared, with an index for lookup.
 *
 * A listing holds every live entry of one directory (name, inode, d_type) in the order the
 * kernel's ext4 readdir returns them: hash order (with "." and ".." first for an indexed
 * directory) whenever the kernel uses its htree readdir, block order otherwise. A hash table
 * over the names makes lookup O(1) after the one linear read, so a 50,000-entry directory costs
 * one scan, not one per lookup.
 *
 * Listings live in a dircache: reference counted (an open directory holds one), kept after
 * their last user while the cache is under its byte budget, least recently used evicted first.
 * dircache->lock guards the cache's table, LRU and each listing's refs; a listing's contents
 * are immutable once built, so readers need no lock.
 */
#ifndef EXT4PAGER_DIR_H
#define EXT4PAGER_DIR_H

#include "list.h"
#include "lock.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct image;
struct ext2fs_nls_table;

struct dir_entry {
	uint32_t ino;
	uint32_t name_off;  /* into listing->names */
	uint32_t hash_next; /* index + 1 of the next entry in the same bucket; 0 ends */
	uint16_t name_len;
	uint8_t type; /* DT_* */
};

struct dir_listing {
	uint32_t ino;		   /* immutable */
	size_t count;		   /* immutable */
	struct dir_entry *entries; /* immutable, readdir order */
	char *names;		   /* immutable */
	uint32_t *buckets;	   /* immutable; entry index + 1, 0 = empty */
	size_t nbuckets;	   /* immutable, a power of two */
	size_t bytes;		   /* immutable; memory held */
	/* A casefolded directory's encoding (libext2fs's static table), NULL otherwise: lookups
	 * match names as ext4_match does there, case-insensitively (dir_lookup). Immutable. */
	const struct ext2fs_nls_table *fold;
	bool strict; /* immutable; the encoding's strict mode: invalid names are refused */
	int refs;		   /* guarded by: dircache->lock */
	struct dir_listing *next;  /* guarded by: dircache->lock; table chain */
	struct list_node lru;	   /* guarded by: dircache->lock; linked while refs == 0 */
};

#define DIRCACHE_BUCKETS 1024

struct dircache {
	struct mutex lock;
	struct dir_listing *table[DIRCACHE_BUCKETS]; /* guarded by: lock */
	struct list_node lru; /* guarded by: lock; unused listings, oldest first */
	size_t bytes;	      /* guarded by: lock; all listings */
	size_t budget;	      /* immutable */
};

void dircache_init(struct dircache *dc, size_t budget_bytes);
void dircache_destroy(struct dircache *dc);

/* The listing of directory `ino`, built if needed. Returns 0, -ENOTDIR, -EIO, -ENOMEM. */
int dircache_get(struct dircache *dc, struct image *img, uint32_t ino, struct dir_listing **out);
void dircache_put(struct dircache *dc, struct dir_listing *l);

/*
 * Entry named `name` (`len` bytes) or NULL. In a casefolded directory a name matches as in
 * ext4_match (fs/ext4/namei.c): byte for byte, or equal after the encoding's casefolding
 * (NFD and full case folding, libext2fs's ext2fs_casefold_cmp).
 */
const struct dir_entry *dir_lookup(const struct dir_listing *l, const char *name, size_t len);

/* -EINVAL when the directory's encoding is strict and `name` is not valid in it (the kernel's
 * ext4_fname_setup_ci_filename refuses such a lookup); 0 otherwise. */
int dir_check_name(const struct dir_listing *l, const char *name, size_t len);

/* Builds a listing without a cache (tests, fuzzing). Caller frees with dir_listing_free. */
int dir_listing_build(struct image *img, uint32_t ino, struct dir_listing **out);
void dir_listing_free(struct dir_listing *l);

#endif
