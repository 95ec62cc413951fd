// SPDX-License-Identifier: MIT
#include "fscrypt_inode.h"

#include "fscrypt_context.h"
#include "image_fs.h"
#include "supply.h"
#include "xattr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

int fscrypt_inode_key(struct image *img, uint32_t ino, bool contents, struct fscrypt_inode_key *key)
{
	ext2_filsys fs = image_fs(img);
	uint8_t raw[FSCRYPT_CONTEXT_MAX];
	struct fscrypt_context ctx;
	int n = xattr_encryption_context_locked(img, ino, raw, sizeof(raw));

	memset(key, 0, sizeof(*key));
	if (n < 0)
		return n;
	if (fscrypt_context_parse(raw, (size_t)n, &ctx) != 0 ||
	    !fscrypt_context_supported(&ctx, (unsigned)(10 + fs->super->s_log_block_size),
				       ext2fs_has_feature_stable_inodes(fs->super)))
		return -EINVAL;
	int rc =
	    fscrypt_inode_key_get(image_keyring(img), &ctx, ino, fs->super->s_uuid, contents, key);
	if (rc == -EOPNOTSUPP) {
		image_count_unsupported_policy(img);
		rc = -ENOKEY;
	}
	return rc;
}

struct decrypting {
	struct supply_transform tf;
	struct fscrypt_inode_key key;
	uint64_t size;
	unsigned block_size;
};

/* One page: each block decrypted with its block number; past EOF, zeros (the kernel's page
 * cache holds zeros there too). */
static int decrypt_page(void *ctx, uint64_t file_page, void *page, size_t page_size)
{
	struct decrypting *d = ctx;
	uint8_t *p = page;

	for (size_t off = 0; off < page_size; off += d->block_size) {
		uint64_t pos = file_page * page_size + off;
		int rc;
		if (pos >= d->size) {
			memset(p + off, 0, page_size - off);
			break;
		}
		rc = fscrypt_decrypt_block(&d->key, pos / d->block_size, p + off, d->block_size);
		if (rc)
			return rc;
		if (d->size - pos < d->block_size)
			memset(p + off + (d->size - pos), 0, d->block_size - (d->size - pos));
	}
	return 0;
}

static void release(void *ctx)
{
	struct decrypting *d = ctx;

	OPENSSL_cleanse(d, sizeof(*d));
	free(d);
}

int fscrypt_inode_transform(const struct fscrypt_inode_key *key, uint64_t size, unsigned block_size,
			    struct supply_transform **out)
{
	struct decrypting *d;

	if (block_size != (unsigned)sysconf(_SC_PAGESIZE))
		return -ENOKEY;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->key = *key;
	d->size = size;
	d->block_size = block_size;
	d->tf = (struct supply_transform){.apply = decrypt_page, .release = release, .ctx = d};
	*out = &d->tf;
	return 0;
}
