// SPDX-License-Identifier: MIT
/* fscrypt_name and fscrypt_context: the no-key names against vectors computed independently
 * (python's base64.urlsafe_b64encode and hashlib.sha256 over the kernel's struct layout), and
 * the context checks against fs/crypto/policy.c's rules. test_encrypt.sh compares the names
 * with the kernel's own on a real mount. */
#include "check_main.h"
#include "fscrypt_context.h"
#include "fscrypt_key.h"
#include "fscrypt_name.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

START_TEST(nokey_short_names)
{
	uint8_t ct[32];
	char out[FSCRYPT_NOKEY_NAME_MAX_ENCODED + 1];

	for (int i = 0; i < 32; i++)
		ct[i] = (uint8_t)i;
	ck_assert_int_eq(fscrypt_nokey_name(0, 0, ct, 32, out), 54);
	ck_assert_str_eq(out, "AAAAAAAAAAAAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHw");
	fscrypt_nokey_name(0x12345678, 0x9abcdef0, ct, 32, out);
	ck_assert_str_eq(out, "eFY0EvDevJoAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHw");
	ck_assert_int_eq(fscrypt_nokey_name(0, 0, ct, 0, out), -EIO);
	for (size_t n = 1; n <= 32; n++)
		ck_assert_uint_eq(fscrypt_nokey_name_len(n),
				  (size_t)fscrypt_nokey_name(0, 0, ct, n, out));
}
END_TEST

START_TEST(nokey_long_names_are_hashed)
{
	uint8_t ct[300];
	char out[FSCRYPT_NOKEY_NAME_MAX_ENCODED + 1];

	for (int i = 0; i < 300; i++)
		ct[i] = (uint8_t)(i * 7);
	ck_assert_int_eq(fscrypt_nokey_name(1, 2, ct, 200, out), FSCRYPT_NOKEY_NAME_MAX_ENCODED);
	ck_assert_str_eq(out, "AQAAAAIAAAAABw4VHCMqMTg_Rk1UW2JpcHd-hYyTmqGor7a9xMvS2eDn7vX8AwoRGB8m"
			      "LTQ7QklQV15lbHN6gYiPlp2kq7K5wMfO1dzj6vH4_wYNFBsiKTA3PkVMU1phaG92fYSL"
			      "kpmgp661vMPK0djf5u30-wIJEBceJSwzOkFIT1ZdZGtyeYCHjpWco6qxuL_GzdTb4unw"
			      "9_4FDFxbGC1FYTZBCbmXwT-et0buhXEcLZ5tA6szokk8qWGt");
	/* a symlink's ciphertext may be longer than a name: still 252 characters */
	ck_assert_int_eq(fscrypt_nokey_name(0, 0, ct, 300, out), FSCRYPT_NOKEY_NAME_MAX_ENCODED);
}
END_TEST

static size_t v2(uint8_t *b, uint8_t ct, uint8_t fn, uint8_t flags)
{
	memset(b, 0, 40);
	b[0] = 2, b[1] = ct, b[2] = fn, b[3] = flags;
	return 40;
}

START_TEST(context_parse_and_support)
{
	uint8_t b[48];
	struct fscrypt_context c;

	/* v1: 28 bytes exactly */
	memset(b, 0, sizeof(b));
	b[0] = 1, b[1] = FSCRYPT_AES_256_XTS, b[2] = FSCRYPT_AES_256_CTS, b[3] = 3;
	ck_assert_int_eq(fscrypt_context_parse(b, 28, &c), 0);
	ck_assert(fscrypt_context_supported(&c, 12, false));
	ck_assert_int_eq(fscrypt_context_parse(b, 27, &c), -EINVAL);
	ck_assert_int_eq(fscrypt_context_parse(b, 40, &c), -EINVAL);
	b[3] = 0x08; /* IV_INO_LBLK_64 is v2 only */
	fscrypt_context_parse(b, 28, &c);
	ck_assert(!fscrypt_context_supported(&c, 12, true));
	/* v2 */
	ck_assert_int_eq(
	    fscrypt_context_parse(b, v2(b, FSCRYPT_AES_256_XTS, FSCRYPT_AES_256_CTS, 2), &c), 0);
	ck_assert(fscrypt_context_supported(&c, 12, false));
	fscrypt_context_parse(b, v2(b, FSCRYPT_AES_128_CBC, FSCRYPT_AES_128_CTS, 0), &c);
	ck_assert(fscrypt_context_supported(&c, 12, false));
	fscrypt_context_parse(b, v2(b, FSCRYPT_AES_256_XTS, FSCRYPT_AES_128_CTS, 0), &c);
	ck_assert(!fscrypt_context_supported(&c, 12, false)); /* mismatched pair */
	fscrypt_context_parse(b, v2(b, FSCRYPT_AES_256_XTS, FSCRYPT_AES_256_CTS, 0x08), &c);
	ck_assert(!fscrypt_context_supported(&c, 12, false)); /* needs stable inodes */
	ck_assert(fscrypt_context_supported(&c, 12, true));
	fscrypt_context_parse(b, v2(b, FSCRYPT_AES_256_XTS, FSCRYPT_AES_256_CTS, 0x18), &c);
	ck_assert(!fscrypt_context_supported(&c, 12, true)); /* two IV flags */
	fscrypt_context_parse(b, v2(b, FSCRYPT_AES_256_XTS, FSCRYPT_AES_256_CTS, 0x04), &c);
	ck_assert(!fscrypt_context_supported(&c, 12, true)); /* DIRECT_KEY needs Adiantum */
	fscrypt_context_parse(b, v2(b, FSCRYPT_ADIANTUM, FSCRYPT_ADIANTUM, 0x04), &c);
	ck_assert(fscrypt_context_supported(&c, 12, true));
	fscrypt_context_parse(b, v2(b, FSCRYPT_AES_256_XTS, FSCRYPT_AES_256_CTS, 0x20), &c);
	ck_assert(!fscrypt_context_supported(&c, 12, true)); /* unknown flag */
	v2(b, FSCRYPT_AES_256_XTS, FSCRYPT_AES_256_CTS, 0);
	b[4] = 12; /* a data unit of the block's size */
	fscrypt_context_parse(b, 40, &c);
	ck_assert(fscrypt_context_supported(&c, 12, false));
	b[4] = 13; /* larger than the block */
	fscrypt_context_parse(b, 40, &c);
	ck_assert(!fscrypt_context_supported(&c, 12, false));
	b[4] = 0, b[6] = 1; /* reserved byte */
	fscrypt_context_parse(b, 40, &c);
	ck_assert(!fscrypt_context_supported(&c, 12, false));
	b[0] = 3; /* unknown version */
	ck_assert_int_eq(fscrypt_context_parse(b, 40, &c), -EINVAL);
	ck_assert_int_eq(fscrypt_context_parse(b, 0, &c), -EINVAL);
}
END_TEST

/* A key file of `n` bytes. */
static int add_key(struct fscrypt_keyring *r, size_t n, char *why)
{
	char path[] = "/tmp/test-fscrypt-XXXXXX";
	uint8_t key[100];
	int fd = mkstemp(path), rc;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i + 1);
	ck_assert_int_eq(write(fd, key, n), (ssize_t)n);
	close(fd);
	rc = fscrypt_keyring_add_file(r, path, why, 256);
	unlink(path);
	return rc;
}

START_TEST(keyring_and_policies)
{
	struct fscrypt_keyring r = {0};
	struct fscrypt_context c;
	struct fscrypt_inode_key k;
	uint8_t b[40], uuid[16] = {0}, ct[16] = {0};
	char why[256], out[32];

	ck_assert_int_eq(add_key(&r, 10, why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "not a raw fscrypt key"));
	ck_assert_int_eq(add_key(&r, 65, why), -EINVAL);
	ck_assert_int_eq(add_key(&r, 64, why), 0);
	ck_assert_uint_eq(r.count, 1);
	/* a context naming another key: none */
	fscrypt_context_parse(b, v2(b, FSCRYPT_AES_256_XTS, FSCRYPT_AES_256_CTS, 0), &c);
	ck_assert_int_eq(fscrypt_inode_key_get(&r, &c, 12, uuid, true, &k), -ENOKEY);
	/* naming ours: a 64-byte contents key, a 32-byte names key */
	memcpy(c.key, r.keys[0].identifier, 16);
	ck_assert_int_eq(fscrypt_inode_key_get(&r, &c, 12, uuid, true, &k), 0);
	ck_assert_uint_eq(k.size, 64);
	ck_assert_int_eq(fscrypt_inode_key_get(&r, &c, 12, uuid, false, &k), 0);
	ck_assert_uint_eq(k.size, 32);
	ck_assert_int_eq(fscrypt_decrypt_name(&k, ct, 15, out),
			 -EUCLEAN); /* shorter than a block */
	/* AES-128-CBC-ESSIV and AES-128-CTS: 16-byte keys */
	fscrypt_context_parse(b, v2(b, FSCRYPT_AES_128_CBC, FSCRYPT_AES_128_CTS, 0), &c);
	memcpy(c.key, r.keys[0].identifier, 16);
	ck_assert_int_eq(fscrypt_inode_key_get(&r, &c, 12, uuid, false, &k), 0);
	ck_assert_uint_eq(k.size, 16);
	ck_assert_int_eq(fscrypt_inode_key_get(&r, &c, 12, uuid, true, &k), 0);
	ck_assert_uint_eq(k.size, 16);
	/* policies with the key but not decrypted here: DIRECT_KEY (Adiantum), SM4 */
	fscrypt_context_parse(b, v2(b, FSCRYPT_ADIANTUM, FSCRYPT_ADIANTUM, 0x04), &c);
	memcpy(c.key, r.keys[0].identifier, 16);
	ck_assert_int_eq(fscrypt_inode_key_get(&r, &c, 12, uuid, true, &k), -EOPNOTSUPP);
	fscrypt_context_parse(b, v2(b, FSCRYPT_SM4_XTS, FSCRYPT_SM4_CTS, 0), &c);
	memcpy(c.key, r.keys[0].identifier, 16);
	ck_assert_int_eq(fscrypt_inode_key_get(&r, &c, 12, uuid, false, &k), -EOPNOTSUPP);
	fscrypt_inode_key_wipe(&k);
	fscrypt_keyring_clear(&r);
	ck_assert_ptr_null(r.keys);
}
END_TEST

/* A block encrypted as crypto/essiv.c does for fscrypt (CBC under the file key, the IV the
 * little-endian block number encrypted by AES-256 under SHA-256 of that key) decrypts back. The
 * kernel's own ciphertext is checked by test_kernel_vm. */
START_TEST(essiv_block_round_trip)
{
	struct fscrypt_inode_key k = {.mode = FSCRYPT_AES_128_CBC, .size = 16};
	uint8_t salt[32], iv[16] = {0}, plain[4096], data[4096];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0;

	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 7 + 3);
	for (int i = 0; i < 16; i++)
		k.key[i] = (uint8_t)(0xa0 + i);
	iv[0] = 0x39, iv[1] = 0x05; /* block 0x539 */
	SHA256(k.key, 16, salt);
	memcpy(k.essiv_salt, salt, sizeof(salt)); /* as fscrypt_inode_key_get leaves it */
	ck_assert(EVP_EncryptInit_ex2(c, EVP_aes_256_ecb(), salt, NULL, NULL) == 1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	ck_assert(EVP_EncryptUpdate(c, iv, &n, iv, 16) == 1 && n == 16);
	ck_assert(EVP_EncryptInit_ex2(c, EVP_aes_128_cbc(), k.key, iv, NULL) == 1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	ck_assert(EVP_EncryptUpdate(c, data, &n, plain, sizeof(plain)) == 1);
	EVP_CIPHER_CTX_free(c);
	ck_assert_int_eq(fscrypt_decrypt_block(&k, 0x539, data, sizeof(data)), 0);
	ck_assert_mem_eq(data, plain, sizeof(plain));
}
END_TEST

CHECK_MAIN("fscrypt", nokey_short_names, nokey_long_names_are_hashed, context_parse_and_support,
	   keyring_and_policies, essiv_block_round_trip)
