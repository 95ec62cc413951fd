// SPDX-License-Identifier: MIT
#include "inode.h"

#include "extmap.h"
#include "fscrypt_inode.h"
#include "fscrypt_name.h"
#include "image_fs.h"
#include "inoset.h"
#include "supply.h"
#include "xattr.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h> /* FS_*_FL, FS_XFLAG_* */
#include <sys/sysmacros.h>

/* Whether `field` of the large inode lies within the part the inode actually has. */
#define FITS_IN_INODE(raw, field)                                                                  \
	(offsetof(struct ext2_inode_large, field) + sizeof((raw)->field) <=                        \
	 EXT2_GOOD_OLD_INODE_SIZE + (size_t)(raw)->i_extra_isize)

/* The kernel's ext4_decode_extra_time: signed 32-bit seconds, 2 epoch bits, 30 bits of ns. */
static struct timespec decode_time(uint32_t base, const uint32_t *extra)
{
	struct timespec ts = {.tv_sec = (int32_t)base, .tv_nsec = 0};

	if (extra) {
		if (*extra & EXT4_EPOCH_MASK)
			ts.tv_sec += (int64_t)((uint64_t)(*extra & EXT4_EPOCH_MASK) << 32);
		ts.tv_nsec = (long)((*extra & EXT4_NSEC_MASK) >> EXT4_EPOCH_BITS);
	}
	return ts;
}

static uint64_t stat_blocks(ext2_filsys fs, const struct ext2_inode_large *raw)
{
	uint64_t blocks = raw->i_blocks;

	if (ext2fs_has_feature_huge_file(fs->super)) {
		blocks |= (uint64_t)raw->osd2.linux2.l_i_blocks_hi << 32;
		if (raw->i_flags & EXT4_HUGE_FILE_FL)
			blocks <<=
			    (fs->super->s_log_block_size + 1); /* fs blocks → 512-byte units */
	}
	/* ext4_file_getattr: an inline-data file reports its bytes as sectors. */
	if (LINUX_S_ISREG(raw->i_mode) && (raw->i_flags & EXT4_INLINE_DATA_FL))
		blocks += (EXT2_I_SIZE(raw) + 511) >> 9;
	return blocks;
}

static dev_t decode_rdev(const struct ext2_inode_large *raw)
{
	uint32_t old = raw->i_block[0], new = raw->i_block[1];

	if (old)
		return makedev((old >> 8) & 0xff, old & 0xff);
	return makedev((new & 0xfff00) >> 8, (new & 0xff) | ((new >> 12) & 0xfff00));
}

static bool all_zero(const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

/* The whole on-disk inodes read_large_inode looks past the large inode into (larger ones are
 * read only as far as the large inode: their xattrs are never known absent). */
#define WHOLE_INODE_MAX 1024

/*
 * Notes `ino` as having no xattrs when it has neither an xattr block nor in-inode entries (the
 * ibody header's magic right after i_extra_isize, as the kernel's ext4_iget_extra_inode checks
 * it in fs/ext4/inode.c). `whole` holds the first `held` bytes of the on-disk inode; unless that
 * is all of it, nothing is noted.
 */
static void note_xattr_free(struct image *img, uint32_t ino, const struct ext2_inode_large *raw,
			    const uint8_t *whole, size_t held) REQUIRES(*img)
{
	size_t isize = EXT2_INODE_SIZE(image_fs(img)->super);
	size_t magic_at = EXT2_GOOD_OLD_INODE_SIZE + (size_t)raw->i_extra_isize;
	uint64_t block = raw->i_file_acl;
	uint32_t magic = 0;

	if (held < isize)
		return;
	if (ext2fs_has_feature_64bit(image_fs(img)->super))
		block |= (uint64_t)raw->osd2.linux2.l_i_file_acl_high << 32;
	if (block != 0)
		return;
	if (isize > EXT2_GOOD_OLD_INODE_SIZE && magic_at + sizeof(magic) <= isize)
		memcpy(&magic, whole + magic_at, sizeof(magic));
	if (ext2fs_le32_to_cpu(magic) != EXT2_EXT_ATTR_MAGIC)
		inoset_add(image_xattr_free(img), ino);
}

static int read_large_inode(struct image *img, uint32_t ino, struct ext2_inode_large *raw)
    REQUIRES(*img)
{
	size_t size = EXT2_INODE_SIZE(image_fs(img)->super);
	_Alignas(struct ext2_inode_large) uint8_t whole[WHOLE_INODE_MAX];
	errcode_t err;

	if (ino < 1 || ino > image_fs(img)->super->s_inodes_count)
		return -ENOENT;
	if (size < sizeof(*raw) || size > sizeof(whole))
		size = sizeof(*raw);
	memset(whole, 0, size);
	err = ext2fs_read_inode_full(image_fs(img), ino, (struct ext2_inode *)whole, (int)size);
	memcpy(raw, whole, sizeof(*raw));
	if (err)
		return image_errno(err) == -EBADMSG ? -EBADMSG : -EIO;
	/* libext2fs accepts an all-zero inode as checksummed; the kernel does not (EFSBADCRC). */
	if (ext2fs_has_feature_metadata_csum(image_fs(img)->super) && all_zero(raw, sizeof(*raw)))
		return -EBADMSG;
	if (EXT2_INODE_SIZE(image_fs(img)->super) <= EXT2_GOOD_OLD_INODE_SIZE)
		raw->i_extra_isize = 0;
	else if (raw->i_extra_isize >
		 EXT2_INODE_SIZE(image_fs(img)->super) - EXT2_GOOD_OLD_INODE_SIZE)
		return -EIO;
	note_xattr_free(img, ino, raw, whole, size);
	return 0;
}

static void fill_stat(ext2_filsys fs, uint32_t ino, const struct ext2_inode_large *raw,
		      struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = raw->i_mode;
	st->st_nlink = raw->i_links_count;
	st->st_uid = inode_uid(*raw);
	st->st_gid = inode_gid(*raw);
	st->st_size = (off_t)EXT2_I_SIZE(raw);
	st->st_blocks = (blkcnt_t)stat_blocks(fs, raw);
	st->st_blksize = (blksize_t)fs->blocksize;
	if (LINUX_S_ISCHR(raw->i_mode) || LINUX_S_ISBLK(raw->i_mode))
		st->st_rdev = decode_rdev(raw);
	st->st_atim = decode_time(raw->i_atime,
				  FITS_IN_INODE(raw, i_atime_extra) ? &raw->i_atime_extra : NULL);
	st->st_mtim = decode_time(raw->i_mtime,
				  FITS_IN_INODE(raw, i_mtime_extra) ? &raw->i_mtime_extra : NULL);
	st->st_ctim = decode_time(raw->i_ctime,
				  FITS_IN_INODE(raw, i_ctime_extra) ? &raw->i_ctime_extra : NULL);
}

static int link_target(struct image *img, uint32_t ino, struct ext2_inode_large *raw, char **target,
		       size_t *len) REQUIRES(*img);

/* fscrypt_symlink_getattr: an encrypted symlink's size is its target's length as shown. */
static int encrypted_link_size(struct image *img, uint32_t ino, struct ext2_inode_large *raw,
			       struct stat *st) REQUIRES(*img)
{
	char *target;
	size_t len;
	int rc;

	if (!LINUX_S_ISLNK(raw->i_mode) || !(raw->i_flags & EXT4_ENCRYPT_FL))
		return 0;
	rc = link_target(img, ino, raw, &target, &len);
	if (rc == 0) {
		st->st_size = (off_t)len;
		free(target);
	}
	return rc;
}

int inode_stat(struct image *img, uint32_t ino, struct stat *st, uint64_t *generation)
{
	struct ext2_inode_large raw;
	int rc;

	image_lock(img);
	rc = read_large_inode(img, ino, &raw);
	if (rc == 0 && raw.i_links_count == 0 && raw.i_mode == 0)
		rc = -ENOENT; /* a deleted (or never used) inode */
	if (rc == 0) {
		fill_stat(image_fs(img), ino, &raw, st);
		rc = encrypted_link_size(img, ino, &raw, st);
		if (generation)
			*generation = raw.i_generation;
	}
	image_unlock(img);
	return rc;
}

static struct statx_timestamp statx_time(struct timespec ts)
{
	return (struct statx_timestamp){.tv_sec = ts.tv_sec, .tv_nsec = (uint32_t)ts.tv_nsec};
}

/* ext4_getattr's attribute flags. */
static void fill_statx_attributes(uint32_t flags, struct statx *stx)
{
	static const struct {
		uint32_t fl;
		uint64_t attr;
	} map[] = {{EXT2_APPEND_FL, STATX_ATTR_APPEND},	  {EXT2_COMPR_FL, STATX_ATTR_COMPRESSED},
		   {EXT4_ENCRYPT_FL, STATX_ATTR_ENCRYPTED}, {EXT2_IMMUTABLE_FL, STATX_ATTR_IMMUTABLE},
		   {EXT2_NODUMP_FL, STATX_ATTR_NODUMP},	  {EXT4_VERITY_FL, STATX_ATTR_VERITY}};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		stx->stx_attributes_mask |= map[i].attr;
		if (flags & map[i].fl)
			stx->stx_attributes |= map[i].attr;
	}
}

static void fill_statx(const struct stat *st, const struct ext2_inode_large *raw, struct statx *stx)
{
	memset(stx, 0, sizeof(*stx));
	stx->stx_mask = STATX_BASIC_STATS;
	stx->stx_blksize = (uint32_t)st->st_blksize;
	stx->stx_nlink = (uint32_t)st->st_nlink;
	stx->stx_uid = st->st_uid;
	stx->stx_gid = st->st_gid;
	stx->stx_mode = (uint16_t)st->st_mode;
	stx->stx_ino = st->st_ino;
	stx->stx_size = (uint64_t)st->st_size;
	stx->stx_blocks = (uint64_t)st->st_blocks;
	stx->stx_atime = statx_time(st->st_atim);
	stx->stx_mtime = statx_time(st->st_mtim);
	stx->stx_ctime = statx_time(st->st_ctim);
	stx->stx_rdev_major = major(st->st_rdev);
	stx->stx_rdev_minor = minor(st->st_rdev);
	if (FITS_IN_INODE(raw, i_crtime)) {
		stx->stx_mask |= STATX_BTIME;
		stx->stx_btime = statx_time(decode_time(
		    raw->i_crtime, FITS_IN_INODE(raw, i_crtime_extra) ? &raw->i_crtime_extra : NULL));
	}
	fill_statx_attributes(raw->i_flags, stx);
}

int inode_statx(struct image *img, uint32_t ino, struct statx *stx)
{
	struct ext2_inode_large raw;
	struct stat st;
	int rc;

	image_lock(img);
	rc = read_large_inode(img, ino, &raw);
	if (rc == 0 && raw.i_links_count == 0 && raw.i_mode == 0)
		rc = -ENOENT;
	if (rc == 0) {
		fill_stat(image_fs(img), ino, &raw, &st);
		rc = encrypted_link_size(img, ino, &raw, &st);
	}
	if (rc == 0)
		fill_statx(&st, &raw, stx);
	image_unlock(img);
	return rc;
}

/* EXT4_FL_USER_VISIBLE (fs/ext4/ext4.h): the flags FS_IOC_GETFLAGS shows. */
#define EXT4_USER_VISIBLE_FLAGS 0x725BDFFFu

/* fileattr_fill_flags (fs/file_attr.c): the FS_XFLAG_* that follow from the flags. */
static uint32_t xflags_of(uint32_t flags)
{
	static const struct {
		uint32_t fl, xfl;
	} map[] = {{FS_SYNC_FL, FS_XFLAG_SYNC},
		   {FS_IMMUTABLE_FL, FS_XFLAG_IMMUTABLE},
		   {FS_APPEND_FL, FS_XFLAG_APPEND},
		   {FS_NODUMP_FL, FS_XFLAG_NODUMP},
		   {FS_NOATIME_FL, FS_XFLAG_NOATIME},
		   {FS_DAX_FL, FS_XFLAG_DAX},
		   {FS_PROJINHERIT_FL, FS_XFLAG_PROJINHERIT}};
	uint32_t x = 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (flags & map[i].fl)
			x |= map[i].xfl;
	return x;
}

int inode_fileattr(struct image *img, uint32_t ino, struct inode_fileattr *fa)
{
	struct ext2_inode_large raw;
	int rc;

	image_lock(img);
	rc = read_large_inode(img, ino, &raw);
	if (rc == 0 && raw.i_links_count == 0 && raw.i_mode == 0)
		rc = -ENOENT;
	if (rc == 0) {
		memset(fa, 0, sizeof(*fa));
		fa->flags = raw.i_flags & EXT4_USER_VISIBLE_FLAGS;
		if (LINUX_S_ISREG(raw.i_mode)) /* ext4_fileattr_get */
			fa->flags &= ~FS_PROJINHERIT_FL;
		fa->xflags = xflags_of(fa->flags);
		if (ext2fs_has_feature_project(image_fs(img)->super) &&
		    FITS_IN_INODE(&raw, i_projid))
			fa->projid = raw.i_projid;
	}
	image_unlock(img);
	return rc;
}

/* ext4_inode_is_fast_symlink: no blocks besides a possible xattr block. */
static bool is_fast_symlink(ext2_filsys fs, const struct ext2_inode_large *raw)
{
	uint64_t ea_blocks = raw->i_file_acl ? (uint64_t)EXT2_CLUSTER_SIZE(fs->super) >> 9 : 0;
	uint64_t blocks = raw->i_blocks | ((uint64_t)raw->osd2.linux2.l_i_blocks_hi << 32);

	if (raw->i_flags & EXT4_EA_INODE_FL)
		return EXT2_I_SIZE(raw) && EXT2_I_SIZE(raw) < sizeof(raw->i_block);
	return blocks - ea_blocks == 0 || blocks < ea_blocks;
}

static int read_slow_symlink(struct image *img, uint32_t ino, struct ext2_inode_large *raw,
			     char *buf, size_t len) REQUIRES(*img)
{
	ext2_filsys fs = image_fs(img);
	char *block = malloc(fs->blocksize);
	blk64_t pblk = 0;
	errcode_t err;

	if (!block)
		return -ENOMEM;
	err = ext2fs_bmap2(fs, ino, (struct ext2_inode *)raw, NULL, 0, 0, NULL, &pblk);
	if (!err &&
	    (pblk < fs->super->s_first_data_block || pblk >= ext2fs_blocks_count(fs->super)))
		err = EXT2_ET_BAD_BLOCK_NUM;
	if (!err)
		err = io_channel_read_blk64(fs->io, pblk, 1, block);
	if (!err)
		memcpy(buf, block, len);
	free(block);
	return err ? -EIO : 0;
}

/* The bytes a symlink stores (`size` of them, NUL-terminated in a malloc'd *buf). */
static int link_bytes(struct image *img, uint32_t ino, struct ext2_inode_large *raw, char **out,
		      uint64_t *out_size) REQUIRES(*img)
{
	uint64_t size = EXT2_I_SIZE(raw);
	char *buf;
	int rc = 0;

	if (size == 0 || size >= image_fs(img)->blocksize || size >= 4096)
		return -EIO;
	if (!(buf = calloc(1, size + 1)))
		return -ENOMEM;
	if (raw->i_flags & EXT4_INLINE_DATA_FL) {
		size_t got = 0;
		char *tmp = NULL;
		rc = image_errno(ext2fs_inline_data_size(image_fs(img), ino, &got));
		if (rc == 0 && got < size)
			rc = -EIO;
		if (rc == 0 && !(tmp = calloc(1, got + 1)))
			rc = -ENOMEM;
		if (rc == 0 &&
		    ext2fs_inline_data_get(image_fs(img), ino, (struct ext2_inode *)raw, tmp, &got))
			rc = -EIO;
		if (rc == 0)
			memcpy(buf, tmp, size);
		free(tmp);
	} else if (is_fast_symlink(image_fs(img), raw)) {
		if (size > sizeof(raw->i_block))
			rc = -EIO;
		else
			memcpy(buf, raw->i_block, size);
	} else {
		rc = read_slow_symlink(img, ino, raw, buf, size);
	}
	if (rc) {
		free(buf);
		return rc < 0 ? rc : -EIO;
	}
	*out = buf;
	*out_size = size;
	return 0;
}

/*
 * An encrypted symlink's target (fscrypt_get_symlink, fs/crypto/hooks.c): the stored bytes are a
 * little-endian length and that much ciphertext, decrypted with `key`, or without one shown as
 * its no-key name. A length of zero or past the stored bytes, or an empty plaintext, is
 * EUCLEAN, as there.
 */
static int encrypted_link(const struct fscrypt_inode_key *key, const char *stored, uint64_t size,
			  char **target, size_t *len)
{
	const uint8_t *p = (const uint8_t *)stored;
	size_t ct_len = size >= 2 ? (size_t)(p[0] | p[1] << 8) : 0;
	char *out;
	int n;

	if (ct_len == 0 || ct_len + 2 > size)
		return -EUCLEAN;
	if (!(out = malloc((key ? ct_len : FSCRYPT_NOKEY_NAME_MAX_ENCODED) + 1)))
		return -ENOMEM;
	n = key ? fscrypt_decrypt_name(key, p + 2, ct_len, out)
		: fscrypt_nokey_name(0, 0, p + 2, ct_len, out);
	if (n <= 0) {
		free(out);
		return -EUCLEAN;
	}
	*target = out;
	*len = (size_t)n;
	return 0;
}

/* The target as the kernel returns it, from the inode `raw` (read under the lock). */
static int link_target(struct image *img, uint32_t ino, struct ext2_inode_large *raw, char **target,
		       size_t *len) REQUIRES(*img)
{
	uint64_t size;
	char *buf;
	int rc = link_bytes(img, ino, raw, &buf, &size);

	if (rc)
		return rc;
	if (raw->i_flags & EXT4_ENCRYPT_FL) {
		struct fscrypt_inode_key key;
		bool have = fscrypt_inode_key(img, ino, false, &key) == 0;
		rc = encrypted_link(have ? &key : NULL, buf, size, target, len);
		fscrypt_inode_key_wipe(&key);
		free(buf);
		return rc;
	}
	/* The kernel stops a target at its first NUL (nd_terminate_link / strlen); an empty
	 * target is never valid (symlink(2) refuses one), so that is a corrupt inode. */
	*len = strnlen(buf, size);
	if (*len == 0) {
		free(buf);
		return -EIO;
	}
	*target = buf;
	return 0;
}

int inode_readlink(struct image *img, uint32_t ino, char **target, size_t *len)
{
	struct ext2_inode_large raw;
	int rc;

	image_lock(img);
	rc = read_large_inode(img, ino, &raw);
	if (rc == 0 && !LINUX_S_ISLNK(raw.i_mode))
		rc = -EINVAL;
	if (rc == 0)
		rc = link_target(img, ino, &raw, target, len);
	image_unlock(img);
	return rc;
}

/*
 * An encrypted file's open (fscrypt_file_open): with its key, the decrypting transform;
 * without, what fscrypt_get_encryption_info answers (-ENOKEY, -EINVAL for a corrupt or
 * unsupported policy, the context's own error).
 */
static int open_encrypted(struct image *img, uint32_t ino, uint64_t size,
			  struct supply_transform **transform) REQUIRES(*img)
{
	struct fscrypt_inode_key key;
	int rc = fscrypt_inode_key(img, ino, true, &key);

	if (rc == 0)
		rc = transform
			 ? fscrypt_inode_transform(&key, size, image_block_size(img), transform)
			 : -ENOKEY;
	fscrypt_inode_key_wipe(&key);
	return rc;
}

int inode_file_map(struct image *img, uint32_t ino, uint64_t *size, struct extmap *map,
		   struct supply_transform **transform)
{
	struct ext2_inode inode;
	int rc;

	if (transform)
		*transform = NULL;
	image_lock(img);
	rc = ino >= 1 && ino <= image_inode_count(img)
		 ? image_errno(ext2fs_read_inode(image_fs(img), ino, &inode))
		 : -EIO;
	if (rc == 0 && (inode.i_flags & EXT4_ENCRYPT_FL)) {
		rc = open_encrypted(img, ino, EXT2_I_SIZE(&inode), transform);
		if (rc) {
			image_unlock(img);
			return rc;
		}
	}
	if (rc == 0) {
		*size = EXT2_I_SIZE(&inode);
		rc = extmap_build(image_fs(img), ino, *size, map);
	}
	image_unlock(img);
	if (rc && transform && *transform) {
		(*transform)->release((*transform)->ctx);
		*transform = NULL;
	}
	return rc < 0 && rc != -ENOMEM ? -EIO : rc;
}
