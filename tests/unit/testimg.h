/* Helpers for unit tests: real images built with mkfs.ext4 -d, and a backing file for the
 * pager without any filesystem. */
#ifndef EXT4PAGER_TESTIMG_H
#define EXT4PAGER_TESTIMG_H

#include <stddef.h>
#include <stdint.h>

struct image;

/* Runs `populate` (shell, cwd = an empty directory), then mkfs with `mkfs_args` over it.
 * Returns a malloc'd image path; aborts the test on failure. */
char *testimg_build(const char *mkfs_args, const char *populate);
struct image *testimg_open(const char *path);
/* Inode number of `path` in the image (debugfs), or 0. */
uint32_t testimg_ino(const char *img, const char *path);

/* An image struct over a plain file of `bytes` bytes (filled by `fill`), block size `bs`,
 * with no libext2fs handle: what the pager's data path needs and nothing more. */
struct image *testimg_backing(size_t bytes, unsigned bs, void (*fill)(uint8_t *buf, size_t n));
void testimg_backing_close(struct image *img);

#endif
