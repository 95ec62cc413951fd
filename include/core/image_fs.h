// SPDX-License-Identifier: MIT
/*
 * image_fs — the image as libext2fs sees it, for the metadata readers only (extmap, inode, dir,
 * xattr, statfs). Nothing above them includes this header: the pager and the FUSE layer see
 * `struct image` through image.h and never a libext2fs type.
 *
 * libext2fs is not thread-safe: every call into it happens with the image lock held, and
 * clang's -Wthread-safety checks that image_fs() is only called so.
 */
#ifndef EXT4PAGER_IMAGE_FS_H
#define EXT4PAGER_IMAGE_FS_H

#include "image.h"

#include <ext2fs/ext2fs.h>

void image_lock(struct image *img) ACQUIRE(*img);
void image_unlock(struct image *img) RELEASE(*img);

/* libext2fs's handle of the open filesystem. */
ext2_filsys image_fs(struct image *img) REQUIRES(*img);

/* Where the on-disk inode `ino` is in the image: false when its group or table is out of
 * range (corrupt; the read of the inode reports it). */
bool image_inode_offset(struct image *img, uint32_t ino, uint64_t *pos) REQUIRES(*img);
/* The host may start reading [pos, pos+len) now (byte_source_will_need): a hint, no lock. */
void image_will_need(struct image *img, uint64_t pos, uint64_t len);

/* The inodes known to have no extended attributes (neither in-inode entries nor an xattr
 * block): filled by whoever reads an inode, asked without the image lock (inoset.h). */
struct inoset *image_xattr_free(struct image *img);

/* libext2fs error → negative errno (a checksum mismatch is -EBADMSG, as the kernel's
 * EFSBADCRC). */
int image_errno(errcode_t err);

#endif
