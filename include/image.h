/*
 * image — one opened ext2/3/4 image.
 *
 * Two ways in, for two kinds of reads:
 *  - metadata (inodes, directories, extent trees, xattrs) through libext2fs. libext2fs is not
 *    thread-safe, so every call into it happens between image_lock() and image_unlock();
 *  - file data through a plain read-only fd with pread() at `offset + physical`; this needs no
 *    lock, so the pager never waits behind metadata work.
 *
 * The image is opened O_RDONLY, libext2fs reads it through image_io (a window that bounds every
 * read to the filesystem's partition and refuses every write), and nothing is ever written.
 * libext2fs errcode_t values are converted to negative errno here (image_errno) and never
 * leave this layer's callers.
 */
#ifndef EXT4PAGER_IMAGE_H
#define EXT4PAGER_IMAGE_H

#include "journal.h"
#include "overlay.h"

#include <ext2fs/ext2fs.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct image {
	ext2_filsys fs; /* guarded by: fs_lock */
	pthread_mutex_t fs_lock;
	int data_fd;	 /* immutable after open; pread only */
	uint64_t offset; /* byte offset of the filesystem inside the file */
	uint64_t limit;	 /* bytes readable from offset: to the file's or partition's end */
	bool limit_is_partition;
	uint64_t fs_bytes;     /* blocks_count * block_size, <= limit */
	unsigned block_size;   /* immutable after open */
	bool fadvise_dontneed; /* drop data ranges from the host cache after reading */
	/* The replayed journal, applied to every read (metadata and data); immutable after
	 * image_open. */
	bool replayed;
	struct overlay overlay;
	struct journal_replay_stats replay;
};

struct image_open_options {
	uint64_t offset;
	uint64_t size_limit; /* a partition's size; 0 = to the end of the file */
	bool norecovery;     /* mount a filesystem that needs journal recovery as checkpointed */
};

/*
 * Opens `path` and checks that ext4pager can serve it. Returns 0, or a negative errno with a
 * one-line human explanation in `why` (always NUL-terminated).
 */
int image_open(const char *path, const struct image_open_options *opts, struct image **out,
	       char *why, size_t why_len);
void image_close(struct image *img);

void image_lock(struct image *img);
void image_unlock(struct image *img);

/* Reads `len` bytes at filesystem byte `pos`. Returns 0, or -EIO on a short or failed read. */
int image_pread(struct image *img, void *buf, size_t len, uint64_t pos);
/* Same, scattered into `iov`; the total length is `len`. */
#define IMAGE_MAX_IOV 1024 /* Linux IOV_MAX */
struct iovec;
int image_preadv(struct image *img, const struct iovec *iov, int iovcnt, size_t len, uint64_t pos);
/* Tells the host it may drop [pos, pos+len) of the image from its page cache. */
void image_drop_cache(struct image *img, uint64_t pos, uint64_t len);

/* Appends the image's counters ("journal_... N" lines) to buf; returns the length written. */
int image_format_stats(const struct image *img, char *buf, size_t len);

/* libext2fs error → negative errno. */
int image_errno(errcode_t err);

#endif
