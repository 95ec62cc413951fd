// SPDX-License-Identifier: MIT
#include "sparse_source.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* On-disk layout: AOSP system/core/libsparse/sparse_format.h. All fields little-endian. */
#define SPARSE_HEADER_BYTES 28
#define CHUNK_HEADER_BYTES  12
#define CHUNK_RAW	    0xCAC1
#define CHUNK_FILL	    0xCAC2
#define CHUNK_DONT_CARE	    0xCAC3
#define CHUNK_CRC32	    0xCAC4

enum piece_kind { PIECE_RAW, PIECE_FILL, PIECE_ZERO };

/* One chunk of output, in output order; entries tile [0, size) without gaps. */
struct sparse_entry {
	uint64_t start;	   /* output byte where the chunk begins */
	uint64_t len;	   /* output bytes */
	uint64_t file_pos; /* PIECE_RAW: where its bytes are in the file */
	uint8_t fill[4];   /* PIECE_FILL: the pattern, as stored */
	uint8_t kind;	   /* enum piece_kind */
};

struct sparse_source {
	struct byte_source base;
	struct byte_source *file;     /* owned */
	struct sparse_entry *entries; /* owned; immutable after open */
	size_t count;
};

static uint16_t le16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

bool sparse_source_detect(const void *head, size_t len)
{
	return len >= 4 && le32_at(head) == SPARSE_MAGIC;
}

/* The index of the entry holding output byte `pos` (< size). */
static size_t find_entry(const struct sparse_source *s, uint64_t pos)
{
	size_t lo = 0, hi = s->count;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->entries[mid].start <= pos)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Writes the fill pattern into `out`, whose first byte is output byte `phase` of the chunk. */
static void fill_pattern(const struct iovec *out, int n, const uint8_t fill[4], uint64_t phase)
{
	bool uniform = fill[0] == fill[1] && fill[1] == fill[2] && fill[2] == fill[3];

	for (int i = 0; i < n; i++) {
		uint8_t *p = out[i].iov_base;
		if (uniform) {
			memset(p, fill[0], out[i].iov_len);
			phase += out[i].iov_len;
			continue;
		}
		for (size_t k = 0; k < out[i].iov_len; k++)
			p[k] = fill[phase++ % 4];
	}
}

/* Serves bytes [done, done + n) of the read from entry `e`, at output position `pos`. */
static int read_piece(struct sparse_source *s, const struct sparse_entry *e,
		      const struct iovec *iov, int iovcnt, size_t done, size_t n, uint64_t pos)
{
	struct iovec piece[BYTE_SOURCE_MAX_IOV];
	int count = byte_source_iov_slice(iov, iovcnt, done, n, piece);

	switch (e->kind) {
	case PIECE_RAW:
		return byte_source_preadv(s->file, piece, count, n, e->file_pos + (pos - e->start));
	case PIECE_FILL:
		fill_pattern(piece, count, e->fill, pos - e->start);
		return 0;
	default:
		for (int i = 0; i < count; i++)
			memset(piece[i].iov_base, 0, piece[i].iov_len);
		return 0;
	}
}

static int sparse_preadv(struct byte_source *src, const struct iovec *iov, int iovcnt, size_t len,
			 uint64_t pos)
{
	struct sparse_source *s = (struct sparse_source *)src;
	size_t i = find_entry(s, pos), done = 0;

	while (done < len) {
		const struct sparse_entry *e = &s->entries[i++];
		uint64_t at = pos + done;
		size_t n = (size_t)(e->start + e->len - at < len - done ? e->start + e->len - at
									: len - done);
		int rc = read_piece(s, e, iov, iovcnt, done, n, at);
		if (rc)
			return rc;
		done += n;
	}
	return 0;
}

/* Calls `hint` on the file range of each raw chunk [pos, pos + len) touches. */
static void for_raw_ranges(struct sparse_source *s, uint64_t pos, uint64_t len,
			   void (*hint)(struct byte_source *, uint64_t, uint64_t))
{
	uint64_t end = pos + len;

	for (size_t i = find_entry(s, pos); i < s->count && s->entries[i].start < end; i++) {
		const struct sparse_entry *e = &s->entries[i];
		uint64_t from = pos > e->start ? pos : e->start;
		uint64_t to = end < e->start + e->len ? end : e->start + e->len;
		if (e->kind == PIECE_RAW)
			hint(s->file, e->file_pos + (from - e->start), to - from);
	}
}

static void sparse_done_with(struct byte_source *src, uint64_t pos, uint64_t len)
{
	for_raw_ranges((struct sparse_source *)src, pos, len, byte_source_done_with);
}

static void sparse_will_need(struct byte_source *src, uint64_t pos, uint64_t len)
{
	for_raw_ranges((struct sparse_source *)src, pos, len, byte_source_will_need);
}

static void sparse_close(struct byte_source *src)
{
	struct sparse_source *s = (struct sparse_source *)src;

	byte_source_close(s->file);
	free(s->entries);
	free(s);
}

static int sparse_format_stats(const struct byte_source *src, char *buf, size_t len)
{
	const struct sparse_source *s = (const struct sparse_source *)src;
	int n = snprintf(buf, len, "sparse_chunks %zu\nsparse_file_reads %llu\n", s->count,
			 (unsigned long long)atomic_load_explicit(&s->file->counters.reads,
								  memory_order_relaxed));
	return n < 0 ? 0 : (n < (int)len ? n : (int)len - 1);
}

static const struct byte_source_ops sparse_ops = {.preadv = sparse_preadv,
						  .done_with = sparse_done_with,
						  .will_need = sparse_will_need,
						  .close = sparse_close,
						  .format_stats = sparse_format_stats};

static const struct byte_source_ops sparse_ops_no_prefetch = {.preadv = sparse_preadv,
							      .done_with = sparse_done_with,
							      .close = sparse_close,
							      .format_stats = sparse_format_stats};

__attribute__((format(printf, 3, 4))) static int bad(char *why, size_t why_len, const char *fmt,
						     ...)
{
	va_list ap;
	int n = snprintf(why, why_len, "corrupt Android sparse image: ");

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < why_len)
		vsnprintf(why + n, why_len - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The header's fields, checked against each other and the file. */
struct sparse_header {
	uint32_t file_hdr_sz, chunk_hdr_sz, blk_sz, total_blks, total_chunks;
};

static int read_header(struct byte_source *file, struct sparse_header *h, char *why, size_t why_len)
{
	uint8_t raw[SPARSE_HEADER_BYTES];

	if (file->size < SPARSE_HEADER_BYTES || byte_source_pread(file, raw, sizeof(raw), 0) != 0)
		return bad(why, why_len, "the header is truncated");
	if (le32_at(raw) != SPARSE_MAGIC)
		return bad(why, why_len, "no sparse magic");
	if (le16_at(raw + 4) != 1)
		return bad(why, why_len, "major version %u (only 1 is defined)", le16_at(raw + 4));
	h->file_hdr_sz = le16_at(raw + 8);
	h->chunk_hdr_sz = le16_at(raw + 10);
	h->blk_sz = le32_at(raw + 12);
	h->total_blks = le32_at(raw + 16);
	h->total_chunks = le32_at(raw + 20);
	if (h->file_hdr_sz < SPARSE_HEADER_BYTES || h->chunk_hdr_sz < CHUNK_HEADER_BYTES)
		return bad(why, why_len, "header sizes %u/%u are too small", h->file_hdr_sz,
			   h->chunk_hdr_sz);
	if (h->blk_sz == 0 || h->blk_sz % 4)
		return bad(why, why_len, "block size %u is not a multiple of 4", h->blk_sz);
	if (h->total_blks == 0)
		return bad(why, why_len, "the image has no blocks");
	if (h->file_hdr_sz > file->size ||
	    h->total_chunks > (file->size - h->file_hdr_sz) / h->chunk_hdr_sz)
		return bad(why, why_len, "%u chunks cannot fit in a %llu-byte file",
			   h->total_chunks, (unsigned long long)file->size);
	return 0;
}

/*
 * The chunk table is read through a window: on a remote source (an NBD export, a URL) each
 * read is a round trip, and thousands of 12-byte header reads would take minutes, so a window
 * of 64 KiB takes in the headers of many small chunks at once. A local file gets a page's worth
 * (what the host reads for 12 bytes anyway).
 */
struct header_window {
	struct byte_source *file;
	uint64_t start;
	size_t len, cap;
	uint8_t buf[64 << 10];
};

static int window_read(struct header_window *w, void *out, size_t n, uint64_t pos)
{
	if (pos < w->start || pos + n > w->start + w->len) {
		size_t want = w->cap;
		if (n > want || pos > w->file->size || n > w->file->size - pos)
			return -EIO;
		if (want > w->file->size - pos)
			want = (size_t)(w->file->size - pos);
		if (byte_source_pread(w->file, w->buf, want, pos) != 0)
			return -EIO;
		w->start = pos;
		w->len = want;
	}
	memcpy(out, w->buf + (pos - w->start), n);
	return 0;
}

/* Reads chunk header `i` at *file_pos into entry `e` and moves *file_pos past the chunk. */
static int read_chunk(struct header_window *w, const struct sparse_header *h, uint32_t i,
		      uint64_t *file_pos, struct sparse_entry *e, uint64_t *blocks, char *why,
		      size_t why_len)
{
	struct byte_source *file = w->file;
	uint8_t raw[CHUNK_HEADER_BYTES + 4];
	uint64_t total, data;
	uint16_t type;

	if (h->chunk_hdr_sz > file->size - *file_pos ||
	    window_read(w, raw, CHUNK_HEADER_BYTES, *file_pos) != 0)
		return bad(why, why_len, "chunk %u's header is past the end of the file", i);
	type = le16_at(raw);
	*blocks = le32_at(raw + 4);
	total = le32_at(raw + 8);
	data = (uint64_t)*blocks * h->blk_sz;
	if (total < h->chunk_hdr_sz || total > file->size - *file_pos)
		return bad(why, why_len, "chunk %u's size %llu is out of bounds", i,
			   (unsigned long long)total);
	e->len = data;
	e->file_pos = *file_pos + h->chunk_hdr_sz;
	switch (type) {
	case CHUNK_RAW:
		e->kind = PIECE_RAW;
		if (total - h->chunk_hdr_sz != data)
			return bad(why, why_len, "raw chunk %u holds %llu bytes, not %llu", i,
				   (unsigned long long)(total - h->chunk_hdr_sz),
				   (unsigned long long)data);
		break;
	case CHUNK_FILL:
	case CHUNK_CRC32:
		if (total - h->chunk_hdr_sz != 4 || window_read(w, e->fill, 4, e->file_pos) != 0)
			return bad(why, why_len, "chunk %u's 4-byte value is missing", i);
		e->kind = PIECE_FILL;
		if (type == CHUNK_CRC32)
			*blocks = e->len = 0; /* a checksum of what came before: no output */
		break;
	case CHUNK_DONT_CARE:
		e->kind = PIECE_ZERO;
		if (total != h->chunk_hdr_sz)
			return bad(why, why_len, "don't-care chunk %u carries data", i);
		break;
	default:
		return bad(why, why_len, "chunk %u has unknown type 0x%04x", i, type);
	}
	*file_pos += total;
	return 0;
}

static int index_chunks(struct sparse_source *s, const struct sparse_header *h,
			struct header_window *w, uint64_t *file_pos, uint64_t *out_blocks,
			char *why, size_t why_len)
{
	for (uint32_t i = 0; i < h->total_chunks; i++) {
		struct sparse_entry e = {0};
		uint64_t blocks = 0;
		int rc = read_chunk(w, h, i, file_pos, &e, &blocks, why, why_len);
		if (rc)
			return rc;
		if (blocks > h->total_blks - *out_blocks)
			return bad(why, why_len, "the chunks hold more than the header's %u blocks",
				   h->total_blks);
		e.start = *out_blocks * h->blk_sz;
		*out_blocks += blocks;
		if (blocks)
			s->entries[s->count++] = e;
	}
	return 0;
}

static int build_index(struct sparse_source *s, const struct sparse_header *h, char *why,
		       size_t why_len)
{
	uint64_t file_pos = h->file_hdr_sz, out_blocks = 0;
	struct header_window *w = calloc(1, sizeof(*w));
	int rc = 0;

	s->entries = calloc(h->total_chunks ? h->total_chunks : 1, sizeof(*s->entries));
	if (!s->entries || !w) {
		free(w);
		snprintf(why, why_len, "out of memory for %u sparse chunks", h->total_chunks);
		return -ENOMEM;
	}
	w->file = s->file;
	w->cap = byte_source_can_prefetch(s->file) ? 4096 : sizeof(w->buf);
	rc = index_chunks(s, h, w, &file_pos, &out_blocks, why, why_len);
	free(w);
	if (rc)
		return rc;
	if (out_blocks != h->total_blks)
		return bad(why, why_len, "the chunks hold %llu blocks, the header says %u",
			   (unsigned long long)out_blocks, h->total_blks);
	return 0;
}

int sparse_source_open(struct byte_source *file, struct byte_source **out, char *why,
		       size_t why_len)
{
	struct sparse_source *s = calloc(1, sizeof(*s));
	struct sparse_header h = {0};
	int rc;

	if (!s) {
		byte_source_close(file);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	s->file = file;
	rc = read_header(file, &h, why, why_len);
	if (rc == 0)
		rc = build_index(s, &h, why, why_len);
	if (rc) {
		sparse_close(&s->base);
		return rc;
	}
	s->base.ops = byte_source_can_prefetch(file) ? &sparse_ops : &sparse_ops_no_prefetch;
	s->base.kind = "android-sparse";
	s->base.size = (uint64_t)h.total_blks * h.blk_sz;
	*out = &s->base;
	return 0;
}
