// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: inode attributes and symlinks (inode.c): every inode is stat'ed, every
 * symlink read (fast, slow, inline), and a readlink of anything else must say -EINVAL.
 * Input: a whole image.
 */
#include "fuzz_image.h"
#include "inode.h"

#include <errno.h>
#include <stdlib.h>

static void visit(struct image *img, uint32_t ino, const struct stat *st)
{
	char *target = NULL;
	size_t len = 0;
	int rc = inode_readlink(img, ino, &target, &len);

	/* Only symlinks have targets, and a target is 1..PATH_MAX bytes. */
	if (rc == 0 && (!S_ISLNK(st->st_mode) || len == 0 || len > 4096))
		fuzz_fail("inode %u mode %o: readlink gave %zu bytes", ino, st->st_mode, len);
	if (!S_ISLNK(st->st_mode) && rc != -EINVAL)
		fuzz_fail("inode %u mode %o: readlink rc %d", ino, st->st_mode, rc);
	free(target);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_visit_image(data, size, visit);
	return 0;
}
