// SPDX-License-Identifier: MIT
/*
 * fscrypt_inode — an encrypted inode's key, from its context (fscrypt_context.h) and the
 * image's keyring (fscrypt_key.h): what dir.c (names), inode.c (symlink targets) and the
 * pager's decrypting transform (contents) ask for. Called with the image lock held.
 */
#ifndef EXT4PAGER_FSCRYPT_INODE_H
#define EXT4PAGER_FSCRYPT_INODE_H

#include "fscrypt_key.h"
#include "image.h"

#include <stdbool.h>
#include <stdint.h>

struct supply_transform;

/*
 * The key for inode `ino`'s names (contents false) or contents: 0, or what the kernel's
 * fscrypt_get_encryption_info would make of it without a usable key — the context's own error
 * (-ENODATA when missing, -ERANGE when too long, -EIO), -EINVAL for a corrupt or unsupported
 * policy, -ENOKEY when the keyring has no key for it or the policy is one ext4pager cannot
 * decrypt. The caller wipes the key (fscrypt_inode_key_wipe).
 */
int fscrypt_inode_key(struct image *img, uint32_t ino, bool contents, struct fscrypt_inode_key *key)
    REQUIRES(*img);

/*
 * A supply transform decrypting the contents of a `size`-byte file with `key` (copied; the
 * caller still wipes its own), one filesystem block at a time, and zeroing what lies past
 * EOF. Returns 0, -ENOMEM, or -ENOKEY when blocks are smaller than pages (a page could then
 * mix data with holes, which are not encrypted).
 */
int fscrypt_inode_transform(const struct fscrypt_inode_key *key, uint64_t size, unsigned block_size,
			    struct supply_transform **out);

#endif
