// SPDX-License-Identifier: MIT
/*
 * fscrypt_context — the encryption context ext4 stores with every encrypted inode (xattr
 * index 9, name "c"; fs/ext4/crypto.c), parsed and checked as the kernel checks it:
 * fscrypt_policy_from_context (a known version, the exact size) and fscrypt_supported_policy
 * (fs/crypto/policy.c: a valid pair of modes, known flags, one IV flag at most, the data unit
 * size, zero reserved bytes, stable inodes for the IV_INO_LBLK flags).
 *
 * Pure functions of their input; the bytes come from an untrusted image.
 */
#ifndef EXT4PAGER_FSCRYPT_CONTEXT_H
#define EXT4PAGER_FSCRYPT_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FSCRYPT_CONTEXT_MAX 40 /* struct fscrypt_context_v2 */

/* Encryption modes (include/uapi/linux/fscrypt.h; SM4 from fs/crypto/fscrypt_private.h). */
enum fscrypt_mode {
	FSCRYPT_AES_256_XTS = 1,
	FSCRYPT_AES_256_CTS = 4,
	FSCRYPT_AES_128_CBC = 5,
	FSCRYPT_AES_128_CTS = 6,
	FSCRYPT_SM4_XTS = 7,
	FSCRYPT_SM4_CTS = 8,
	FSCRYPT_ADIANTUM = 9,
	FSCRYPT_AES_256_HCTR2 = 10,
};

struct fscrypt_context {
	uint8_t version; /* 1 or 2 */
	uint8_t contents_mode, filenames_mode, flags;
	uint8_t log2_data_unit_size; /* v2; 0 = the filesystem block */
	uint8_t reserved[3];	     /* v2 */
	uint8_t key[16];	     /* v1: the 8-byte descriptor; v2: the 16-byte identifier */
	uint8_t nonce[16];
};

/* fscrypt_policy_from_context: 0, or -EINVAL for an unknown version or a wrong size. */
int fscrypt_context_parse(const uint8_t *buf, size_t len, struct fscrypt_context *out);

/* fscrypt_supported_policy, for a filesystem of 2^block_bits-byte blocks. */
bool fscrypt_context_supported(const struct fscrypt_context *c, unsigned block_bits,
			       bool stable_inodes);

#endif
