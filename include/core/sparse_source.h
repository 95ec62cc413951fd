// SPDX-License-Identifier: MIT
/*
 * sparse_source — an Android sparse image (img2simg's format, AOSP system/core/libsparse
 * sparse_format.h) read in place as the raw image it stands for: no conversion, no scratch
 * space.
 *
 * At open the chunk table is read once into an index: one entry per chunk, in output order
 * (raw chunks point into the file, fill chunks carry their 32-bit pattern, don't-care chunks
 * read as zeros, CRC32 chunks cover no output and are skipped). Every field is checked against
 * the header and the file's size before anything is believed, so the index is bounded by the
 * file (one entry per 12-byte chunk header at most) and a read never leaves it. A read is then a
 * binary search and one read of the file per raw chunk it touches.
 *
 * libsparse (android-libsparse-dev) converts a whole image but has no random access, hence
 * this index. The file below is any byte source; the sparse source owns it.
 */
#ifndef EXT4PAGER_SPARSE_SOURCE_H
#define EXT4PAGER_SPARSE_SOURCE_H

#include "byte_source.h"

#include <stdbool.h>
#include <stddef.h>

/* The sparse header's magic, little-endian at byte 0. */
#define SPARSE_MAGIC 0xed26ff3aU

/* Whether the first bytes of a file are a sparse image's header magic. */
bool sparse_source_detect(const void *head, size_t len);

/*
 * Indexes the sparse image in `file` and returns the raw image it describes. Takes `file` over
 * (closed on failure too). Returns 0, or -EINVAL (-ENOMEM) with a one-line reason in `why`.
 */
int sparse_source_open(struct byte_source *file, struct byte_source **out, char *why,
		       size_t why_len);

#endif
