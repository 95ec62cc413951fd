// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the encryption context parser and policy check (fscrypt_context.c) and the
 * no-key name encoder (fscrypt_name.c), on arbitrary bytes: the first byte picks the block size
 * and the stable_inodes feature, the rest is a context and a ciphertext name. A no-key name
 * must stay within FSCRYPT_NOKEY_NAME_MAX_ENCODED and use only base64url characters. Never a
 * crash. (The same parsers run on whole images through fuzz_dir and fuzz_inode.)
 *
 * Seeds: tests/fuzz/corpus/fscrypt (v1 and v2 contexts as the kernel writes them).
 */
#include "fscrypt_context.h"
#include "fscrypt_name.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_image.h"

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
	if (fscrypt_context_parse(data + 2, ctx_len, &ctx) == 0)
		(void)fscrypt_context_supported(&ctx, 10 + data[0] % 7, data[0] & 0x80);
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
