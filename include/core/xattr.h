// SPDX-License-Identifier: MIT
/*
 * xattr — extended attributes as the kernel's ext4 lists and returns them: user., trusted.,
 * security. and system.posix_acl_* (in getfacl's xattr format), from the inode body, the
 * xattr block and EA inodes. The inline-data system.data attribute is internal and hidden, as
 * the kernel hides it. Every function takes the image lock itself, except for an inode already
 * read and found to have no xattrs at all (image_xattr_free), which is answered without it.
 */
#ifndef EXT4PAGER_XATTR_H
#define EXT4PAGER_XATTR_H

#include "lock.h"

#include <stddef.h>
#include <stdint.h>

struct image;

/* NUL-separated names into a malloc'd buffer. Returns 0, -EIO, -ENOMEM. */
int xattr_list(struct image *img, uint32_t ino, char **names, size_t *len);
/* The value into a malloc'd buffer. Returns 0, -ENODATA, -EOPNOTSUPP (a name outside every
 * namespace ext4 handles), -EIO, -ENOMEM. */
int xattr_get(struct image *img, uint32_t ino, const char *name, void **value, size_t *len);

/*
 * The raw encryption context (index 9, name "c": never listed nor returned by xattr_get),
 * with the image lock held. Returns its length, -ENODATA when there is none, -ERANGE when it
 * is longer than `cap`, -EIO.
 */
int xattr_encryption_context_locked(struct image *img, uint32_t ino, void *buf, size_t cap)
    REQUIRES(*img);

#endif
