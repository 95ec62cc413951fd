// SPDX-License-Identifier: MIT
#include "fscrypt_name.h"

#include <errno.h>
#include <string.h>

#include <openssl/sha.h>

/* struct fscrypt_nokey_name (fs/crypto/fname.c): dirhash[2], bytes[149], sha256[32]. */
#define NOKEY_BYTES 149
#define NOKEY_MAX   (8 + NOKEY_BYTES + SHA256_DIGEST_LENGTH)

/* fscrypt_base64url_encode: RFC 4648 base64url, no padding. */
static int base64url(const uint8_t *src, size_t len, char *dst)
{
	static const char table[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t ac = 0;
	int bits = 0, n = 0;

	for (size_t i = 0; i < len; i++) {
		ac = (ac << 8) | src[i];
		bits += 8;
		do {
			bits -= 6;
			dst[n++] = table[(ac >> bits) & 0x3f];
		} while (bits >= 6);
	}
	if (bits)
		dst[n++] = table[(ac << (6 - bits)) & 0x3f];
	dst[n] = '\0';
	return n;
}

int fscrypt_nokey_name(uint32_t hash, uint32_t minor_hash, const uint8_t *ct, size_t len, char *out)
{
	uint8_t nokey[NOKEY_MAX];
	size_t size;

	if (len == 0)
		return -EIO;
	for (int i = 0; i < 4; i++) {
		nokey[i] = (uint8_t)(hash >> (8 * i));
		nokey[4 + i] = (uint8_t)(minor_hash >> (8 * i));
	}
	if (len <= NOKEY_BYTES) {
		memcpy(nokey + 8, ct, len);
		size = 8 + len;
	} else {
		memcpy(nokey + 8, ct, NOKEY_BYTES);
		SHA256(ct + NOKEY_BYTES, len - NOKEY_BYTES, nokey + 8 + NOKEY_BYTES);
		size = NOKEY_MAX;
	}
	return base64url(nokey, size, out);
}

size_t fscrypt_nokey_name_len(size_t len)
{
	size_t raw = len <= NOKEY_BYTES ? 8 + len : NOKEY_MAX;

	return (raw * 8 + 5) / 6;
}
