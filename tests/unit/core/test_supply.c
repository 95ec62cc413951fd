// SPDX-License-Identifier: MIT
/* supply alone: a VMO, a memory byte source and a page pool are all it needs. */
#include "supply.h"
#include "check_main.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BS	  1024u
#define SRC_BYTES (1u << 20)

static struct vmo_cache cache;
static uint8_t *backing;
static struct byte_source *src;
static size_t ps;

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 31 + (i >> 10) + 7);
}

static void setup(void)
{
	ck_assert_int_eq(vmo_cache_init(&cache, 64u << 20), 0);
	ps = cache.pool.page_size;
	backing = malloc(SRC_BYTES);
	for (size_t i = 0; i < SRC_BYTES; i++)
		backing[i] = pattern(i);
	src = byte_source_from_memory(backing, SRC_BYTES);
}

static void teardown(void)
{
	byte_source_close(src);
	free(backing);
	vmo_cache_destroy(&cache);
}

static struct vmo *vmo_of(const struct extent *e, size_t n, uint64_t size)
{
	struct extmap map;
	ck_assert_int_eq(extmap_from_array(e, n, BS, 1u << 30, &map), 0);
	struct vmo *v = vmo_create(&cache, size, &map);
	ck_assert_ptr_nonnull(v);
	return v;
}

/* Copies file bytes [off, off+len) out of the VMO's present pages. */
static void vmo_bytes(struct vmo *v, uint64_t off, size_t len, uint8_t *out)
{
	struct vmo_view view;
	size_t at = 0;
	mutex_lock(&v->lock);
	ck_assert_int_eq(vmo_pin_locked(v, off / ps, (off + len - 1) / ps, &view), 0);
	ck_assert_uint_eq(vmo_first_missing_locked(v, off / ps, (off + len - 1) / ps), UINT64_MAX);
	vmo_view_fill_locked(v, off, len, &view);
	for (int i = 0; i < view.iovcnt; i++) {
		memcpy(out + at, view.iov[i].iov_base, view.iov[i].iov_len);
		at += view.iov[i].iov_len;
	}
	vmo_unpin_locked(v, &view);
	mutex_unlock(&v->lock);
}

static int run(struct vmo *v, uint64_t first, uint64_t end, const struct supply_transform *tf,
	       struct supply_result *res)
{
	struct supply_buffer *b = supply_buffer_create(&cache.pool);
	struct supply_job job = {.vmo = v, .src = src, .transform = tf};
	ck_assert_ptr_nonnull(b);
	int rc = supply_range(b, &job, first, end, res);
	supply_buffer_destroy(b);
	return rc;
}

START_TEST(extents_holes_and_unwritten)
{
	/* 24 KiB file: blocks 0-3 data at backing block 10, 4-7 a hole, 8-11 unwritten, 12-23
	 * data at backing block 100. */
	struct extent e[] = {{0, 10, 4, false}, {8, 50, 4, true}, {12, 100, 12, false}};
	uint64_t size = 24 * BS;
	struct vmo *v = vmo_of(e, 3, size);
	struct supply_result res;
	uint8_t *got = malloc(size);
	ck_assert_int_eq(run(v, 0, size / ps, NULL, &res), 0);
	ck_assert_uint_eq(res.next_page, size / ps);
	vmo_bytes(v, 0, size, got);
	for (size_t i = 0; i < size; i++) {
		size_t blk = i / BS, off = i % BS;
		uint8_t want = blk < 4	  ? pattern((10 + blk) * BS + off)
			       : blk < 12 ? 0
					  : pattern((100 + blk - 12) * BS + off);
		ck_assert_uint_eq(got[i], want);
	}
	ck_assert_uint_eq(res.bytes_read, 16 * BS);
	ck_assert_uint_eq(res.pages_supplied + res.zero_pages, size / ps);
	ck_assert_uint_ge(res.zero_pages, 1); /* the hole and the unwritten run: whole pages */
	free(got);
	vmo_put(v);
}
END_TEST

START_TEST(tail_past_eof_is_zero)
{
	struct extent e = {0, 0, 8, false};
	struct vmo *v = vmo_of(&e, 1, 100);
	struct supply_result res;
	uint8_t page[65536];
	ck_assert_int_eq(run(v, 0, 1, NULL, &res), 0);
	ck_assert_uint_eq(res.bytes_read, 100);
	vmo_bytes(v, 0, ps, page);
	for (size_t i = 0; i < ps; i++)
		ck_assert_uint_eq(page[i], i < 100 ? pattern(i) : 0);
	vmo_put(v);
}
END_TEST

START_TEST(inline_data_comes_from_the_map)
{
	struct extmap map = {.block_size = BS};
	struct supply_result res;
	uint8_t page[65536];
	map.inline_data = malloc(6);
	memcpy(map.inline_data, "inline", 6);
	map.inline_len = 6;
	struct vmo *v = vmo_create(&cache, 6, &map);
	ck_assert_int_eq(run(v, 0, 1, NULL, &res), 0);
	ck_assert_uint_eq(res.bytes_read, 0);
	vmo_bytes(v, 0, ps, page);
	ck_assert_mem_eq(page, "inline", 6);
	for (size_t i = 6; i < ps; i++)
		ck_assert_uint_eq(page[i], 0);
	vmo_put(v);
}
END_TEST

START_TEST(an_unreadable_page_fails_it_and_what_follows_only)
{
	/* Page 2 (of 8) points past the end of the source: pages 0-1 are supplied, the range
	 * stops at page 2 with -EIO, and nothing after it is present. */
	uint64_t bpp = ps / BS, size = 8 * ps;
	struct extent e[] = {{0, 0, (uint32_t)(2 * bpp), false},
			     {2 * bpp, SRC_BYTES / BS + 5, (uint32_t)bpp, false},
			     {3 * bpp, 3 * bpp, (uint32_t)(5 * bpp), false}};
	struct vmo *v = vmo_of(e, 3, size);
	struct supply_result res;
	ck_assert_int_eq(run(v, 0, 8, NULL, &res), -EIO);
	ck_assert_uint_eq(res.next_page, 2);
	ck_assert_uint_eq(vmo_present_pages(v), 2);
	vmo_put(v);
}
END_TEST

static int xor_pages(void *ctx, uint64_t file_page, void *page, size_t page_size)
{
	int *calls = ctx;
	(*calls)++;
	for (size_t i = 0; i < page_size; i++)
		((uint8_t *)page)[i] ^= (uint8_t)(0x5a + file_page);
	return 0;
}

static int refuse_page_3(void *ctx, uint64_t file_page, void *page, size_t page_size)
{
	(void)ctx, (void)page, (void)page_size;
	return file_page == 3 ? -ENOKEY : 0;
}

START_TEST(the_transform_sees_data_pages_only)
{
	/* Page 0 data, page 1 a hole, page 2 data. */
	uint64_t bpp = ps / BS;
	struct extent e[] = {{0, 0, (uint32_t)bpp, false},
			     {2 * bpp, 2 * bpp, (uint32_t)bpp, false}};
	struct vmo *v = vmo_of(e, 2, 3 * ps);
	int calls = 0;
	struct supply_transform tf = {.apply = xor_pages, .ctx = &calls};
	struct supply_result res;
	uint8_t *got = malloc(3 * ps);
	ck_assert_int_eq(run(v, 0, 3, &tf, &res), 0);
	ck_assert_int_eq(calls, 2);
	vmo_bytes(v, 0, 3 * ps, got);
	for (size_t i = 0; i < 3 * ps; i++) {
		size_t page = i / ps;
		uint8_t want = page == 1 ? 0 : (uint8_t)(pattern(i) ^ (0x5a + page));
		ck_assert_uint_eq(got[i], want);
	}
	free(got);
	vmo_put(v);
}
END_TEST

START_TEST(a_transform_failure_stops_the_range_at_its_page)
{
	uint64_t bpp = ps / BS;
	struct extent e = {0, 0, (uint32_t)(6 * bpp), false};
	struct vmo *v = vmo_of(&e, 1, 6 * ps);
	struct supply_transform tf = {.apply = refuse_page_3};
	struct supply_result res;
	ck_assert_int_eq(run(v, 0, 6, &tf, &res), -ENOKEY);
	ck_assert_uint_eq(res.next_page, 3);
	ck_assert_uint_eq(vmo_present_pages(v), 3);
	vmo_put(v);
}
END_TEST

START_TEST(pages_already_present_keep_their_contents)
{
	struct extent e = {0, 0, 64, false};
	struct vmo *v = vmo_of(&e, 1, 64 * BS);
	struct supply_result res;
	void *zero[1] = {NULL};
	uint8_t page[65536];
	ck_assert_int_eq(vmo_supply(v, 0, zero, 1), 0); /* page 0: zeros, supplied first */
	ck_assert_int_eq(run(v, 0, (64 * BS) / ps, NULL, &res), 0);
	vmo_bytes(v, 0, ps, page);
	for (size_t i = 0; i < ps; i++)
		ck_assert_uint_eq(page[i], 0);
	vmo_put(v);
}
END_TEST

CHECK_MAIN_FIXTURE("supply", setup, teardown, extents_holes_and_unwritten, tail_past_eof_is_zero,
		   inline_data_comes_from_the_map,
		   an_unreadable_page_fails_it_and_what_follows_only,
		   the_transform_sees_data_pages_only,
		   a_transform_failure_stops_the_range_at_its_page,
		   pages_already_present_keep_their_contents)
