// SPDX-License-Identifier: MIT
/*
 * fscrypt_key — master keys given with -o key=FILE, and what the kernel derives from them
 * (fs/crypto/keysetup.c, keysetup_v1.c, hkdf.c, fname.c, crypto.c), with OpenSSL's libcrypto:
 *  - a v2 key is found by its identifier, HKDF-SHA512(key, "fscrypt\0" 1), 16 bytes; a v1 key by
 *    the conventional descriptor, the first 8 bytes of SHA-512(SHA-512(key)) (e4crypt, fscrypt);
 *  - per-inode keys: v2 HKDF-SHA512(key, "fscrypt\0" 2 nonce); with IV_INO_LBLK_64 or _32, one
 *    key per mode, HKDF(key, "fscrypt\0" 4|6 mode uuid); v1 AES-128-ECB of the key under the
 *    nonce;
 *  - names and symlink targets: AES-256-CBC or AES-128-CBC with ciphertext stealing (CS3), NUL
 *    padding removed;
 *  - contents, per filesystem block: AES-256-XTS, or AES-128-CBC with ESSIV (the IV encrypted
 *    with AES-256 under SHA-256 of the key, crypto/essiv.c);
 *  - the IV (fscrypt_generate_iv): the block number (0 for names), with the inode number in its
 *    high half for IV_INO_LBLK_64, or plus a SipHash-2-4 of the inode number (HKDF context 7),
 *    mod 2^32, for IV_INO_LBLK_32.
 * The mode pairs decrypted: AES-256-XTS/AES-256-CTS and AES-128-CBC-ESSIV/AES-128-CTS.
 * DIRECT_KEY (Adiantum only) and the Adiantum, HCTR2 and SM4 modes are not: their inodes keep
 * the no-key view.
 *
 * Secrets: key bytes live in a locked (mlock) keyring and in per-inode keys on the stack or in
 * a transform; all are wiped with OPENSSL_cleanse when dropped. Nothing here prints a key.
 */
#ifndef EXT4PAGER_FSCRYPT_KEY_H
#define EXT4PAGER_FSCRYPT_KEY_H

#include "fscrypt_context.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FSCRYPT_KEYRING_MAX 16

struct fscrypt_master_key {
	uint8_t raw[64];
	size_t size;
	uint8_t identifier[16]; /* v2 */
	uint8_t descriptor[8];	/* v1 */
};

struct fscrypt_keyring {
	struct fscrypt_master_key *keys; /* FSCRYPT_KEYRING_MAX of them, mlocked; NULL = none */
	size_t count;
};

/* Reads a raw master key (16 to 64 bytes) from `path` into the ring. Returns 0, or a negative
 * errno with a one-line reason that never contains key bytes. */
int fscrypt_keyring_add_file(struct fscrypt_keyring *ring, const char *path, char *why,
			     size_t why_len);
/* Wipes and frees every key. */
void fscrypt_keyring_clear(struct fscrypt_keyring *ring);
/* Locks the keys' pages again: a fork (the daemon detaching) does not carry memory locks. */
void fscrypt_keyring_relock(const struct fscrypt_keyring *ring);

/* One inode's key, for names (a directory or symlink) or contents (a regular file). */
struct fscrypt_inode_key {
	uint8_t mode;	 /* enum fscrypt_mode */
	uint8_t key[64]; /* the derived key */
	size_t size;
	uint64_t iv_high; /* IV_INO_LBLK_64: the inode number, in the IV's high 32 bits */
	bool lblk32;	  /* IV_INO_LBLK_32: the IV is (hashed_ino + block) mod 2^32 */
	uint32_t hashed_ino;
	uint8_t essiv_salt[32]; /* AES-128-CBC contents: SHA-256 of `key`, ESSIV's AES-256 key */
};

/*
 * The key of inode `ino` with context `ctx`: 0; -ENOKEY when the ring has no key for it;
 * -EOPNOTSUPP when it has, but the policy is one not decrypted here (the no-key view stays);
 * -EIO. `uuid` is the filesystem's.
 */
int fscrypt_inode_key_get(const struct fscrypt_keyring *ring, const struct fscrypt_context *ctx,
			  uint32_t ino, const uint8_t uuid[16], bool contents,
			  struct fscrypt_inode_key *out);
void fscrypt_inode_key_wipe(struct fscrypt_inode_key *k);

/* Decrypts a name or symlink target (`len` >= 16 bytes) into `out` (room for `len` + 1):
 * its length without padding, or -EUCLEAN. */
int fscrypt_decrypt_name(const struct fscrypt_inode_key *k, const uint8_t *ct, size_t len,
			 char *out);

/* Decrypts one filesystem block in place (`len` bytes, a multiple of 16): 0 or -EIO. */
int fscrypt_decrypt_block(const struct fscrypt_inode_key *k, uint64_t lblk, uint8_t *data,
			  size_t len);

#endif
