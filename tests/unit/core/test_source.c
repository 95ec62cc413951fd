// SPDX-License-Identifier: MIT
/* The byte sources below the image: the Android sparse index (against the raw bytes it stands
 * for, built here chunk by chunk), windows, iovec slicing and format detection. */
#include "check_main.h"
#include "source.h"
#include "sparse_source.h"
#include "url.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLK 4096u

/* A sparse image under construction, and the raw image it stands for. */
struct builder {
	uint8_t *file, *raw;
	size_t file_len, raw_len, cap;
	uint32_t chunks;
};

static void put(struct builder *b, const void *p, size_t n)
{
	if (b->file_len + n > b->cap) {
		b->cap = (b->file_len + n) * 2;
		b->file = realloc(b->file, b->cap);
	}
	memcpy(b->file + b->file_len, p, n);
	b->file_len += n;
}

static void put16(struct builder *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	put(b, x, 2);
}

static void put32(struct builder *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	put(b, x, 4);
}

static void grow_raw(struct builder *b, size_t n)
{
	b->raw = realloc(b->raw, b->raw_len + n);
}

static void begin(struct builder *b)
{
	memset(b, 0, sizeof(*b));
	put32(b, SPARSE_MAGIC);
	put16(b, 1);
	put16(b, 0);
	put16(b, 28);
	put16(b, 12);
	put32(b, BLK);
	put32(b, 0); /* total blocks: finish() */
	put32(b, 0); /* total chunks: finish() */
	put32(b, 0);
}

static void chunk_header(struct builder *b, uint16_t type, uint32_t blocks, uint32_t total)
{
	put16(b, type);
	put16(b, 0);
	put32(b, blocks);
	put32(b, total);
	b->chunks++;
}

static void add_raw(struct builder *b, uint32_t blocks, uint8_t seed)
{
	size_t n = (size_t)blocks * BLK;
	chunk_header(b, 0xCAC1, blocks, 12 + (uint32_t)n);
	grow_raw(b, n);
	for (size_t i = 0; i < n; i++)
		b->raw[b->raw_len + i] = (uint8_t)(i * 7 + seed + (i >> 12));
	put(b, b->raw + b->raw_len, n);
	b->raw_len += n;
}

static void add_fill(struct builder *b, uint32_t blocks, uint32_t value)
{
	size_t n = (size_t)blocks * BLK;
	chunk_header(b, 0xCAC2, blocks, 16);
	put32(b, value);
	grow_raw(b, n);
	for (size_t i = 0; i < n; i++)
		b->raw[b->raw_len + i] = (uint8_t)(value >> (8 * (i % 4)));
	b->raw_len += n;
}

static void add_dont_care(struct builder *b, uint32_t blocks)
{
	size_t n = (size_t)blocks * BLK;
	chunk_header(b, 0xCAC3, blocks, 12);
	grow_raw(b, n);
	memset(b->raw + b->raw_len, 0, n);
	b->raw_len += n;
}

static void add_crc(struct builder *b)
{
	chunk_header(b, 0xCAC4, 0, 16);
	put32(b, 0x12345678);
}

static void finish(struct builder *b)
{
	uint32_t blocks = (uint32_t)(b->raw_len / BLK);
	memcpy(b->file + 16, &blocks, 4);
	memcpy(b->file + 20, &b->chunks, 4);
}

static int open_sparse(struct builder *b, struct byte_source **out, char *why)
{
	struct byte_source *file = byte_source_from_memory(b->file, b->file_len);
	return sparse_source_open(file, out, why, 256);
}

static void free_builder(struct builder *b)
{
	free(b->file);
	free(b->raw);
}

static void build_mixed(struct builder *b)
{
	begin(b);
	add_raw(b, 3, 1);
	add_fill(b, 2, 0xa1b2c3d4);
	add_crc(b);
	add_dont_care(b, 5);
	add_raw(b, 1, 9);
	add_fill(b, 1, 0);
	add_raw(b, 4, 3);
	finish(b);
}

START_TEST(sparse_reads_equal_raw)
{
	struct builder b;
	struct byte_source *s;
	char why[256];
	uint8_t *buf;

	build_mixed(&b);
	ck_assert_int_eq(open_sparse(&b, &s, why), 0);
	ck_assert_uint_eq(s->size, b.raw_len);
	buf = malloc(b.raw_len);
	/* Every (start, length) pair on a coarse grid, crossing chunk edges at odd offsets. */
	for (size_t pos = 0; pos < b.raw_len; pos += 1531) {
		for (size_t len = 1; pos + len <= b.raw_len; len = len * 3 + 17) {
			memset(buf, 0x55, len);
			ck_assert_int_eq(byte_source_pread(s, buf, len, pos), 0);
			ck_assert_msg(memcmp(buf, b.raw + pos, len) == 0, "pos %zu len %zu", pos,
				      len);
		}
	}
	ck_assert_int_eq(byte_source_pread(s, buf, 2, b.raw_len - 1), -EIO);
	free(buf);
	byte_source_close(s);
	free_builder(&b);
}
END_TEST

START_TEST(sparse_scattered_read)
{
	struct builder b;
	struct byte_source *s;
	char why[256];
	uint8_t a[5000], c[3000], d[10000];
	struct iovec iov[3] = {{a, sizeof(a)}, {c, sizeof(c)}, {d, sizeof(d)}};

	build_mixed(&b);
	ck_assert_int_eq(open_sparse(&b, &s, why), 0);
	ck_assert_int_eq(byte_source_preadv(s, iov, 3, sizeof(a) + sizeof(c) + sizeof(d), 9000), 0);
	ck_assert(memcmp(a, b.raw + 9000, sizeof(a)) == 0);
	ck_assert(memcmp(c, b.raw + 14000, sizeof(c)) == 0);
	ck_assert(memcmp(d, b.raw + 17000, sizeof(d)) == 0);
	byte_source_close(s);
	free_builder(&b);
}
END_TEST

/* Each corruption, applied to a good image, is refused with a reason. */
static void expect_refused(void (*corrupt)(struct builder *), const char *words)
{
	struct builder b;
	struct byte_source *s = NULL;
	char why[256] = "";

	build_mixed(&b);
	corrupt(&b);
	ck_assert_int_eq(open_sparse(&b, &s, why), -EINVAL);
	ck_assert_msg(strstr(why, words) != NULL, "'%s' lacks '%s'", why, words);
	ck_assert_msg(strstr(why, "sparse") != NULL, "%s", why);
	free_builder(&b);
}

static void truncate_header(struct builder *b)
{
	b->file_len = 20;
}
static void truncate_chunks(struct builder *b)
{
	b->file_len -= 100;
}
static void bad_version(struct builder *b)
{
	b->file[4] = 2;
}
static void odd_block_size(struct builder *b)
{
	b->file[12] = 3;
}
static void too_many_blocks(struct builder *b)
{
	b->file[16] += 1;
}
static void too_many_chunks(struct builder *b)
{
	memset(b->file + 20, 0xff, 4);
}
static void unknown_type(struct builder *b)
{
	b->file[28] = 0x99;
}
static void raw_size_mismatch(struct builder *b)
{
	b->file[28 + 4] = 2; /* first raw chunk claims 2 blocks but holds 3 */
}
static void zero_blocks(struct builder *b)
{
	memset(b->file + 16, 0, 4);
}

START_TEST(sparse_corruptions_refused)
{
	expect_refused(truncate_header, "truncated");
	expect_refused(truncate_chunks, "chunk");
	expect_refused(bad_version, "version");
	expect_refused(odd_block_size, "block size");
	expect_refused(too_many_blocks, "blocks");
	expect_refused(too_many_chunks, "cannot fit");
	expect_refused(unknown_type, "unknown type");
	expect_refused(raw_size_mismatch, "raw chunk 0");
	expect_refused(zero_blocks, "no blocks");
}
END_TEST

START_TEST(window_bounds)
{
	static uint8_t data[8192];
	struct byte_source *m, *w;
	uint8_t buf[16];
	char why[256];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	m = byte_source_from_memory(data, sizeof(data));
	ck_assert_int_eq(byte_source_window(m, 1000, 2000, &w, why, sizeof(why)), 0);
	ck_assert_uint_eq(w->size, 2000);
	ck_assert_int_eq(byte_source_pread(w, buf, 16, 10), 0);
	ck_assert_int_eq(buf[0], (uint8_t)1010);
	ck_assert_int_eq(byte_source_pread(w, buf, 16, 1990), -EIO);
	byte_source_close(w);
	m = byte_source_from_memory(data, sizeof(data));
	ck_assert_int_eq(byte_source_window(m, 9000, 0, &w, why, sizeof(why)), -EINVAL);
	ck_assert(strstr(why, "past the end") != NULL);
	m = byte_source_from_memory(data, sizeof(data));
	ck_assert_int_eq(byte_source_window(m, 4096, 8192, &w, why, sizeof(why)), -EINVAL);
}
END_TEST

START_TEST(iov_slice_and_fill)
{
	uint8_t a[3], b[5], c[4], src[12];
	struct iovec iov[3] = {{a, 3}, {b, 5}, {c, 4}}, out[3];
	int n = byte_source_iov_slice(iov, 3, 2, 7, out);

	ck_assert_int_eq(n, 3);
	ck_assert_ptr_eq(out[0].iov_base, a + 2);
	ck_assert_uint_eq(out[0].iov_len, 1);
	ck_assert_ptr_eq(out[1].iov_base, b);
	ck_assert_uint_eq(out[1].iov_len, 5);
	ck_assert_ptr_eq(out[2].iov_base, c);
	ck_assert_uint_eq(out[2].iov_len, 1);
	n = byte_source_iov_slice(iov, 3, 7, 5, out);
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(out[0].iov_len, 1);
	ck_assert_uint_eq(out[1].iov_len, 4);
	for (int i = 0; i < 12; i++)
		src[i] = (uint8_t)(i + 1);
	byte_source_iov_fill(iov, 3, 0, src, 12);
	ck_assert_int_eq(a[0], 1);
	ck_assert_int_eq(b[4], 8);
	ck_assert_int_eq(c[3], 12);
}
END_TEST

/* A file with the first bytes given, opened by source_open with format detection. */
static int open_with_head(const void *head, size_t n, size_t size, const char *format,
			  struct byte_source **out, char *why)
{
	char path[] = "/tmp/test-source-XXXXXX";
	int fd = mkstemp(path), rc;
	struct source_options o = {.format = format, .timeout = 5};

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	ck_assert_int_eq(pwrite(fd, head, n, 0), (ssize_t)n);
	close(fd);
	rc = source_open(path, &o, out, why, 512);
	unlink(path);
	return rc;
}

START_TEST(detects_formats)
{
	struct builder b;
	struct byte_source *s;
	char why[512];

	build_mixed(&b);
	ck_assert_int_eq(open_with_head(b.file, b.file_len, b.file_len, NULL, &s, why), 0);
	ck_assert_str_eq(s->kind, "android-sparse");
	byte_source_close(s);
	/* format=raw reads the same file as bytes */
	ck_assert_int_eq(open_with_head(b.file, b.file_len, b.file_len, "raw", &s, why), 0);
	ck_assert_str_eq(s->kind, "file");
	ck_assert_uint_eq(s->size, b.file_len);
	byte_source_close(s);
	/* A qcow2 header that qemu-nbd rejects: refused with a reason naming the format. */
	ck_assert_int_ne(open_with_head("QFI\xfb\0\0\0\3", 8, 1 << 20, NULL, &s, why), 0);
	ck_assert_msg(strstr(why, "qcow2") != NULL, "%s", why);
	/* Plain bytes: raw. */
	ck_assert_int_eq(open_with_head("hello", 5, 1 << 20, NULL, &s, why), 0);
	ck_assert_str_eq(s->kind, "file");
	byte_source_close(s);
	ck_assert_int_eq(open_with_head("hello", 5, 1 << 20, "qcow9", &s, why), -EINVAL);
	ck_assert(strstr(why, "unknown format") != NULL);
	free_builder(&b);
}
END_TEST

/* ---- an NBD source under concurrent readers (TSan runs this) ---- */

#define NBD_BYTES (8u << 20)

struct reader {
	struct byte_source *src;
	const uint8_t *expect;
	unsigned seed;
	int mismatches, errors;
};

static void *read_randomly(void *arg)
{
	struct reader *r = arg;
	static _Thread_local uint8_t buf[300000];
	uint8_t a[5000], b[7000];

	for (int i = 0; i < 200; i++) {
		uint64_t len = 1 + rand_r(&r->seed) % sizeof(buf);
		uint64_t pos = rand_r(&r->seed) % (NBD_BYTES - len);
		struct iovec iov[2] = {{a, sizeof(a)}, {b, sizeof(b)}};

		if (byte_source_pread(r->src, buf, len, pos) != 0)
			r->errors++;
		else if (memcmp(buf, r->expect + pos, len) != 0)
			r->mismatches++;
		/* a scattered read goes through the connection's bounce buffer */
		pos = rand_r(&r->seed) % (NBD_BYTES - sizeof(a) - sizeof(b));
		if (byte_source_preadv(r->src, iov, 2, sizeof(a) + sizeof(b), pos) != 0)
			r->errors++;
		else if (memcmp(a, r->expect + pos, sizeof(a)) ||
			 memcmp(b, r->expect + pos + sizeof(a), sizeof(b)))
			r->mismatches++;
	}
	return NULL;
}

/* A qcow2 made by qemu-img, served by the qemu-nbd source_open starts, read by four threads at
 * once over its connections; every byte is checked against the raw file. */
START_TEST(nbd_concurrent_readers)
{
	char dir[] = "/tmp/test-nbd-XXXXXX", raw[64], qcow[64], cmd[256], why[512];
	struct source_options o = {.timeout = 30, .connections = 3};
	struct reader readers[4];
	pthread_t threads[4];
	struct byte_source *src;
	uint8_t *data = malloc(NBD_BYTES);
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(raw, sizeof(raw), "%s/raw", dir);
	snprintf(qcow, sizeof(qcow), "%s/img.qcow2", dir);
	for (size_t i = 0; i < NBD_BYTES; i++)
		data[i] = (uint8_t)(i * 13 + (i >> 9) + (i >> 17));
	f = fopen(raw, "wb");
	ck_assert_uint_eq(fwrite(data, 1, NBD_BYTES, f), NBD_BYTES);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "qemu-img convert -f raw -O qcow2 %s %s", raw, qcow);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_msg(source_open(qcow, &o, &src, why, sizeof(why)) == 0, "%s", why);
	ck_assert_str_eq(src->kind, "qcow2 via qemu-nbd");
	ck_assert_uint_eq(src->size, NBD_BYTES);
	for (int t = 0; t < 4; t++) {
		readers[t] = (struct reader){.src = src, .expect = data, .seed = 17u + (unsigned)t};
		ck_assert_int_eq(pthread_create(&threads[t], NULL, read_randomly, &readers[t]), 0);
	}
	for (int t = 0; t < 4; t++) {
		pthread_join(threads[t], NULL);
		ck_assert_int_eq(readers[t].errors, 0);
		ck_assert_int_eq(readers[t].mismatches, 0);
	}
	ck_assert_int_eq(byte_source_pread(src, data, 16, NBD_BYTES - 8), -EIO);
	byte_source_close(src);
	unlink(raw);
	unlink(qcow);
	rmdir(dir);
	free(data);
}
END_TEST

/* url: a URL's userinfo split out (percent-decoded), and the URL shown without its password. */
static void check_split(const char *url, const char *bare, const char *user, const char *pass,
			const char *shown)
{
	struct url_parts p;
	char *r = url_redacted(url);

	ck_assert_int_eq(url_split(url, &p), 0);
	ck_assert_str_eq(p.bare, bare);
	if (user)
		ck_assert_str_eq(p.user, user);
	else
		ck_assert_ptr_null(p.user);
	if (pass)
		ck_assert_str_eq(p.password, pass);
	else
		ck_assert_ptr_null(p.password);
	ck_assert_str_eq(r, shown);
	free(r);
	url_parts_free(&p);
}

START_TEST(url_credentials)
{
	check_split("http://h/x.img", "http://h/x.img", NULL, NULL, "http://h/x.img");
	check_split("https://bob@h:8080/x", "https://h:8080/x", "bob", NULL,
		    "https://bob@h:8080/x");
	check_split("http://a:Sekr%40t@h/x", "http://h/x", "a", "Sekr@t", "http://a@h/x");
	/* an unescaped '@' in the password: the last one ends the userinfo */
	check_split("http://a:p@ss@h/x", "http://h/x", "a", "p@ss", "http://a@h/x");
	/* '@' past the authority is the path's; an empty password is a password */
	check_split("http://h/a:b@c", "http://h/a:b@c", NULL, NULL, "http://h/a:b@c");
	check_split("http://a:@h", "http://h", "a", "", "http://a@h");
	/* a malformed escape stays as written; a path is not a URL */
	check_split("http://a:%4@h", "http://h", "a", "%4", "http://a@h");
	check_split("/tmp/a:b@c.img", "/tmp/a:b@c.img", NULL, NULL, "/tmp/a:b@c.img");
}
END_TEST

CHECK_MAIN("source", sparse_reads_equal_raw, sparse_scattered_read, sparse_corruptions_refused,
	   window_bounds, iov_slice_and_fill, detects_formats, nbd_concurrent_readers,
	   url_credentials)
