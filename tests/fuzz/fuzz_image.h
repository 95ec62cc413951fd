// SPDX-License-Identifier: MIT
/*
 * fuzz_image — what the image-parsing fuzz targets share: the fuzz input is a whole filesystem
 * image (the seeds are tiny valid ones, tests/fuzz/corpus/image), opened exactly as a mount
 * opens a file — through a memfd, by path — so image_io, the size checks and libext2fs's own
 * parsing are all under test, not only the layer a target names.
 */
#ifndef EXT4PAGER_FUZZ_IMAGE_H
#define EXT4PAGER_FUZZ_IMAGE_H

#include "image.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Prints what broke (printf-style) and aborts: a finding. */
__attribute__((noreturn, format(printf, 1, 2))) void fuzz_fail(const char *fmt, ...);

/* Inodes a target visits per input: enough for the seeds, bounded for speed. */
#define FUZZ_MAX_INODES 256u

/* The input as an open image, or NULL if image_open refused it (which must say why). The
 * memfd stays open until fuzz_image_close. */
struct image *fuzz_image_open(const uint8_t *data, size_t size);
void fuzz_image_close(struct image *img);

/* Calls `visit` for every inode 1..min(inodes_count, FUZZ_MAX_INODES) that inode_stat accepts. */
void fuzz_for_each_inode(struct image *img,
			 void (*visit)(struct image *img, uint32_t ino, const struct stat *st));

/* Opens the input as an image and, if it opens, visits every inode (as above) and closes it. */
void fuzz_visit_image(const uint8_t *data, size_t size,
		      void (*visit)(struct image *img, uint32_t ino, const struct stat *st));

struct extmap;
struct pager;
struct pager_config;
struct pager_handle;

/* A pager over the image as a mount sets it up (file data from image_data, maps from inodes). */
int fuzz_pager_create(struct image *img, const struct pager_config *cfg, struct pager **out);

/*
 * The oracle for the pager: the bytes [off, off+len) of a file of `size` bytes with map `map`,
 * computed straight from the map and image_data (holes, unwritten extents and the tail past
 * EOF are zeros). Returns the bytes available (len clamped to EOF) or -EIO if the image
 * cannot be read where the map points.
 */
long fuzz_expected_bytes(struct image *img, const struct extmap *map, uint64_t size, uint64_t off,
			 size_t len, uint8_t *out);

/* Reads [off, off+len) (len <= VMO_READ_MAX) through the pager and compares it with the oracle;
 * aborts on any difference. The read must fail with -EIO exactly when one of the pages it
 * touches holds bytes the image cannot give. Single-threaded callers only. */
void fuzz_check_pager_read(struct pager *p, struct pager_handle *h, struct image *img,
			   const struct extmap *map, uint64_t size, uint64_t off, size_t len);

#endif
