// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the encryption context parser and policy check (fscrypt_context.c) and the
 * no-key name encoder (fscrypt_name.c), on arbitrary bytes: the first byte picks the block size
 * and the stable_inodes feature, the rest is a context and a ciphertext name. A no-key name
 * must stay within FSCRYPT_NOKEY_NAME_MAX_ENCODED and use only base64url characters. A context
 * that parses also gets a key from a fixed master key (its v1 descriptor or v2 identifier put
 * into the context), and the name bytes are decrypted with it: any length, any bytes. Never a
 * crash. (The same parsers run on whole images through fuzz_dir and fuzz_inode.)
 *
 * Seeds: tests/fuzz/corpus/fscrypt (v1 and v2 contexts as the kernel writes them).
 */
#include "fscrypt_context.h"
#include "fscrypt_key.h"
#include "fscrypt_name.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_image.h"

/* A keyring with one fixed 64-byte master key, made once. */
static const struct fscrypt_keyring *ring(void)
{
	static struct fscrypt_keyring r;
	static int made;
	char path[] = "/tmp/fuzz-fscrypt-key-XXXXXX", why[256];

	if (!made) {
		uint8_t key[64];
		int fd = mkstemp(path);
		for (int i = 0; i < 64; i++)
			key[i] = (uint8_t)(i * 37 + 11);
		if (fd < 0 || write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) ||
		    fscrypt_keyring_add_file(&r, path, why, sizeof(why)) != 0)
			fuzz_fail("cannot make the fuzz key");
		close(fd);
		unlink(path);
		made = 1;
	}
	return &r;
}

/* Derives the key for `ctx` (made to name the fixed key) and decrypts `name` with it. */
static void try_decrypt(struct fscrypt_context *ctx, const uint8_t *name, size_t len)
{
	const struct fscrypt_keyring *r = ring();
	static const uint8_t uuid[16] = {1, 2, 3};
	struct fscrypt_inode_key key;
	char out[4096 + 1];
	uint8_t block[4096];

	memcpy(ctx->key, ctx->version == 1 ? r->keys[0].descriptor : r->keys[0].identifier,
	       ctx->version == 1 ? 8 : 16);
	if (fscrypt_inode_key_get(r, ctx, 12, uuid, false, &key) == 0 && len <= 4096) {
		int n = fscrypt_decrypt_name(&key, name, len, out);
		if (n > (int)len)
			fuzz_fail("decrypted name longer than its ciphertext");
	}
	fscrypt_inode_key_wipe(&key);
	if (fscrypt_inode_key_get(r, ctx, 12, uuid, true, &key) == 0) {
		memset(block, 0, sizeof(block));
		memcpy(block, name, len < sizeof(block) ? len : sizeof(block));
		(void)fscrypt_decrypt_block(&key, len, block, sizeof(block));
	}
	fscrypt_inode_key_wipe(&key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fscrypt_context ctx;
	char out[FSCRYPT_NOKEY_NAME_MAX_ENCODED + 1];
	size_t ctx_len;
	int n;

	if (size < 2)
		return 0;
	ctx_len = data[1] % (FSCRYPT_CONTEXT_MAX + 8);
	if (ctx_len > size - 2)
		ctx_len = size - 2;
	if (fscrypt_context_parse(data + 2, ctx_len, &ctx) == 0) {
		(void)fscrypt_context_supported(&ctx, 10 + data[0] % 7, data[0] & 0x80);
		try_decrypt(&ctx, data + 2 + ctx_len, size - 2 - ctx_len);
	}
	n = fscrypt_nokey_name((uint32_t)size, data[0], data + 2 + ctx_len, size - 2 - ctx_len,
			       out);
	if (size - 2 - ctx_len == 0 ? n != -5 : (n <= 0 || n > FSCRYPT_NOKEY_NAME_MAX_ENCODED))
		fuzz_fail("no-key name length %d for %zu bytes", n, size - 2 - ctx_len);
	for (int i = 0; i < n; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
			    out[i]) ||
		    out[i] == '\0')
			fuzz_fail("no-key name has '%c'", out[i]);
	return 0;
}
