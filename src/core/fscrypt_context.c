// SPDX-License-Identifier: MIT
#include "fscrypt_context.h"

#include <errno.h>
#include <string.h>

#define CONTEXT_V1_BYTES 28
#define CONTEXT_V2_BYTES 40

#define FLAGS_PAD_MASK	    0x03
#define FLAG_DIRECT_KEY	    0x04
#define FLAG_IV_INO_LBLK_64 0x08
#define FLAG_IV_INO_LBLK_32 0x10
#define FLAGS_VALID	    0x1f

int fscrypt_context_parse(const uint8_t *buf, size_t len, struct fscrypt_context *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 1)
		return -EINVAL;
	out->version = buf[0];
	if (out->version == 1 && len == CONTEXT_V1_BYTES) {
		out->contents_mode = buf[1];
		out->filenames_mode = buf[2];
		out->flags = buf[3];
		memcpy(out->key, buf + 4, 8);
		memcpy(out->nonce, buf + 12, 16);
		return 0;
	}
	if (out->version == 2 && len == CONTEXT_V2_BYTES) {
		out->contents_mode = buf[1];
		out->filenames_mode = buf[2];
		out->flags = buf[3];
		out->log2_data_unit_size = buf[4];
		memcpy(out->reserved, buf + 5, 3);
		memcpy(out->key, buf + 8, 16);
		memcpy(out->nonce, buf + 24, 16);
		return 0;
	}
	return -EINVAL;
}

/* fscrypt_valid_enc_modes_v1 / _v2. */
static bool valid_modes(const struct fscrypt_context *c)
{
	uint8_t ct = c->contents_mode, fn = c->filenames_mode;

	if ((ct == FSCRYPT_AES_256_XTS && fn == FSCRYPT_AES_256_CTS) ||
	    (ct == FSCRYPT_AES_128_CBC && fn == FSCRYPT_AES_128_CTS) ||
	    (ct == FSCRYPT_ADIANTUM && fn == FSCRYPT_ADIANTUM))
		return true;
	return c->version == 2 && ((ct == FSCRYPT_AES_256_XTS && fn == FSCRYPT_AES_256_HCTR2) ||
				   (ct == FSCRYPT_SM4_XTS && fn == FSCRYPT_SM4_CTS));
}

bool fscrypt_context_supported(const struct fscrypt_context *c, unsigned block_bits,
			       bool stable_inodes)
{
	unsigned iv_flags =
	    c->flags & (FLAG_DIRECT_KEY | FLAG_IV_INO_LBLK_64 | FLAG_IV_INO_LBLK_32);

	if (!valid_modes(c))
		return false;
	if (c->version == 1)
		return (c->flags & ~(FLAGS_PAD_MASK | FLAG_DIRECT_KEY)) == 0;
	if ((c->flags & ~FLAGS_VALID) || (iv_flags & (iv_flags - 1)))
		return false; /* unknown flags, or more than one IV flag */
	/* DIRECT_KEY needs a mode whose IV holds the nonce (supported_direct_key_modes) */
	if ((c->flags & FLAG_DIRECT_KEY) && c->contents_mode != c->filenames_mode)
		return false;
	/* IV_INO_LBLK_*: inode numbers that never change (supported_iv_ino_lblk_policy) */
	if ((c->flags & (FLAG_IV_INO_LBLK_64 | FLAG_IV_INO_LBLK_32)) && !stable_inodes)
		return false;
	if (c->log2_data_unit_size &&
	    (c->log2_data_unit_size < 9 || c->log2_data_unit_size > block_bits ||
	     (c->flags & FLAG_IV_INO_LBLK_32)))
		return false;
	return c->reserved[0] == 0 && c->reserved[1] == 0 && c->reserved[2] == 0;
}
