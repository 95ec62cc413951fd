// SPDX-License-Identifier: MIT
#include "fscrypt_key.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/sha.h>

/*
 * The ciphers, fetched from OpenSSL's default provider once per process. EVP_aes_256_xts() and
 * the like are legacy handles: every EVP_*Init with one fetches the implementation again (a
 * name lookup under the provider store's lock: strcmp, rwlocks and OSSL_PARAM_locate in perf).
 * Fetched once, a 256 MiB ESSIV read took 0.23 s of daemon CPU instead of 0.38 s, an XTS one
 * 0.23 s instead of 0.27 s (scripts/bench-fscrypt.sh). Never freed: they live as long as the
 * process.
 */
enum cipher_id {
	AES_128_ECB,
	AES_256_ECB,
	AES_128_CBC,
	AES_256_XTS,
	AES_128_CTS,
	AES_256_CTS,
	NCIPHERS
};
static EVP_CIPHER *ciphers[NCIPHERS];
static pthread_once_t ciphers_once = PTHREAD_ONCE_INIT;

static void fetch_ciphers(void)
{
	static const char *const names[NCIPHERS] = {
	    [AES_128_ECB] = "AES-128-ECB",     [AES_256_ECB] = "AES-256-ECB",
	    [AES_128_CBC] = "AES-128-CBC",     [AES_256_XTS] = "AES-256-XTS",
	    [AES_128_CTS] = "AES-128-CBC-CTS", [AES_256_CTS] = "AES-256-CBC-CTS"};

	for (int i = 0; i < NCIPHERS; i++)
		ciphers[i] = EVP_CIPHER_fetch(NULL, names[i], NULL);
}

/* The cipher, or NULL when the provider has none (the caller's init then fails: EIO). */
static const EVP_CIPHER *cipher(enum cipher_id id)
{
	pthread_once(&ciphers_once, fetch_ciphers);
	return ciphers[id];
}

/* HKDF contexts (fs/crypto/fscrypt_private.h). */
#define HKDF_CONTEXT_KEY_IDENTIFIER	1
#define HKDF_CONTEXT_PER_FILE_ENC_KEY	2
#define HKDF_CONTEXT_IV_INO_LBLK_64_KEY 4
#define HKDF_CONTEXT_IV_INO_LBLK_32_KEY 6
#define HKDF_CONTEXT_INODE_HASH_KEY	7

#define FLAG_DIRECT_KEY	    0x04
#define FLAG_IV_INO_LBLK_64 0x08
#define FLAG_IV_INO_LBLK_32 0x10

/* HKDF-SHA512 with the all-zero salt, info = "fscrypt\0" || context || info (hkdf.c). */
static int hkdf(const struct fscrypt_master_key *mk, uint8_t context, const uint8_t *info,
		size_t info_len, uint8_t *out, size_t out_len)
{
	static const uint8_t salt[64];
	uint8_t full[9 + 32];
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	int ok = 0;

	if (kctx && info_len <= sizeof(full) - 9) {
		memcpy(full, "fscrypt\0", 8);
		full[8] = context;
		if (info_len)
			memcpy(full + 9, info, info_len);
		OSSL_PARAM params[] = {
		    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA512", 0),
		    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)mk->raw,
						      mk->size),
		    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
						      sizeof(salt)),
		    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, full, 9 + info_len),
		    OSSL_PARAM_construct_end()};
		ok = EVP_KDF_derive(kctx, out, out_len, params) == 1;
	}
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	OPENSSL_cleanse(full, sizeof(full));
	return ok ? 0 : -EIO;
}

/* ---- the keyring ---- */

static int identify(struct fscrypt_master_key *mk)
{
	uint8_t d[SHA512_DIGEST_LENGTH];

	SHA512(mk->raw, mk->size, d);
	SHA512(d, sizeof(d), d);
	memcpy(mk->descriptor, d, sizeof(mk->descriptor));
	OPENSSL_cleanse(d, sizeof(d));
	return hkdf(mk, HKDF_CONTEXT_KEY_IDENTIFIER, NULL, 0, mk->identifier,
		    sizeof(mk->identifier));
}

#define RING_BYTES (FSCRYPT_KEYRING_MAX * sizeof(struct fscrypt_master_key))

/* The keys get pages of their own: locked in memory (best effort: a user's RLIMIT_MEMLOCK may
 * refuse) and left out of core dumps. */
static int ring_slot(struct fscrypt_keyring *ring, struct fscrypt_master_key **out)
{
	if (!ring->keys) {
		void *p = mmap(NULL, RING_BYTES, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -ENOMEM;
		madvise(p, RING_BYTES, MADV_DONTDUMP);
		mlock(p, RING_BYTES);
		ring->keys = p;
	}
	if (ring->count >= FSCRYPT_KEYRING_MAX)
		return -E2BIG;
	*out = &ring->keys[ring->count];
	return 0;
}

int fscrypt_keyring_add_file(struct fscrypt_keyring *ring, const char *path, char *why,
			     size_t why_len)
{
	struct fscrypt_master_key *mk;
	struct stat st;
	int fd, rc = ring_slot(ring, &mk);
	ssize_t n;

	if (rc) {
		snprintf(why, why_len, "key=%s: %s", path,
			 rc == -E2BIG ? "more than 16 keys" : "out of memory");
		return rc;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = -errno;
		snprintf(why, why_len, "key=%s: %s", path, strerror(-rc));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	/* FSCRYPT_MIN_KEY_SIZE .. FSCRYPT_MAX_KEY_SIZE, as FS_IOC_ADD_ENCRYPTION_KEY takes */
	if (!S_ISREG(st.st_mode) || st.st_size < 16 || st.st_size > 64) {
		close(fd);
		snprintf(why, why_len,
			 "key=%s: not a raw fscrypt key (a file of 16 to 64 bytes; this one has "
			 "%lld)",
			 path, (long long)st.st_size);
		return -EINVAL;
	}
	n = read(fd, mk->raw, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		OPENSSL_cleanse(mk, sizeof(*mk));
		snprintf(why, why_len, "key=%s: short read", path);
		return -EIO;
	}
	mk->size = (size_t)n;
	if (identify(mk) != 0) {
		OPENSSL_cleanse(mk, sizeof(*mk));
		snprintf(why, why_len, "key=%s: cannot derive its identifier", path);
		return -EIO;
	}
	ring->count++;
	return 0;
}

void fscrypt_keyring_relock(const struct fscrypt_keyring *ring)
{
	if (ring->keys)
		mlock(ring->keys, RING_BYTES);
}

void fscrypt_keyring_clear(struct fscrypt_keyring *ring)
{
	if (ring->keys) {
		OPENSSL_cleanse(ring->keys, RING_BYTES);
		munlock(ring->keys, RING_BYTES);
		munmap(ring->keys, RING_BYTES);
	}
	ring->keys = NULL;
	ring->count = 0;
}

/* ---- per-inode keys ---- */

static size_t mode_key_size(uint8_t mode)
{
	switch (mode) {
	case FSCRYPT_AES_256_XTS:
		return 64;
	case FSCRYPT_AES_256_CTS:
		return 32;
	case FSCRYPT_AES_128_CBC:
	case FSCRYPT_AES_128_CTS:
		return 16;
	default:
		/* not decrypted here: Adiantum, HCTR2, SM4 */
		return 0;
	}
}

static const struct fscrypt_master_key *find(const struct fscrypt_keyring *ring,
					     const struct fscrypt_context *ctx)
{
	for (size_t i = 0; i < ring->count; i++) {
		const struct fscrypt_master_key *mk = &ring->keys[i];
		if (ctx->version == 2 && memcmp(mk->identifier, ctx->key, 16) == 0)
			return mk;
		if (ctx->version == 1 && memcmp(mk->descriptor, ctx->key, 8) == 0)
			return mk;
	}
	return NULL;
}

/* fscrypt_hash_inode_number (keysetup.c): SipHash-2-4 of the inode number under a key derived
 * from the master key, cut to 32 bits: IV_INO_LBLK_32's per-inode IV offset. */
static int hash_inode_number(const struct fscrypt_master_key *mk, uint32_t ino, uint32_t *out)
{
	uint8_t key[16], in[8], mac[8];
	EVP_MAC *siphash = NULL;
	EVP_MAC_CTX *c = NULL;
	size_t n = 0;
	size_t size = sizeof(mac);
	int ok = hkdf(mk, HKDF_CONTEXT_INODE_HASH_KEY, NULL, 0, key, sizeof(key)) == 0;

	for (int i = 0; i < 8; i++)
		in[i] = (uint8_t)((uint64_t)ino >> (8 * i));
	if (ok) {
		siphash = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
		c = siphash ? EVP_MAC_CTX_new(siphash) : NULL;
		OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
				       OSSL_PARAM_construct_end()};
		ok = c && EVP_MAC_init(c, key, sizeof(key), params) == 1 &&
		     EVP_MAC_update(c, in, sizeof(in)) == 1 &&
		     EVP_MAC_final(c, mac, &n, sizeof(mac)) == 1 && n == sizeof(mac);
	}
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(siphash);
	OPENSSL_cleanse(key, sizeof(key));
	if (!ok)
		return -EIO;
	*out = (uint32_t)mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16 |
	       (uint32_t)mac[3] << 24;
	return 0;
}

/* derive_key_aes (keysetup_v1.c): AES-128-ECB of the master key, keyed by the nonce. */
static int derive_v1(const struct fscrypt_master_key *mk, const uint8_t nonce[16], uint8_t *out,
		     size_t size)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	ok = c && size <= mk->size &&
	     EVP_EncryptInit_ex2(c, cipher(AES_128_ECB), nonce, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
	     EVP_EncryptUpdate(c, out, &n, mk->raw, (int)size) == 1 && (size_t)n == size;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -EIO;
}

int fscrypt_inode_key_get(const struct fscrypt_keyring *ring, const struct fscrypt_context *ctx,
			  uint32_t ino, const uint8_t uuid[16], bool contents,
			  struct fscrypt_inode_key *out)
{
	const struct fscrypt_master_key *mk = find(ring, ctx);
	uint8_t mode = contents ? ctx->contents_mode : ctx->filenames_mode;
	uint8_t info[17];
	int rc;

	memset(out, 0, sizeof(*out));
	out->mode = mode;
	out->size = mode_key_size(mode);
	if (!mk)
		return -ENOKEY;
	if (out->size == 0 || (ctx->flags & FLAG_DIRECT_KEY) || ctx->log2_data_unit_size)
		return -EOPNOTSUPP;
	if (ctx->version == 1) {
		rc = derive_v1(mk, ctx->nonce, out->key, out->size);
	} else if (ctx->flags & (FLAG_IV_INO_LBLK_64 | FLAG_IV_INO_LBLK_32)) {
		bool lblk64 = ctx->flags & FLAG_IV_INO_LBLK_64;
		info[0] = mode;
		memcpy(info + 1, uuid, 16);
		rc = hkdf(
		    mk, lblk64 ? HKDF_CONTEXT_IV_INO_LBLK_64_KEY : HKDF_CONTEXT_IV_INO_LBLK_32_KEY,
		    info, sizeof(info), out->key, out->size);
		if (lblk64)
			out->iv_high = (uint64_t)ino << 32;
		else if (rc == 0)
			rc = hash_inode_number(mk, ino, &out->hashed_ino);
		out->lblk32 = !lblk64;
	} else {
		rc = hkdf(mk, HKDF_CONTEXT_PER_FILE_ENC_KEY, ctx->nonce, 16, out->key, out->size);
	}
	if (rc == 0 && mode == FSCRYPT_AES_128_CBC)
		SHA256(out->key, out->size, out->essiv_salt);
	if (rc)
		fscrypt_inode_key_wipe(out);
	return rc;
}

void fscrypt_inode_key_wipe(struct fscrypt_inode_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

/* union fscrypt_iv: the little-endian block number, then zeros. */
static void make_iv(const struct fscrypt_inode_key *k, uint64_t index, uint8_t iv[16])
{
	/* fscrypt_generate_iv: IV_INO_LBLK_32 adds the hashed inode number, in 32 bits */
	uint64_t v = k->lblk32 ? (uint32_t)(k->hashed_ino + (uint32_t)index) : k->iv_high | index;

	memset(iv, 0, 16);
	for (int i = 0; i < 8; i++)
		iv[i] = (uint8_t)(v >> (8 * i));
}

int fscrypt_decrypt_name(const struct fscrypt_inode_key *k, const uint8_t *ct, size_t len,
			 char *out)
{
	const EVP_CIPHER *cts;
	EVP_CIPHER_CTX *c;
	uint8_t iv[16];
	int n = 0, m = 0, ok;

	if (len < 16 || (k->mode != FSCRYPT_AES_256_CTS && k->mode != FSCRYPT_AES_128_CTS))
		return -EUCLEAN;
	make_iv(k, 0, iv);
	cts = cipher(k->mode == FSCRYPT_AES_256_CTS ? AES_256_CTS : AES_128_CTS);
	c = EVP_CIPHER_CTX_new();
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_CIPHER_PARAM_CTS_MODE, "CS3", 0),
	    OSSL_PARAM_construct_end()};
	ok = cts && c && EVP_DecryptInit_ex2(c, cts, k->key, iv, params) == 1 &&
	     EVP_DecryptUpdate(c, (uint8_t *)out, &n, ct, (int)len) == 1 &&
	     EVP_DecryptFinal_ex(c, (uint8_t *)out + n, &m) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok)
		return -EUCLEAN;
	out[len] = '\0';
	return (int)strnlen(out, len); /* fname_decrypt: the padding is NULs */
}

/* ESSIV (crypto/essiv.c, as fscrypt asks for it: essiv(cbc(aes),sha256)): the block's IV,
 * encrypted with AES-256 under the SHA-256 of the file's key, is the CBC IV. Uses `c`, which
 * the caller then re-initialises for the CBC decryption. */
static bool essiv(EVP_CIPHER_CTX *c, const struct fscrypt_inode_key *k, uint8_t iv[16])
{
	int n = 0;

	return EVP_EncryptInit_ex2(c, cipher(AES_256_ECB), k->essiv_salt, NULL, NULL) == 1 &&
	       EVP_CIPHER_CTX_set_padding(c, 0) == 1 && EVP_EncryptUpdate(c, iv, &n, iv, 16) == 1 &&
	       n == 16;
}

int fscrypt_decrypt_block(const struct fscrypt_inode_key *k, uint64_t lblk, uint8_t *data,
			  size_t len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t iv[16];
	int n = 0, ok = 0;

	make_iv(k, lblk, iv);
	if (c && k->mode == FSCRYPT_AES_256_XTS)
		ok = EVP_DecryptInit_ex2(c, cipher(AES_256_XTS), k->key, iv, NULL) == 1 &&
		     EVP_DecryptUpdate(c, data, &n, data, (int)len) == 1;
	else if (c && k->mode == FSCRYPT_AES_128_CBC)
		ok = essiv(c, k, iv) &&
		     EVP_DecryptInit_ex2(c, cipher(AES_128_CBC), k->key, iv, NULL) == 1 &&
		     EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
		     EVP_DecryptUpdate(c, data, &n, data, (int)len) == 1 && (size_t)n == len;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -EIO;
}
