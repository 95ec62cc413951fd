// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the Android sparse image index (sparse_source.c). The input is the sparse
 * file itself; a refusal with a message or an index whose reads stay inside the input are the
 * only outcomes — never a crash, a read outside the buffer, a hang or memory out of proportion
 * to the input (one entry per 12-byte chunk header at most).
 *
 * Seeds: tests/fuzz/corpus/sparse (img2simg output of small images, made by
 * scripts/make-fuzz-seeds.sh).
 */
#include "sparse_source.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Reads larger than this are not tried: a header may describe terabytes of zeros. */
#define MAX_READ (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct byte_source *file = byte_source_from_memory(data, size), *s;
	char why[256];
	static uint8_t buf[MAX_READ];

	if (!file || sparse_source_open(file, &s, why, sizeof(why)) != 0)
		return 0;
	/* The start, a read across the middle, and the end. */
	uint64_t len = s->size < MAX_READ ? s->size : MAX_READ;
	byte_source_pread(s, buf, (size_t)len, 0);
	if (s->size > 2 * 4096) {
		uint64_t mid = s->size / 2 - 4096;
		byte_source_pread(s, buf, 8192, mid);
	}
	byte_source_pread(s, buf, (size_t)len, s->size - len);
	byte_source_close(s);
	return 0;
}
