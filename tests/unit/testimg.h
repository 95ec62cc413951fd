// SPDX-License-Identifier: MIT
/* Helpers for unit tests: real images built with mkfs.ext4 -d, and a backing file for the
 * pager without any filesystem. */
#ifndef EXT4PAGER_TESTIMG_H
#define EXT4PAGER_TESTIMG_H

#include <stddef.h>
#include <stdint.h>

struct image;
struct byte_source;

/* Runs `populate` (shell, cwd = an empty directory), then mkfs with `mkfs_args` over it.
 * Returns a malloc'd image path; aborts the test on failure. */
char *testimg_build(const char *mkfs_args, const char *populate);
struct image *testimg_open(const char *path);
/* Inode number of `path` in the image (debugfs), or 0. */
uint32_t testimg_ino(const char *img, const char *path);

/* A byte source over a plain (unlinked) file of `bytes` bytes filled by `fill`, with no
 * filesystem: what the pager's data path needs and nothing more. If `write_fd` is not NULL it
 * gets a read-write fd of the same file (the caller closes it), to change the backing. */
struct byte_source *testimg_backing(size_t bytes, void (*fill)(uint8_t *buf, size_t n),
				    int *write_fd);

/* Waits until `cond(arg)` holds, polling, for at most 30 s; fails the test with `what`
 * otherwise. For conditions another thread makes true (never a fixed sleep). */
void testimg_wait_for(int (*cond)(void *arg), void *arg, const char *what);

#endif
