// SPDX-License-Identifier: MIT
#include "xattr.h"

#include "image_fs.h"
#include "inoset.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct name_list {
	char *buf;
	size_t len, cap;
	int error;
};

static bool hidden(const char *name)
{
	return strcmp(name, "system.data") == 0;
}

/* Names the kernel would list: the namespaces ext4 has handlers for. */
static bool listable(const char *name)
{
	static const char *const prefixes[] = {"user.", "trusted.", "security.",
					       "system.posix_acl_access",
					       "system.posix_acl_default"};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static int add_name(char *name, char *value, size_t value_len, void *data)
{
	struct name_list *l = data;
	size_t n = strlen(name) + 1;

	(void)value;
	(void)value_len;
	if (hidden(name) || !listable(name))
		return 0;
	if (l->len + n > l->cap) {
		size_t cap = (l->cap ? l->cap : 256);
		char *b;
		while (cap < l->len + n)
			cap *= 2;
		b = realloc(l->buf, cap);
		if (!b) {
			l->error = -ENOMEM;
			return XATTR_ABORT;
		}
		l->buf = b;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, name, n);
	l->len += n;
	return 0;
}

/* Opens and reads the xattrs of `ino`. Caller holds the image lock. */
static int open_xattrs(struct image *img, uint32_t ino, struct ext2_xattr_handle **h) REQUIRES(*img)
{
	if (ino < 1 || ino > image_fs(img)->super->s_inodes_count)
		return -ENOENT;
	if (ext2fs_xattrs_open(image_fs(img), ino, h))
		return -EIO;
	if (ext2fs_xattrs_read(*h)) {
		ext2fs_xattrs_close(h);
		return -EIO;
	}
	return 0;
}

int xattr_list(struct image *img, uint32_t ino, char **names, size_t *len)
{
	struct ext2_xattr_handle *h;
	struct name_list l = {0};
	int rc;

	if (inoset_has(image_xattr_free(img), ino)) {
		*names = NULL;
		*len = 0;
		return 0;
	}
	image_lock(img);
	rc = open_xattrs(img, ino, &h);
	if (rc == 0) {
		if (ext2fs_xattrs_iterate(h, add_name, &l))
			rc = -EIO;
		ext2fs_xattrs_close(&h);
	}
	image_unlock(img);
	if (rc == 0)
		rc = l.error;
	if (rc) {
		free(l.buf);
		return rc;
	}
	*names = l.buf;
	*len = l.len;
	return 0;
}

int xattr_get(struct image *img, uint32_t ino, const char *name, void **value, size_t *len)
{
	struct ext2_xattr_handle *h;
	errcode_t err;
	void *v = NULL;
	size_t n = 0;
	int rc;

	/* A name no ext4 handler takes (no known prefix: "c", "foo.bar", system.data) is
	 * EOPNOTSUPP before any lookup, as the VFS's xattr_resolve_name answers it. */
	if (!listable(name) && strncmp(name, "gnu.", 4) != 0)
		return -EOPNOTSUPP;
	if (hidden(name) || inoset_has(image_xattr_free(img), ino))
		return -ENODATA; /* the last: learnt when the inode was read, without the lock */
	image_lock(img);
	rc = open_xattrs(img, ino, &h);
	if (rc == 0) {
		err = ext2fs_xattr_get(h, name, &v, &n);
		rc = err == EXT2_ET_EA_KEY_NOT_FOUND ? -ENODATA : (err ? -EIO : 0);
		ext2fs_xattrs_close(&h);
	}
	image_unlock(img);
	if (rc)
		return rc;
	/* libext2fs allocates with its own allocator (plain malloc underneath): hand it over. */
	*value = v;
	*len = n;
	return 0;
}

int xattr_encryption_context_locked(struct image *img, uint32_t ino, void *buf, size_t cap)
{
	struct ext2_xattr_handle *h;
	errcode_t err;
	void *v = NULL;
	size_t n = 0;
	int rc = open_xattrs(img, ino, &h);

	if (rc)
		return rc;
	/* libext2fs names index 9 entries by their bare name (no prefix it knows) */
	err = ext2fs_xattr_get(h, "c", &v, &n);
	ext2fs_xattrs_close(&h);
	if (err)
		return err == EXT2_ET_EA_KEY_NOT_FOUND ? -ENODATA : -EIO;
	if (n > cap) /* ext4_get_context's -ERANGE */
		rc = -ERANGE;
	else
		memcpy(buf, v, n);
	ext2fs_free_mem(&v);
	return rc ? rc : (int)n;
}
