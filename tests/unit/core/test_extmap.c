// SPDX-License-Identifier: MIT
#include "extmap.h"
#include "image.h"
#include "inode.h"
#include "overlay.h"
#include "check_main.h"
#include "testimg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(from_array_coalesces_and_finds)
{
	struct extent e[] = {{0, 100, 4, false}, {4, 104, 4, false}, {10, 50, 2, true}};
	struct extmap m;
	ck_assert_int_eq(extmap_from_array(e, 3, 4096, 1000, &m), 0);
	ck_assert_uint_eq(m.count, 2); /* the first two are physically contiguous */
	ck_assert_uint_eq(m.ext[0].len, 8);
	ck_assert(m.ext[1].unwritten);
	ck_assert_uint_eq(extmap_find(&m, 0), 0);
	ck_assert_uint_eq(extmap_find(&m, 7), 0);
	ck_assert_uint_eq(extmap_find(&m, 8), 1); /* in the hole before extent 1 */
	ck_assert_uint_eq(extmap_find(&m, 11), 1);
	ck_assert_uint_eq(extmap_find(&m, 12), 2);
	extmap_free(&m);
}
END_TEST

START_TEST(from_array_refuses_corrupt_maps)
{
	struct extent overlap[] = {{0, 10, 4, false}, {2, 20, 4, false}};
	struct extent unsorted[] = {{8, 10, 4, false}, {0, 20, 4, false}};
	struct extent beyond[] = {{0, 990, 20, false}};
	struct extent empty[] = {{0, 10, 0, false}};
	struct extmap m;
	ck_assert_int_eq(extmap_from_array(overlap, 2, 4096, 1000, &m), -EIO);
	ck_assert_int_eq(extmap_from_array(unsorted, 2, 4096, 1000, &m), -EIO);
	ck_assert_int_eq(extmap_from_array(beyond, 1, 4096, 1000, &m), -EIO);
	ck_assert_int_eq(extmap_from_array(empty, 1, 4096, 1000, &m), -EIO);
}
END_TEST

/* Builds the map of `path` and checks it covers `blocks` data blocks in at least `min_runs`. */
static void check_file_map(const char *img_path, struct image *img, const char *path, uint64_t size,
			   uint64_t blocks, size_t min_runs)
{
	struct extmap m;
	uint64_t total = 0;
	uint32_t ino = testimg_ino(img_path, path);
	ck_assert_uint_ne(ino, 0);
	uint64_t got_size = 0;
	ck_assert_int_eq(inode_file_map(img, ino, &got_size, &m, NULL), 0);
	ck_assert_uint_eq(got_size, size);
	for (size_t i = 0; i < m.count; i++)
		total += m.ext[i].len;
	ck_assert_uint_eq(total, blocks);
	ck_assert_uint_ge(m.count, min_runs);
	extmap_free(&m);
}

START_TEST(block_maps_with_indirect_blocks)
{
	/* 1 KiB blocks: 300 KiB needs the double-indirect map (12 + 256 direct/indirect). */
	char *path = testimg_build(
	    "-t ext2 -b 1024",
	    "head -c 307200 /dev/urandom > f; "
	    "truncate -s 2M sparse; echo x | dd of=sparse bs=1k seek=1500 status=none");
	struct image *img = testimg_open(path);
	check_file_map(path, img, "/f", 307200, 300, 1);
	check_file_map(path, img, "/sparse", 1500 * 1024 + 2, 1, 1); /* dd truncates */
	image_close(img);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(extent_tree_and_inline_data)
{
	char *path = testimg_build("-t ext4 -b 4096 -O inline_data -I 256",
				   "head -c 100000 /dev/urandom > f; echo tiny > small");
	struct image *img = testimg_open(path);
	struct extmap m;
	check_file_map(path, img, "/f", 100000, 25, 1);
	uint64_t size = 0;
	ck_assert_int_eq(inode_file_map(img, testimg_ino(path, "/small"), &size, &m, NULL), 0);
	ck_assert_uint_eq(size, 5);
	ck_assert_ptr_nonnull(m.inline_data);
	ck_assert_uint_eq(m.inline_len, 5);
	ck_assert_mem_eq(m.inline_data, "tiny\n", 5);
	extmap_free(&m);
	image_close(img);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(seek_data_and_hole)
{
	/* blocks 2-3 data, 4-5 unwritten, 6 data, hole to 10, 10-11 data; 1 KiB blocks */
	struct extent e[] = {
	    {2, 100, 2, false}, {4, 102, 2, true}, {6, 104, 1, false}, {10, 200, 2, false}};
	struct extmap m;
	uint64_t out, size = 11 * 1024 + 10; /* EOF inside block 11 */

	ck_assert_int_eq(extmap_from_array(e, 4, 1024, 1000, &m), 0);
	ck_assert_int_eq(extmap_seek(&m, size, 0, true, &out), 0);
	ck_assert_uint_eq(out, 2048);
	ck_assert_int_eq(extmap_seek(&m, size, 0, false, &out), 0);
	ck_assert_uint_eq(out, 0);
	ck_assert_int_eq(extmap_seek(&m, size, 2500, false, &out), 0);
	ck_assert_uint_eq(out, 4096); /* unwritten is a hole */
	ck_assert_int_eq(extmap_seek(&m, size, 4096, true, &out), 0);
	ck_assert_uint_eq(out, 6144);
	ck_assert_int_eq(extmap_seek(&m, size, 7000, true, &out), 0);
	ck_assert_uint_eq(out, 7000); /* inside data: itself */
	ck_assert_int_eq(extmap_seek(&m, size, 7200, true, &out), 0);
	ck_assert_uint_eq(out, 10240);
	ck_assert_int_eq(extmap_seek(&m, size, 10300, false, &out), 0);
	ck_assert_uint_eq(out, size); /* the hole at EOF */
	ck_assert_int_eq(extmap_seek(&m, size, size, true, &out), -ENXIO);
	ck_assert_int_eq(extmap_seek(&m, size, size, false, &out), -ENXIO);
	extmap_free(&m);
	/* nothing written at all */
	ck_assert_int_eq(extmap_from_array(e + 1, 1, 1024, 1000, &m), 0);
	ck_assert_int_eq(extmap_seek(&m, 8192, 0, true, &out), -ENXIO);
	ck_assert_int_eq(extmap_seek(&m, 8192, 10, false, &out), 0);
	ck_assert_uint_eq(out, 10);
	extmap_free(&m);
}
END_TEST

START_TEST(overlay_newest_copy_wins_and_applies_across_blocks)
{
	struct overlay o;
	uint8_t a[1024], b[1024], c[1024], buf[3000];
	struct iovec iov[2] = {{buf, 100}, {buf + 100, 2900}};

	memset(a, 'a', sizeof(a)), memset(b, 'b', sizeof(b)), memset(c, 'c', sizeof(c));
	overlay_init(&o, 1024);
	ck_assert_int_eq(overlay_put(&o, 5, a), 0);
	ck_assert_int_eq(overlay_put(&o, 3, c), 0);
	ck_assert_int_eq(overlay_put(&o, 5, b), 0); /* a later transaction's copy */
	overlay_seal(&o);
	ck_assert_uint_eq(o.count, 2);
	ck_assert_uint_eq(o.bytes, 2048);
	memset(buf, '.', sizeof(buf));
	overlay_apply(&o, 4 * 1024 + 1000, 1100, buf); /* tail of block 4, block 5, head of 6 */
	ck_assert_int_eq(buf[23], '.');
	ck_assert_int_eq(buf[24], 'b');
	ck_assert_int_eq(buf[24 + 1023], 'b');
	ck_assert_int_eq(buf[24 + 1024], '.');
	memset(buf, '.', sizeof(buf));
	overlay_apply_iov(&o, 3 * 1024 - 50, iov, 2); /* block 3 starts 50 bytes in */
	ck_assert_int_eq(buf[49], '.');
	ck_assert_int_eq(buf[50], 'c');
	ck_assert_int_eq(buf[150], 'c');
	ck_assert_int_eq(buf[50 + 1024], '.');
	ck_assert_int_eq(buf[50 + 2048], 'b');
	overlay_free(&o);
}
END_TEST

CHECK_MAIN("extmap", from_array_coalesces_and_finds, from_array_refuses_corrupt_maps,
	   block_maps_with_indirect_blocks, extent_tree_and_inline_data, seek_data_and_hole,
	   overlay_newest_copy_wins_and_applies_across_blocks)
