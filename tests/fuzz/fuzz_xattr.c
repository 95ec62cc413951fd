// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: extended attributes and ACLs (xattr.c): in-inode entries, xattr blocks,
 * EA inodes, and the POSIX ACL conversion. Every inode's names are listed and each value read;
 * every listed name must be readable or fail with an errno, and a name never listed must not be
 * readable. Input: a whole image.
 */
#include "fuzz_image.h"
#include "xattr.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PROBE "user.never-listed"

static void visit(struct image *img, uint32_t ino, const struct stat *st)
{
	char *names = NULL;
	size_t len = 0;
	void *value;
	size_t vlen;

	bool probe_listed = false;

	(void)st;
	if (xattr_list(img, ino, &names, &len) == 0) {
		for (size_t off = 0; off < len;) {
			const char *name = names + off;
			size_t n = strnlen(name, len - off);
			if (n == 0 || n == len - off)
				fuzz_fail(
				    "inode %u: xattr list is not non-empty NUL-terminated names",
				    ino);
			if (strcmp(name, PROBE) == 0)
				probe_listed = true;
			if (xattr_get(img, ino, name, &value, &vlen) == 0)
				free(value);
			off += n + 1;
		}
		free(names);
	}
	if (!probe_listed && xattr_get(img, ino, PROBE, &value, &vlen) == 0)
		fuzz_fail("inode %u: an unlisted xattr name was readable", ino);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_visit_image(data, size, visit);
	return 0;
}
