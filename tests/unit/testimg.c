// SPDX-License-Identifier: MIT
#include "testimg.h"

#include "byte_source.h"
#include "image.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

char *testimg_build(const char *mkfs_args, const char *populate)
{
	char dir[] = "/tmp/ext4pager-unit.XXXXXX";
	char *cmd, *img;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_ge(asprintf(&img, "%s.img", dir), 0);
	ck_assert_int_ge(asprintf(&cmd,
				  "set -e; mkdir %s/root; cd %s/root; %s\n"
				  "mkfs.ext4 -q -F %s -d %s/root %s 32M >/dev/null 2>&1; rm -rf %s",
				  dir, dir, populate, mkfs_args, dir, img, dir),
			 0);
	ck_assert_msg(system(cmd) == 0, "building a test image failed: %s", cmd);
	free(cmd);
	return img;
}

struct image *testimg_open(const char *path)
{
	struct image_open_options o = {0};
	struct image *img = NULL;
	char why[256];

	ck_assert_msg(image_open(path, &o, &img, why, sizeof(why)) == 0, "open: %s", why);
	return img;
}

uint32_t testimg_ino(const char *img, const char *path)
{
	char *cmd;
	unsigned ino = 0;
	FILE *f;

	ck_assert_int_ge(
	    asprintf(
		&cmd,
		"debugfs -R 'stat \"%s\"' %s 2>/dev/null | sed -n 's/^Inode: \\([0-9]*\\).*/\\1/p'",
		path, img),
	    0);
	f = popen(cmd, "r");
	if (f) {
		if (fscanf(f, "%u", &ino) != 1)
			ino = 0;
		pclose(f);
	}
	free(cmd);
	return ino;
}

struct byte_source *testimg_backing(size_t bytes, void (*fill)(uint8_t *buf, size_t n),
				    int *write_fd)
{
	char path[] = "/tmp/ext4pager-backing.XXXXXX", why[256];
	uint8_t *buf = calloc(1, bytes ? bytes : 1);
	struct byte_source *src = NULL;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	if (fill)
		fill(buf, bytes);
	ck_assert_int_eq(write(fd, buf, bytes), (ssize_t)bytes);
	if (write_fd)
		*write_fd = fd;
	else
		close(fd);
	free(buf);
	ck_assert_msg(byte_source_open_file(path, 0, 0, false, &src, why, sizeof(why)) == 0, "%s",
		      why);
	unlink(path);
	return src;
}

void testimg_wait_for(int (*cond)(void *arg), void *arg, const char *what)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (cond(arg))
			return;
		clock_gettime(CLOCK_MONOTONIC, &now);
		ck_assert_msg(now.tv_sec - start.tv_sec < 30, "timed out waiting for %s", what);
		sched_yield();
	}
}
