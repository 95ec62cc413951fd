#include "extmap.h"
#include "image.h"
#include "check_main.h"
#include "testimg.h"

#include <errno.h>
#include <stdlib.h>
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
	image_lock(img);
	ck_assert_int_eq(extmap_build(img, ino, size, &m), 0);
	image_unlock(img);
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
	check_file_map(path, img, "/sparse", 2 << 20, 1, 1);
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
	image_lock(img);
	ck_assert_int_eq(extmap_build(img, testimg_ino(path, "/small"), 5, &m), 0);
	image_unlock(img);
	ck_assert_ptr_nonnull(m.inline_data);
	ck_assert_uint_eq(m.inline_len, 5);
	ck_assert_mem_eq(m.inline_data, "tiny\n", 5);
	extmap_free(&m);
	image_close(img);
	unlink(path);
	free(path);
}
END_TEST

CHECK_MAIN("extmap", from_array_coalesces_and_finds, from_array_refuses_corrupt_maps,
	   block_maps_with_indirect_blocks, extent_tree_and_inline_data)
