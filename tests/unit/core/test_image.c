// SPDX-License-Identifier: MIT
/* The bottom layer: byte sources (file windows, memory) and the image opened over them. */
#include "byte_source.h"
#include "image.h"
#include "image_io.h"
#include "inode.h"
#include "statfs.h"
#include "check_main.h"
#include "testimg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char why[512];

/* The whole file at `path`, malloc'd. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc(*len);
	ck_assert_uint_eq(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

static char *temp_file(const void *data, size_t len)
{
	char *path = strdup("/tmp/ext4pager-image.XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

START_TEST(file_windows_are_bounded)
{
	uint8_t data[10000], buf[100];
	struct byte_source *src;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	char *path = temp_file(data, sizeof(data));
	ck_assert_int_eq(byte_source_open_file(path, 1000, 5000, false, &src, why, sizeof(why)), 0);
	ck_assert_uint_eq(src->size, 5000);
	ck_assert_int_eq(byte_source_pread(src, buf, 100, 0), 0);
	ck_assert_mem_eq(buf, data + 1000, 100);
	ck_assert_int_eq(byte_source_pread(src, buf, 100, 4900), 0);
	ck_assert_int_eq(byte_source_pread(src, buf, 100, 4901), -EIO); /* past the window */
	ck_assert_int_eq(byte_source_pread(src, buf, 1, UINT64_MAX), -EIO);
	byte_source_close(src);
	/* Without a limit, to the file's end. */
	ck_assert_int_eq(byte_source_open_file(path, 9000, 0, true, &src, why, sizeof(why)), 0);
	ck_assert_uint_eq(src->size, 1000);
	ck_assert_int_ge(byte_source_file_fd(src), 0);
	byte_source_close(src);
	ck_assert_int_eq(byte_source_open_file(path, 10000, 0, false, &src, why, sizeof(why)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "past the end"));
	unlink(path);
	free(path);
}
END_TEST

START_TEST(bad_files_are_refused_with_a_reason)
{
	struct byte_source *src;
	char *empty = temp_file("", 0);
	ck_assert_int_eq(byte_source_open_file(empty, 0, 0, false, &src, why, sizeof(why)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "empty"));
	ck_assert_int_eq(byte_source_open_file("/tmp", 0, 0, false, &src, why, sizeof(why)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "not a regular file"));
	ck_assert_int_eq(
	    byte_source_open_file("/nonexistent/x", 0, 0, false, &src, why, sizeof(why)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(why, "cannot open"));
	unlink(empty);
	free(empty);
}
END_TEST

START_TEST(reads_are_all_or_nothing)
{
	uint8_t data[64], a[10], b[20];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(100 + i);
	struct byte_source *m = byte_source_from_memory(data, sizeof(data));
	struct iovec iov[2] = {{a, sizeof(a)}, {b, sizeof(b)}};
	ck_assert_int_eq(byte_source_preadv(m, iov, 2, 30, 34), 0);
	ck_assert_uint_eq(a[0], 134);
	ck_assert_uint_eq(b[19], 163);
	ck_assert_int_eq(byte_source_preadv(m, iov, 2, 30, 35), -EIO);
	ck_assert_int_eq(byte_source_preadv(m, iov, 2, 31, 0), -EINVAL); /* len ≠ the iovecs */
	byte_source_close(m);
}
END_TEST

/* Opens the same filesystem from its file and from its bytes in memory: same answers. */
START_TEST(an_image_over_memory_reads_as_over_its_file)
{
	char *path = testimg_build("-t ext4 -b 4096", "echo hello > f; ln -s f link");
	size_t len;
	uint8_t *bytes = slurp(path, &len);
	struct image_open_options o = {0};
	struct image *fimg = testimg_open(path), *mimg;
	struct stat fs, ms;
	struct fs_totals ft, mt;
	char *t;
	size_t tlen;
	uint32_t ino = testimg_ino(path, "/link");
	ck_assert_int_eq(image_open_source(byte_source_from_memory(bytes, len), "memory", &o, &mimg,
					   why, sizeof(why)),
			 0);
	ck_assert_int_eq(inode_stat(fimg, ino, &fs, NULL), 0);
	ck_assert_int_eq(inode_stat(mimg, ino, &ms, NULL), 0);
	ck_assert_int_eq(memcmp(&fs, &ms, sizeof(fs)), 0);
	ck_assert_int_eq(inode_readlink(mimg, ino, &t, &tlen), 0);
	ck_assert_uint_eq(tlen, 1);
	free(t);
	ck_assert_int_eq(statfs_compute(fimg, &ft), 0);
	ck_assert_int_eq(statfs_compute(mimg, &mt), 0);
	ck_assert_int_eq(memcmp(&ft, &mt, sizeof(ft)), 0);
	/* The data view is the filesystem's bytes and no more. */
	struct byte_source *data = image_data(mimg);
	ck_assert_uint_eq(data->size, image_block_count(mimg) * image_block_size(mimg));
	uint8_t buf[16];
	ck_assert_int_eq(byte_source_pread(data, buf, 16, 1024 + 56), 0); /* s_magic */
	ck_assert_uint_eq(buf[0] | buf[1] << 8, 0xEF53);
	ck_assert_int_eq(byte_source_pread(data, buf, 16, data->size - 8), -EIO);
	image_close(mimg);
	image_close(fimg);
	free(bytes);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(a_short_source_is_refused_as_truncated)
{
	char *path = testimg_build("-t ext4 -b 4096", "echo hello > f");
	size_t len;
	uint8_t *bytes = slurp(path, &len);
	struct image_open_options o = {0};
	struct image *img;
	ck_assert_int_eq(image_open_source(byte_source_from_memory(bytes, len / 2), "half", &o,
					   &img, why, sizeof(why)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "truncated"));
	ck_assert_ptr_null(strchr(why, '\n'));
	free(bytes);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(an_image_at_an_offset)
{
	char *path = testimg_build("-t ext4 -b 1024", "echo hello > f");
	size_t len;
	uint8_t *bytes = slurp(path, &len), *shifted = calloc(1, len + (1u << 20));
	memcpy(shifted + (1u << 20), bytes, len);
	char *spath = temp_file(shifted, len + (1u << 20));
	struct image_open_options o = {.offset = 1u << 20};
	struct image *img;
	struct stat st;
	ck_assert_int_eq(image_open(spath, &o, &img, why, sizeof(why)), 0);
	ck_assert_int_eq(inode_stat(img, INODE_ROOT, &st, NULL), 0);
	ck_assert(S_ISDIR(st.st_mode));
	image_close(img);
	o.offset = 4096; /* no filesystem there */
	ck_assert_int_eq(image_open(spath, &o, &img, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "at offset 4096"));
	free(bytes);
	free(shifted);
	unlink(spath);
	free(spath);
	unlink(path);
	free(path);
}
END_TEST

/* A memory source that counts reads and records will_need hints, as a file source would take
 * them. */
struct hinted_source {
	struct byte_source base;
	struct byte_source *mem;
	int reads, hints;
	uint64_t hint_pos[8], hint_len[8];
};

static int hinted_preadv(struct byte_source *src, const struct iovec *iov, int iovcnt, size_t len,
			 uint64_t pos)
{
	struct hinted_source *h = (struct hinted_source *)src;
	h->reads++;
	return byte_source_preadv(h->mem, iov, iovcnt, len, pos);
}

static void hinted_will_need(struct byte_source *src, uint64_t pos, uint64_t len)
{
	struct hinted_source *h = (struct hinted_source *)src;
	if (h->hints < 8) {
		h->hint_pos[h->hints] = pos;
		h->hint_len[h->hints] = len;
	}
	h->hints++;
}

static void hinted_close(struct byte_source *src)
{
	byte_source_close(((struct hinted_source *)src)->mem);
}

static const struct byte_source_ops hinted_ops = {
    .preadv = hinted_preadv, .will_need = hinted_will_need, .close = hinted_close};

static io_channel open_channel(struct byte_source *src)
{
	struct image_io_window w = {.src = src};
	io_channel ch;
	image_io_prepare(&w);
	ck_assert_int_eq(image_io_manager->open("test", 0, &ch), 0);
	ck_assert_int_eq(io_channel_set_blksize(ch, 4096), 0);
	return ch;
}

static void read_block(io_channel ch, unsigned long long block)
{
	char buf[4096];
	ck_assert_int_eq(io_channel_read_blk64(ch, block, 1, buf), 0);
}

/* Over a source that can prefetch, metadata reads come in 16 KiB chunks; a scan (a miss right
 * after the previous chunk) hints the next 128 KiB once it reaches a window's end, a lone read
 * (a directory block) hints nothing. Other sources read 128 KiB chunks, without hints. */
START_TEST(metadata_chunks_and_readahead_hints)
{
	static uint8_t bytes[4 << 20];
	struct hinted_source h = {.base = {.ops = &hinted_ops, .size = sizeof(bytes)},
				  .mem = byte_source_from_memory(bytes, sizeof(bytes))};
	io_channel ch = open_channel(&h.base);
	read_block(ch, 24); /* 96 KiB: chunk 6, alone */
	ck_assert_int_eq(h.hints, 0);
	read_block(ch, 25); /* same chunk: no read */
	ck_assert_int_eq(h.reads, 1);
	read_block(ch, 28); /* 112 KiB: chunk 7, right after 6, ends the window */
	ck_assert_int_eq(h.reads, 2);
	ck_assert_int_eq(h.hints, 1);
	ck_assert_uint_eq(h.hint_pos[0], 128u << 10);
	ck_assert_uint_eq(h.hint_len[0], 128u << 10);
	read_block(ch, 32); /* chunk 8: sequential, mid-window */
	read_block(ch, 300); /* a lone block elsewhere */
	read_block(ch, 0);   /* chunk 0: nothing comes before it */
	ck_assert_int_eq(h.reads, 5);
	ck_assert_int_eq(h.hints, 1);
	io_channel_close(ch);
	byte_source_close(&h.base);

	struct byte_source *mem = byte_source_from_memory(bytes, sizeof(bytes));
	struct hinted_source plain = {.base = {.ops = &(const struct byte_source_ops){
						   .preadv = hinted_preadv, .close = hinted_close},
					       .size = sizeof(bytes)},
				      .mem = mem};
	ch = open_channel(&plain.base);
	for (unsigned long long b = 0; b < 32; b++) /* 128 KiB */
		read_block(ch, b);
	ck_assert_int_eq(plain.reads, 1);
	io_channel_close(ch);
	byte_source_close(&plain.base);
}
END_TEST

CHECK_MAIN("image", file_windows_are_bounded, bad_files_are_refused_with_a_reason,
	   reads_are_all_or_nothing, an_image_over_memory_reads_as_over_its_file,
	   a_short_source_is_refused_as_truncated, an_image_at_an_offset,
	   metadata_chunks_and_readahead_hints)
