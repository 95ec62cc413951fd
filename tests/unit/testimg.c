#include "testimg.h"

#include "image.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

struct image *testimg_backing(size_t bytes, unsigned bs, void (*fill)(uint8_t *buf, size_t n))
{
	char path[] = "/tmp/ext4pager-backing.XXXXXX";
	struct image *img = calloc(1, sizeof(*img));
	uint8_t *buf = calloc(1, bytes ? bytes : 1);
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_nonnull(img);
	if (fill)
		fill(buf, bytes);
	ck_assert_int_eq(write(fd, buf, bytes), (ssize_t)bytes);
	unlink(path);
	free(buf);
	img->data_fd = fd;
	img->block_size = bs;
	img->fs_bytes = (uint64_t)1 << 40; /* the map may point past the file: reads then fail */
	pthread_mutex_init(&img->fs_lock, NULL);
	return img;
}

void testimg_backing_close(struct image *img)
{
	close(img->data_fd);
	pthread_mutex_destroy(&img->fs_lock);
	free(img);
}
