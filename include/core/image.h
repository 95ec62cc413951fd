// SPDX-License-Identifier: MIT
/*
 * image — one opened ext2/3/4 filesystem: the bottom layer everything else reads through.
 *
 * Lifecycle (image.c alone sequences it):
 *  1. image_open: the file (or a window of it: offset=, a partition) becomes a byte source
 *     (byte_source.h); image_open_source starts here with any other source.
 *  2. libext2fs opens the filesystem through image_io, a read-only io_manager over the source.
 *  3. Features, size and structure are checked as the kernel checks them before a mount.
 *  4. A journal that needs recovery is replayed into an in-memory overlay (journal.c), and
 *     libext2fs is opened again on top of it: the superblock and group descriptors may be among
 *     the replayed blocks. From here on every read — metadata and data — sees the overlay.
 *  5. Readers use image_data() for file data (no lock) and image_fs.h for metadata (under the
 *     image lock); image_close frees everything, the source included.
 *
 * Nothing is ever written to the image. libext2fs errcode_t values are converted to negative
 * errno where this layer calls libext2fs (image_errno) and never go further up.
 */
#ifndef EXT4PAGER_IMAGE_H
#define EXT4PAGER_IMAGE_H

#include "byte_source.h"
#include "lock.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A capability for lock.h's annotations: image_lock() holds it. */
struct CAPABILITY("image lock") image;
struct fscrypt_keyring;

struct image_open_options {
	uint64_t offset;
	uint64_t size_limit;  /* a partition's size; 0 = to the end of the file */
	bool norecovery;      /* mount a filesystem that needs journal recovery as checkpointed */
	bool keep_host_cache; /* do not drop data from the host page cache after reading it */
};

/*
 * Opens `path` and checks that ext4pager can serve it. Returns 0, or a negative errno with a
 * one-line human explanation in `why` (always NUL-terminated).
 */
int image_open(const char *path, const struct image_open_options *opts, struct image **out,
	       char *why, size_t why_len);
/* The same over any byte source, which the image takes over (closed on failure too); `name`
 * appears in messages. opts->offset and size_limit only name the window in messages. */
int image_open_source(struct byte_source *src, const char *name,
		      const struct image_open_options *opts, struct image **out, char *why,
		      size_t why_len);
void image_close(struct image *img);

/*
 * The filesystem's bytes, [0, blocks × block size), with the replayed journal applied: what the
 * pager reads file data from. Immutable, lock-free, owned by the image.
 */
struct byte_source *image_data(struct image *img);
/* The source below the filesystem (tests and diagnostics). */
struct byte_source *image_source(struct image *img);

unsigned image_block_size(const struct image *img);
uint64_t image_block_count(const struct image *img);
uint32_t image_inode_count(const struct image *img);

/* Adds the raw fscrypt master key in `path` (-o key=): before the image is served, never
 * after. Returns 0, or a negative errno with a one-line reason (never the key). */
int image_add_key_file(struct image *img, const char *path, char *why, size_t why_len);
/* The keys added; immutable once the image is served. */
const struct fscrypt_keyring *image_keyring(const struct image *img);
/* Locks the keys in memory again, after the daemon's fork. */
void image_relock_keys(struct image *img);
/* Counts an inode whose key was given but whose policy is not decrypted (--stats). */
void image_count_unsupported_policy(struct image *img);

/* Appends the image's counters ("journal_... N" lines) to buf; returns the length written. */
int image_format_stats(const struct image *img, char *buf, size_t len);

#endif
