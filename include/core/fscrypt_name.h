// SPDX-License-Identifier: MIT
/*
 * fscrypt_name — the names the kernel shows for encrypted (fscrypt) directory entries and
 * symlink targets when it has no key: "no-key names" (fs/crypto/fname.c,
 * fscrypt_fname_disk_to_usr). The ciphertext is prefixed with the entry's directory hash
 * (hash and minor hash, little-endian; zero where the kernel reads the directory linearly) and
 * base64url-encoded without padding. A ciphertext longer than 149 bytes keeps its first 149
 * bytes and the SHA-256 of the rest, so every no-key name fits NAME_MAX.
 *
 * Pure functions of their input; SHA-256 is OpenSSL's.
 */
#ifndef EXT4PAGER_FSCRYPT_NAME_H
#define EXT4PAGER_FSCRYPT_NAME_H

#include <stddef.h>
#include <stdint.h>

/* The longest no-key name: base64url of 4 + 4 + 149 + 32 bytes. */
#define FSCRYPT_NOKEY_NAME_MAX_ENCODED 252

/*
 * Writes the no-key name of ciphertext `ct` (`len` bytes, at least 1: a file name, or a
 * symlink target of up to a block) into `out` (room for FSCRYPT_NOKEY_NAME_MAX_ENCODED + 1
 * bytes, NUL-terminated). Returns its length, or -EIO for an empty ciphertext.
 */
int fscrypt_nokey_name(uint32_t hash, uint32_t minor_hash, const uint8_t *ct, size_t len,
		       char *out);

/* The length fscrypt_nokey_name gives a `len`-byte ciphertext (at most the maximum). */
size_t fscrypt_nokey_name_len(size_t len);

#endif
