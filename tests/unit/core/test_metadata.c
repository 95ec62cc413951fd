// SPDX-License-Identifier: MIT
/* The metadata layers against a real image: inode attributes, symlinks, directories and
 * lookup, xattrs, statfs. */
#include "dir.h"
#include "image.h"
#include "image_fs.h"
#include "inode.h"
#include "inoset.h"
#include "statfs.h"
#include "xattr.h"
#include "check_main.h"
#include "testimg.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sys/sysmacros.h>

static char *path;
static struct image *img;

static void setup(void)
{
	path =
	    testimg_build("-t ext4 -b 4096 -I 256 -N 2048",
			  "echo hi > f; chmod 4750 f; touch -d '1969-07-20 20:17:40.123456789' f; "
			  "ln -s f fast; ln -s $(printf 'x%.0s' $(seq 1 200)) slow; mkdir d; "
			  "for i in $(seq 1 1000); do : > d/entry$i; done; "
			  "setfattr -n user.k -v value f");
	img = testimg_open(path);
}

static void teardown(void)
{
	image_close(img);
	unlink(path);
	free(path);
}

START_TEST(stat_fields)
{
	struct stat st;
	setup();
	ck_assert_int_eq(inode_stat(img, testimg_ino(path, "/f"), &st, NULL), 0);
	ck_assert_uint_eq(st.st_mode, S_IFREG | 04750);
	ck_assert_int_eq(st.st_size, 3);
	ck_assert_int_eq(st.st_nlink, 1);
	ck_assert_int_eq(st.st_mtim.tv_sec, -14182940); /* mkfs -d keeps seconds only */
	ck_assert_int_eq(st.st_blocks, 8);
	ck_assert_int_eq(inode_stat(img, INODE_ROOT, &st, NULL), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(inode_stat(img, 999999, &st, NULL), -ENOENT);
	teardown();
}
END_TEST

START_TEST(symlinks_fast_and_slow)
{
	char *t;
	size_t len;
	setup();
	ck_assert_int_eq(inode_readlink(img, testimg_ino(path, "/fast"), &t, &len), 0);
	ck_assert_uint_eq(len, 1);
	ck_assert_mem_eq(t, "f", 1);
	free(t);
	ck_assert_int_eq(inode_readlink(img, testimg_ino(path, "/slow"), &t, &len), 0);
	ck_assert_uint_eq(len, 200);
	ck_assert_int_eq(t[199], 'x');
	free(t);
	ck_assert_int_eq(inode_readlink(img, testimg_ino(path, "/f"), &t, &len), -EINVAL);
	teardown();
}
END_TEST

START_TEST(directory_listing_and_lookup)
{
	struct dircache dc;
	struct dir_listing *l;
	char name[32];
	setup();
	dircache_init(&dc, 1 << 20);
	uint32_t d = testimg_ino(path, "/d");
	ck_assert_int_eq(dircache_get(&dc, img, d, &l), 0);
	ck_assert_uint_eq(l->count, 1002); /* ".", ".." and 1000 files */
	for (int i = 1; i <= 1000; i++) {
		snprintf(name, sizeof(name), "entry%d", i);
		const struct dir_entry *e = dir_lookup(l, name, strlen(name));
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq(e->type, DT_REG);
	}
	ck_assert_ptr_null(dir_lookup(l, "entry0", 6));
	ck_assert_ptr_nonnull(dir_lookup(l, "..", 2));
	dircache_put(&dc, l);
	ck_assert_int_eq(dircache_get(&dc, img, testimg_ino(path, "/f"), &l), -ENOTDIR);
	dircache_destroy(&dc);
	teardown();
}
END_TEST

START_TEST(xattrs_and_statfs)
{
	char *names;
	void *value;
	size_t len;
	struct fs_totals t;
	setup();
	uint32_t f = testimg_ino(path, "/f");
	ck_assert_int_eq(xattr_list(img, f, &names, &len), 0);
	ck_assert_uint_eq(len, 7);
	ck_assert_str_eq(names, "user.k");
	free(names);
	ck_assert_int_eq(xattr_get(img, f, "user.k", &value, &len), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(value, "value", 5);
	free(value);
	ck_assert_int_eq(xattr_get(img, f, "user.missing", &value, &len), -ENODATA);
	/* no handler takes system.data (the VFS's xattr_resolve_name): EOPNOTSUPP, as on the kernel
	 */
	ck_assert_int_eq(xattr_get(img, f, "system.data", &value, &len), -EOPNOTSUPP);
	ck_assert_int_eq(statfs_compute(img, &t), 0);
	ck_assert_uint_eq(t.files, 2048);
	ck_assert_uint_eq(t.bsize, 4096);
	ck_assert_uint_lt(t.bfree, t.blocks);
	ck_assert_uint_le(t.bavail, t.bfree);
	teardown();
}
END_TEST

/* Reading an inode notes it as xattr-free only when it has neither in-inode entries nor an
 * xattr block; xattr calls on such an inode answer from that note, the others read as before. */
START_TEST(inodes_without_xattrs_are_known_once_read)
{
	char *p = testimg_build("-t ext4 -b 4096 -I 256",
				"echo a > plain; echo b > inbody; echo c > inblock; "
				"setfattr -n user.k -v v inbody; "
				"setfattr -n user.big -v $(printf 'y%.0s' $(seq 1 600)) inblock");
	struct image *im = testimg_open(p);
	uint32_t plain = testimg_ino(p, "/plain"), inbody = testimg_ino(p, "/inbody"),
		 inblock = testimg_ino(p, "/inblock");
	struct inoset *known;
	struct stat st;
	char *names;
	void *value;
	size_t len;
	known = image_xattr_free(im);
	ck_assert(!inoset_has(known, plain));
	ck_assert_int_eq(inode_stat(im, plain, &st, NULL), 0);
	ck_assert_int_eq(inode_stat(im, inbody, &st, NULL), 0);
	ck_assert_int_eq(inode_stat(im, inblock, &st, NULL), 0);
	ck_assert(inoset_has(known, plain));
	ck_assert(!inoset_has(known, inbody));
	ck_assert(!inoset_has(known, inblock));
	ck_assert_int_eq(xattr_get(im, plain, "user.k", &value, &len), -ENODATA);
	ck_assert_int_eq(xattr_list(im, plain, &names, &len), 0);
	ck_assert_uint_eq(len, 0);
	free(names);
	ck_assert_int_eq(xattr_get(im, inbody, "user.k", &value, &len), 0);
	ck_assert_mem_eq(value, "v", 1);
	free(value);
	ck_assert_int_eq(xattr_get(im, inblock, "user.big", &value, &len), 0);
	ck_assert_uint_eq(len, 600);
	free(value);
	image_close(im);
	unlink(p);
	free(p);
}
END_TEST

START_TEST(inoset_members_and_bounds)
{
	struct inoset s;
	ck_assert_int_eq(inoset_init(&s, 200000), 0);
	ck_assert(!inoset_has(&s, 1));
	inoset_add(&s, 1);
	inoset_add(&s, 65535);
	inoset_add(&s, 65536);
	inoset_add(&s, 200000);
	inoset_add(&s, 4000000); /* past the set: ignored */
	ck_assert(inoset_has(&s, 1) && inoset_has(&s, 65535) && inoset_has(&s, 65536) &&
		  inoset_has(&s, 200000));
	ck_assert(!inoset_has(&s, 2) && !inoset_has(&s, 65537) && !inoset_has(&s, 0) &&
		  !inoset_has(&s, 4000000) && !inoset_has(&s, 131072));
	inoset_destroy(&s);
}
END_TEST

CHECK_MAIN("metadata", stat_fields, symlinks_fast_and_slow, directory_listing_and_lookup,
	   xattrs_and_statfs, inodes_without_xattrs_are_known_once_read, inoset_members_and_bounds)
