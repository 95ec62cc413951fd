// SPDX-License-Identifier: MIT
#include "image.h"

#include "extmap.h"
#include "fscrypt_key.h"
#include "image_fs.h"
#include "image_io.h"
#include "inoset.h"
#include "journal.h"
#include "overlay.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <et/com_err.h>

struct image {
	struct mutex fs_lock;
	ext2_filsys fs;		 /* guarded by: fs_lock */
	struct byte_source *src; /* owned; immutable after open */
	struct byte_source data; /* the filesystem view of src (image_data); size set at open */
	const char *name;	 /* borrowed for the open only: messages */
	bool src_is_partition;
	uint64_t fs_bytes;   /* blocks_count * block_size, <= src->size */
	unsigned block_size; /* immutable after open */
	uint32_t inode_count;
	/* The replayed journal, applied to every read (metadata and data); immutable after
	 * image_open. */
	bool replayed;
	struct overlay overlay;
	struct journal_replay_stats replay;
	struct inoset xattr_free; /* lock-free (inoset.h) */
	/* The master keys of -o key= (fscrypt_key.h): added before the image is served, then
	 * immutable; wiped at close. */
	struct fscrypt_keyring keys;
	atomic_uint_fast64_t unsupported_policies; /* inodes whose key we have but cannot use */
};

/* Incompatible features whose on-disk format ext4pager reads correctly. */
#define SUPPORTED_INCOMPAT                                                                         \
	(EXT2_FEATURE_INCOMPAT_FILETYPE | EXT3_FEATURE_INCOMPAT_RECOVER |                          \
	 EXT3_FEATURE_INCOMPAT_EXTENTS | EXT4_FEATURE_INCOMPAT_64BIT | EXT4_FEATURE_INCOMPAT_MMP | \
	 EXT4_FEATURE_INCOMPAT_FLEX_BG | EXT2_FEATURE_INCOMPAT_META_BG |                           \
	 EXT4_FEATURE_INCOMPAT_EA_INODE | EXT4_FEATURE_INCOMPAT_LARGEDIR |                         \
	 EXT4_FEATURE_INCOMPAT_INLINE_DATA | EXT4_FEATURE_INCOMPAT_CSUM_SEED |                     \
	 EXT4_FEATURE_INCOMPAT_CASEFOLD | EXT4_FEATURE_INCOMPAT_ENCRYPT)

int image_errno(errcode_t err)
{
	if (err == 0)
		return 0;
	if (err > 0 && err < 256)
		return -(int)err; /* libext2fs passes plain errno values through */
	switch (err) {
	case EXT2_ET_NO_MEMORY:
		return -ENOMEM;
	case EXT2_ET_FILE_NOT_FOUND:
		return -ENOENT;
	case EXT2_ET_RO_FILSYS:
		return -EROFS;
	case EXT2_ET_EA_KEY_NOT_FOUND:
		return -ENODATA;
	case EXT2_ET_NO_INLINE_DATA:
		return -ENODATA;
	/* A checksum mismatch is EFSBADCRC (= EBADMSG) in the kernel's ext4. */
	case EXT2_ET_INODE_CSUM_INVALID:
	case EXT2_ET_EXTENT_CSUM_INVALID:
	case EXT2_ET_DIR_CSUM_INVALID:
	case EXT2_ET_EXT_ATTR_CSUM_INVALID:
		return -EBADMSG;
	default:
		return -EIO;
	}
}

/* Writes the one-line explanation of a refusal. */
__attribute__((format(printf, 3, 4))) static void say(char *why, size_t why_len, const char *fmt,
						      ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

static int check_features(ext2_filsys fs, const struct image_open_options *opts, char *why,
			  size_t why_len)
{
	struct ext2_super_block *sb = fs->super;
	__u32 unsupported = sb->s_feature_incompat & ~SUPPORTED_INCOMPAT;

	if (unsupported) {
		char bits[32];
		snprintf(bits, sizeof(bits), "0x%x", unsupported);
		say(why, why_len, "unsupported incompatible filesystem features %s%s", bits,
		    (sb->s_feature_incompat & EXT4_FEATURE_INCOMPAT_ENCRYPT) ? " (encryption)"
									     : "");
		return -EINVAL;
	}
	/* ext4_fill_super's encoding checks: an encoding libext2fs has no table for, or flags
	 * beyond strict mode, refuse the mount. */
	if (ext2fs_has_feature_casefold(sb) &&
	    (!fs->encoding || (sb->s_encoding_flags & ~EXT4_ENC_STRICT_MODE_FL))) {
		say(why, why_len, "unsupported casefold encoding %u (flags 0x%x)", sb->s_encoding,
		    sb->s_encoding_flags);
		return -EINVAL;
	}
	(void)opts;
	return 0;
}

/* The kernel refuses a device shorter than the filesystem ("block count exceeds size of
 * device"); so do we, instead of failing reads one by one later. */
static int check_size(struct image *img, const char *path, char *why, size_t why_len)
{
	if (img->src->size < img->fs_bytes) {
		say(why, why_len, "%s is truncated: the filesystem needs %llu bytes, %s has %llu",
		    path, (unsigned long long)img->fs_bytes,
		    img->src_is_partition ? "the partition" : "the file",
		    (unsigned long long)img->src->size);
		return -EINVAL;
	}
	return 0;
}

static int open_ext2fs(struct image *img, const char *path, const struct image_open_options *opts,
		       char *why, size_t why_len)
{
	struct image_io_window window = {.src = img->src,
					 .overlay = img->replayed ? &img->overlay.io : NULL};
	errcode_t err;

	image_io_prepare(&window);
	/* Not `path`: libext2fs reads "name?options" as io options, and an NBD URI has a '?'.
	 * image_io reads the prepared window whatever the name. */
	err = ext2fs_open2("ext4pager", NULL, EXT2_FLAG_64BITS | EXT2_FLAG_THREADS, 0, 0,
			   image_io_manager, &img->fs);
	image_io_prepare(NULL);
	if (err == 0)
		return 0;
	img->fs = NULL;
	switch (err) {
	case EXT2_ET_BAD_MAGIC:
	case EXT2_ET_SB_CSUM_INVALID:
	case EXT2_ET_CORRUPT_SUPERBLOCK:
	case EXT2_ET_UNEXPECTED_BLOCK_SIZE:
	case EXT2_ET_SHORT_READ:
		if (opts->offset)
			say(why, why_len, "%s: no valid ext2/ext3/ext4 filesystem at offset %llu",
			    path, (unsigned long long)opts->offset);
		else
			say(why, why_len, "%s: not a valid ext2/ext3/ext4 filesystem (%s)", path,
			    error_message(err));
		return -EINVAL;
	case EXT2_ET_UNSUPP_FEATURE:
	case EXT2_ET_RO_UNSUPP_FEATURE:
		say(why, why_len, "%s: unsupported filesystem features (%s)", path,
		    error_message(err));
		return -EINVAL;
	default:
		say(why, why_len, "%s: cannot open filesystem: %s", path, error_message(err));
		return image_errno(err) ? image_errno(err) : -EIO;
	}
}

static bool needs_replay(ext2_filsys fs, const struct image_open_options *opts)
{
	return ext2fs_has_feature_journal_needs_recovery(fs->super) &&
	       ext2fs_has_feature_journal(fs->super) && !opts->norecovery;
}

static int read_fs_block(void *ctx, uint64_t block, void *buf)
{
	struct image *img = ctx;
	return byte_source_pread(&img->data, buf, img->block_size, block * img->block_size);
}

/* The journal inode's extents, then the replay itself (journal.c) into img->overlay. */
static int replay_from_journal_inode(struct image *img, char *why, size_t why_len)
{
	uint32_t ino = img->fs->super->s_journal_inum;
	struct journal_device dev = {.block_size = img->block_size,
				     .fs_blocks = img->fs_bytes / img->block_size,
				     .read_block = read_fs_block,
				     .ctx = img};
	struct ext2_inode inode;
	struct extmap map;
	int rc;

	if (ino == 0) {
		say(why, why_len,
		    "the journal is on an external device, which ext4pager cannot replay; "
		    "-o norecovery mounts the last checkpointed state");
		return -EINVAL;
	}
	rc = image_errno(ext2fs_read_inode(img->fs, ino, &inode));
	if (rc == 0)
		rc = extmap_build(img->fs, ino, EXT2_I_SIZE(&inode), &map);
	if (rc) {
		say(why, why_len, "cannot read the journal inode %u", ino);
		return rc;
	}
	dev.map = &map;
	rc = journal_replay(&dev, &img->overlay, &img->replay, why, why_len);
	extmap_free(&map);
	return rc;
}

/* Replays the journal into img->overlay, then reopens libext2fs on top of it: the superblock
 * and group descriptors it read at open may be among the replayed blocks. */
static int replay_journal(struct image *img, const char *path,
			  const struct image_open_options *opts, char *why, size_t why_len)
{
	char reason[256];
	int rc = replay_from_journal_inode(img, reason, sizeof(reason));

	if (rc) {
		say(why, why_len, "%s: the journal needs recovery and cannot be replayed: %s", path,
		    reason);
		return rc;
	}
	img->replayed = true;
	ext2fs_close_free(&img->fs);
	rc = open_ext2fs(img, path, opts, why, why_len);
	if (rc == 0)
		rc = check_features(img->fs, opts, why, why_len);
	if (rc == 0 &&
	    ext2fs_blocks_count(img->fs->super) * (uint64_t)img->block_size != img->fs_bytes) {
		say(why, why_len, "%s: the replayed journal changes the filesystem's size", path);
		rc = -EINVAL;
	}
	return rc;
}

/*
 * What the kernel checks before it mounts (ext4_check_descriptors, and the root inode in
 * ext4_fill_super): every group's bitmaps and inode table inside the filesystem, and a root
 * that is a non-empty directory. Failing either, the kernel refuses the mount; so does this.
 */
static int check_structure(struct image *img, const char *path, char *why, size_t why_len)
{
	struct ext2_inode root;
	errcode_t err = ext2fs_check_desc(img->fs);

	if (err) {
		say(why, why_len, "%s: corrupt group descriptors (%s); run e2fsck", path,
		    error_message(err));
		return -EUCLEAN;
	}
	err = ext2fs_read_inode(img->fs, EXT2_ROOT_INO, &root);
	if (err || !LINUX_S_ISDIR(root.i_mode) || root.i_blocks == 0 || EXT2_I_SIZE(&root) == 0) {
		say(why, why_len, "%s: corrupt root directory (%s); run e2fsck", path,
		    err ? error_message(err) : "not a non-empty directory");
		return -EUCLEAN;
	}
	return 0;
}

int image_format_stats(const struct image *img, char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "journal_replayed %d\njournal_transactions %u\njournal_blocks_logged "
			 "%llu\njournal_blocks_revoked %llu\njournal_blocks_bad_csum %llu\n"
			 "journal_overlay_blocks %zu\njournal_overlay_bytes %llu\n",
			 img->replayed, img->replay.transactions,
			 (unsigned long long)img->replay.blocks_logged,
			 (unsigned long long)img->replay.blocks_revoked,
			 (unsigned long long)img->replay.blocks_bad_csum, img->overlay.count,
			 (unsigned long long)img->overlay.bytes);

	if (n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
			      "fscrypt_keys %zu\nfscrypt_unsupported_policies %llu\n",
			      img->keys.count,
			      (unsigned long long)atomic_load_explicit(&img->unsupported_policies,
								       memory_order_relaxed));
	if (n < 0 || (size_t)n >= len)
		return n < 0 ? 0 : (int)len - 1;
	return n + byte_source_format_stats(img->src, buf + n, len - (size_t)n);
}

/* The filesystem view of the source (image_data): bounded to the filesystem's bytes, with the
 * replayed journal laid over what the source returns. */
static int data_preadv(struct byte_source *data, const struct iovec *iov, int iovcnt, size_t len,
		       uint64_t pos)
{
	struct image *img = (struct image *)((char *)data - offsetof(struct image, data));
	int rc = byte_source_preadv(img->src, iov, iovcnt, len, pos);

	if (rc == 0 && img->replayed)
		overlay_apply_iov(&img->overlay, pos, iov, iovcnt);
	return rc;
}

static void data_done_with(struct byte_source *data, uint64_t pos, uint64_t len)
{
	struct image *img = (struct image *)((char *)data - offsetof(struct image, data));
	byte_source_done_with(img->src, pos, len);
}

static void data_close(struct byte_source *data)
{
	(void)data; /* part of the image: image_close frees it */
}

static const struct byte_source_ops data_ops = {
    .preadv = data_preadv, .done_with = data_done_with, .close = data_close};

/* Steps 2-4 of the lifecycle in image.h. */
static int open_checked(struct image *img, const char *name, const struct image_open_options *opts,
			char *why, size_t why_len)
{
	int rc = open_ext2fs(img, name, opts, why, why_len);

	if (rc == 0)
		rc = check_features(img->fs, opts, why, why_len);
	if (rc)
		return rc;
	img->block_size = img->fs->blocksize;
	img->fs_bytes = ext2fs_blocks_count(img->fs->super) * (uint64_t)img->block_size;
	img->inode_count = img->fs->super->s_inodes_count;
	img->data.size = img->fs_bytes;
	if (inoset_init(&img->xattr_free, img->inode_count)) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	rc = check_size(img, name, why, why_len);
	if (rc == 0 && needs_replay(img->fs, opts))
		rc = replay_journal(img, name, opts, why, why_len);
	if (rc == 0)
		rc = check_structure(img, name, why, why_len);
	return rc;
}

int image_open_source(struct byte_source *src, const char *name,
		      const struct image_open_options *opts, struct image **out, char *why,
		      size_t why_len)
{
	struct image *img = calloc(1, sizeof(*img));
	int rc;

	why[0] = '\0';
	if (!img) {
		byte_source_close(src);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	img->src = src;
	img->src_is_partition = opts->size_limit != 0;
	img->data.ops = &data_ops;
	mutex_init(&img->fs_lock);
	initialize_ext2_error_table();
	rc = open_checked(img, name, opts, why, why_len);
	if (rc < 0) {
		image_close(img);
		return rc;
	}
	*out = img;
	return 0;
}

int image_open(const char *path, const struct image_open_options *opts, struct image **out,
	       char *why, size_t why_len)
{
	struct byte_source *src;
	int rc;

	why[0] = '\0';
	rc = byte_source_open_file(path, opts->offset, opts->size_limit, !opts->keep_host_cache,
				   &src, why, why_len);
	return rc ? rc : image_open_source(src, path, opts, out, why, why_len);
}

void image_close(struct image *img)
{
	if (!img)
		return;
	if (img->fs)
		ext2fs_close_free(&img->fs);
	byte_source_close(img->src);
	overlay_free(&img->overlay);
	inoset_destroy(&img->xattr_free);
	fscrypt_keyring_clear(&img->keys);
	mutex_destroy(&img->fs_lock);
	free(img);
}

void image_lock(struct image *img) NO_TSA
{
	mutex_lock(&img->fs_lock);
}

void image_unlock(struct image *img) NO_TSA
{
	mutex_unlock(&img->fs_lock);
}

ext2_filsys image_fs(struct image *img)
{
	return img->fs;
}

bool image_inode_offset(struct image *img, uint32_t ino, uint64_t *pos)
{
	ext2_filsys fs = img->fs;
	uint32_t ipg = fs->super->s_inodes_per_group;
	uint64_t group, table;

	if (ino < 1 || ino > fs->super->s_inodes_count || ipg == 0)
		return false;
	group = (ino - 1) / ipg;
	if (group >= fs->group_desc_count)
		return false;
	table = ext2fs_inode_table_loc(fs, (dgrp_t)group);
	if (table == 0 || table >= ext2fs_blocks_count(fs->super))
		return false;
	*pos = table * fs->blocksize + (uint64_t)((ino - 1) % ipg) * EXT2_INODE_SIZE(fs->super);
	return true;
}

void image_will_need(struct image *img, uint64_t pos, uint64_t len)
{
	byte_source_will_need(img->src, pos, len);
}

struct inoset *image_xattr_free(struct image *img)
{
	return &img->xattr_free;
}

struct byte_source *image_data(struct image *img)
{
	return &img->data;
}

struct byte_source *image_source(struct image *img)
{
	return img->src;
}

unsigned image_block_size(const struct image *img)
{
	return img->block_size;
}

uint64_t image_block_count(const struct image *img)
{
	return img->fs_bytes / img->block_size;
}

uint32_t image_inode_count(const struct image *img)
{
	return img->inode_count;
}

int image_add_key_file(struct image *img, const char *path, char *why, size_t why_len)
{
	return fscrypt_keyring_add_file(&img->keys, path, why, why_len);
}

void image_relock_keys(struct image *img)
{
	fscrypt_keyring_relock(&img->keys);
}

void image_count_unsupported_policy(struct image *img)
{
	atomic_fetch_add_explicit(&img->unsupported_policies, 1, memory_order_relaxed);
}

const struct fscrypt_keyring *image_keyring(const struct image *img)
{
	return &img->keys;
}
