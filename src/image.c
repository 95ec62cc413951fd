#include "image.h"
#include "image_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <et/com_err.h>

/* Incompatible features whose on-disk format ext4pager reads correctly. */
#define SUPPORTED_INCOMPAT                                                                         \
	(EXT2_FEATURE_INCOMPAT_FILETYPE | EXT3_FEATURE_INCOMPAT_RECOVER |                          \
	 EXT3_FEATURE_INCOMPAT_EXTENTS | EXT4_FEATURE_INCOMPAT_64BIT | EXT4_FEATURE_INCOMPAT_MMP | \
	 EXT4_FEATURE_INCOMPAT_FLEX_BG | EXT2_FEATURE_INCOMPAT_META_BG |                           \
	 EXT4_FEATURE_INCOMPAT_EA_INODE | EXT4_FEATURE_INCOMPAT_LARGEDIR |                         \
	 EXT4_FEATURE_INCOMPAT_INLINE_DATA | EXT4_FEATURE_INCOMPAT_CSUM_SEED)

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
	(void)opts;
	return 0;
}

static int open_data_fd(struct image *img, const char *path, char *why, size_t why_len)
{
	struct stat st;

	img->data_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (img->data_fd < 0) {
		int err = errno;
		say(why, why_len, "cannot open %s: %s", path, strerror(err));
		return -err;
	}
	if (fstat(img->data_fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		say(why, why_len, "%s is not a regular file or block device", path);
		return -EINVAL;
	}
	return 0;
}

/* The bytes of `path` from the filesystem's offset on: the whole file or device, or at most
 * `size_limit` of it (a partition). */
static int measure_window(struct image *img, const struct image_open_options *opts,
			  const char *path, char *why, size_t why_len)
{
	uint64_t have = 0;
	struct stat st;

	if (fstat(img->data_fd, &st) < 0)
		return -EIO;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(img->data_fd, BLKGETSIZE64, &have) < 0)
			have = UINT64_MAX;
	} else {
		have = (uint64_t)st.st_size;
	}
	if (have == 0 && img->offset == 0) {
		say(why, why_len, "%s: not a valid ext2/ext3/ext4 filesystem (the file is empty)",
		    path);
		return -EINVAL;
	}
	if (have <= img->offset) {
		say(why, why_len, "%s: offset %llu is past the end of the image (%llu bytes)", path,
		    (unsigned long long)img->offset, (unsigned long long)have);
		return -EINVAL;
	}
	img->limit = have - img->offset;
	if (opts->size_limit && opts->size_limit < img->limit)
		img->limit = opts->size_limit;
	return 0;
}

/* The kernel refuses a device shorter than the filesystem ("block count exceeds size of
 * device"); so do we, instead of failing reads one by one later. */
static int check_size(struct image *img, const char *path, char *why, size_t why_len)
{
	if (img->limit < img->fs_bytes) {
		say(why, why_len, "%s is truncated: the filesystem needs %llu bytes, %s has %llu",
		    path, (unsigned long long)img->fs_bytes,
		    img->limit_is_partition ? "the partition" : "the file",
		    (unsigned long long)img->limit);
		return -EINVAL;
	}
	return 0;
}

static int open_ext2fs(struct image *img, const char *path, const struct image_open_options *opts,
		       char *why, size_t why_len)
{
	struct image_io_window window = {.fd = img->data_fd,
					 .offset = img->offset,
					 .limit = img->limit,
					 .overlay = img->replayed ? &img->overlay.io : NULL};
	errcode_t err;

	image_io_prepare(&window);
	err = ext2fs_open2(path, NULL, EXT2_FLAG_64BITS | EXT2_FLAG_THREADS, 0, 0, image_io_manager,
			   &img->fs);
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

/* Replays the journal into img->overlay, then reopens libext2fs on top of it: the superblock
 * and group descriptors it read at open may be among the replayed blocks. */
static int replay_journal(struct image *img, const char *path,
			  const struct image_open_options *opts, char *why, size_t why_len)
{
	char reason[256];
	int rc = journal_replay(img, &img->overlay, &img->replay, reason, sizeof(reason));

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
	return n < 0 ? 0 : (n < (int)len ? n : (int)len - 1);
}

int image_open(const char *path, const struct image_open_options *opts, struct image **out,
	       char *why, size_t why_len)
{
	struct image *img = calloc(1, sizeof(*img));
	int rc;

	why[0] = '\0';
	if (!img)
		return -ENOMEM;
	img->data_fd = -1;
	img->offset = opts->offset;
	img->limit_is_partition = opts->size_limit != 0;
	img->fadvise_dontneed = true;
	pthread_mutex_init(&img->fs_lock, NULL);
	initialize_ext2_error_table();

	rc = open_data_fd(img, path, why, why_len);
	if (rc == 0)
		rc = measure_window(img, opts, path, why, why_len);
	if (rc == 0)
		rc = open_ext2fs(img, path, opts, why, why_len);
	if (rc == 0)
		rc = check_features(img->fs, opts, why, why_len);
	if (rc < 0) {
		image_close(img);
		return rc;
	}
	img->block_size = img->fs->blocksize;
	img->fs_bytes = ext2fs_blocks_count(img->fs->super) * (uint64_t)img->block_size;
	rc = check_size(img, path, why, why_len);
	if (rc == 0 && needs_replay(img->fs, opts))
		rc = replay_journal(img, path, opts, why, why_len);
	if (rc == 0)
		rc = check_structure(img, path, why, why_len);
	if (rc < 0) {
		image_close(img);
		return rc;
	}
	*out = img;
	return 0;
}

void image_close(struct image *img)
{
	if (!img)
		return;
	if (img->fs)
		ext2fs_close_free(&img->fs);
	if (img->data_fd >= 0)
		close(img->data_fd);
	overlay_free(&img->overlay);
	pthread_mutex_destroy(&img->fs_lock);
	free(img);
}

void image_lock(struct image *img)
{
	pthread_mutex_lock(&img->fs_lock);
}

void image_unlock(struct image *img)
{
	pthread_mutex_unlock(&img->fs_lock);
}

int image_pread(struct image *img, void *buf, size_t len, uint64_t pos)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	return image_preadv(img, &iov, 1, len, pos);
}

/* preadv until `len` bytes are in; `local` (a scratch copy of the iovecs) is consumed. */
static int read_all(struct image *img, struct iovec *local, int iovcnt, size_t len, uint64_t pos)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = preadv(img->data_fd, local, iovcnt, (off_t)(img->offset + pos + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO; /* error, or the image is shorter than the filesystem says */
		done += (size_t)n;
		/* Skip the iovecs a partial read filled, then retry the rest. */
		while (iovcnt > 0 && (size_t)n >= local[0].iov_len) {
			n -= (ssize_t)local[0].iov_len;
			memmove(local, local + 1, sizeof(*local) * (size_t)--iovcnt);
		}
		if (iovcnt > 0) {
			local[0].iov_base = (char *)local[0].iov_base + n;
			local[0].iov_len -= (size_t)n;
		}
	}
	return 0;
}

int image_preadv(struct image *img, const struct iovec *iov, int iovcnt, size_t len, uint64_t pos)
{
	struct iovec local[IMAGE_MAX_IOV];
	int rc;

	if (pos > img->fs_bytes || len > img->fs_bytes - pos ||
	    iovcnt > (int)(sizeof(local) / sizeof(local[0])))
		return -EIO;
	memcpy(local, iov, sizeof(*iov) * (size_t)iovcnt);
	rc = read_all(img, local, iovcnt, len, pos);
	if (rc == 0 && img->replayed)
		overlay_apply_iov(&img->overlay, pos, iov, iovcnt);
	return rc;
}

void image_drop_cache(struct image *img, uint64_t pos, uint64_t len)
{
	if (img->fadvise_dontneed)
		posix_fadvise(img->data_fd, (off_t)(img->offset + pos), (off_t)len,
			      POSIX_FADV_DONTNEED);
}
