// SPDX-License-Identifier: MIT
/*
 * inode — attributes and symlink targets exactly as the kernel's ext4 driver reports them:
 * 32-bit ids, 64-bit sizes, st_blocks with huge_file units and the inline-data sector,
 * nanosecond times with the epoch bits of the extra fields, rdev in old and new encodings.
 * Every function takes the image lock itself.
 */
#ifndef EXT4PAGER_INODE_H
#define EXT4PAGER_INODE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct image;
struct extmap;
struct supply_transform;

#define INODE_ROOT 2

/* Fills `st` for inode `ino`; `generation` may be NULL. Returns 0, -ENOENT or -EIO. */
int inode_stat(struct image *img, uint32_t ino, struct stat *st, uint64_t *generation);

/* statx(2) as ext4_getattr (fs/ext4/inode.c) fills it: stat's fields, the birth time where the
 * inode has room for i_crtime (STATX_BTIME in stx_mask), and the attribute flags. Returns 0,
 * -ENOENT or -EIO. */
int inode_statx(struct image *img, uint32_t ino, struct statx *stx);

/* The inode attributes lsattr reads (FS_IOC_GETFLAGS, FS_IOC_FSGETXATTR), as
 * ext4_fileattr_get (fs/ext4/ioctl.c) and fileattr_fill_flags (fs/file_attr.c) give them. */
struct inode_fileattr {
	uint32_t flags;	 /* FS_*_FL: the inode's user-visible flags */
	uint32_t xflags; /* FS_XFLAG_*: derived from `flags` */
	uint32_t projid; /* 0 unless the filesystem has the project feature */
};

/* Fills `fa` for inode `ino`. Returns 0, -ENOENT or -EIO. */
int inode_fileattr(struct image *img, uint32_t ino, struct inode_fileattr *fa);

/* Copies the symlink target (not NUL-terminated) into a malloc'd buffer. -EINVAL if `ino` is
 * not a symlink, -EIO if it is corrupt. */
int inode_readlink(struct image *img, uint32_t ino, char **target, size_t *len);

/* A regular file's size and block map (extmap.h), read once for the pager, and for an
 * encrypted file whose key the image holds, the decrypting transform (*transform stays NULL
 * otherwise). Returns 0, -EIO for an unreadable inode or a corrupt map, -ENOMEM, or for an
 * encrypted file without its key what fscrypt_file_open answers (-ENOKEY, -EINVAL, ...). */
int inode_file_map(struct image *img, uint32_t ino, uint64_t *size, struct extmap *map,
		   struct supply_transform **transform);

#endif
