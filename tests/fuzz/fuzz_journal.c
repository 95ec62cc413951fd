// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the jbd2 journal parser and replay (journal.c, overlay.c, and the reopen of
 * libext2fs through the overlay). The input replaces the first blocks of the journal of a small
 * 1 KiB-block ext4 image made once by mkfs.ext4, whose superblock is marked as needing
 * recovery; the image is then opened as a mount would open it. Every input must give either a
 * refusal with a message or an open image — never a crash, a hang or unbounded memory.
 *
 * Seeds: tests/fuzz/corpus/journal (journals of images made by a kernel read-write mount).
 */
#include "extmap.h"
#include "fuzz_image.h"
#include "image.h"
#include "inode.h"

#include <ext2fs/ext2fs.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define IMAGE_BYTES (8u << 20)
#define SB_OFFSET   1024u

static uint8_t *base;	     /* the pristine image */
static uint64_t journal_pos; /* byte offset of journal block 0 */
static uint64_t journal_len; /* bytes */

/* Makes the base image and finds its journal (contiguous, as mkfs lays it out). */
static void make_base(void)
{
	char path[] = "/tmp/fuzz-journal-XXXXXX", cmd[256], why[256];
	struct image_open_options io = {.norecovery = true};
	struct image *img;
	struct extmap map;
	struct stat st;
	uint64_t size;
	int fd = mkstemp(path);

	if (fd < 0)
		fuzz_fail("setup: mkstemp");
	snprintf(cmd, sizeof(cmd),
		 "mkfs.ext4 -q -F -b 1024 -O metadata_csum,64bit -J size=1 %s 8M >/dev/null 2>&1",
		 path);
	if (system(cmd) != 0)
		fuzz_fail("setup: mkfs.ext4 failed");
	if (image_open(path, &io, &img, why, sizeof(why)) != 0)
		fuzz_fail("%s", why);
	if (inode_file_map(img, EXT2_JOURNAL_INO, &size, &map, NULL) != 0 || map.count == 0)
		fuzz_fail("setup: no journal extents");
	journal_pos = map.ext[0].pblk * (uint64_t)image_block_size(img);
	journal_len = (uint64_t)map.ext[0].len * image_block_size(img);
	extmap_free(&map);
	image_close(img);
	base = malloc(IMAGE_BYTES);
	if (!base || fstat(fd, &st) != 0 || st.st_size != IMAGE_BYTES ||
	    pread(fd, base, IMAGE_BYTES, 0) != IMAGE_BYTES)
		fuzz_fail("setup: cannot read the base image");
	close(fd);
	unlink(path);
	/* needs_recovery, with the superblock checksum redone so the parser is what is tested. */
	base[SB_OFFSET + 0x60] |= 0x4;
	{
		struct ext2_super_block *sb = (struct ext2_super_block *)(base + SB_OFFSET);
		sb->s_checksum = ext2fs_crc32c_le(~0u, (unsigned char *)sb,
						  offsetof(struct ext2_super_block, s_checksum));
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	make_base();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_open_options io = {0};
	struct image *img;
	char path[64], why[512];
	int fd = memfd_create("fuzz-journal", MFD_CLOEXEC);
	size_t n = size < journal_len ? size : (size_t)journal_len;

	if (fd < 0)
		return 0;
	if (pwrite(fd, base, IMAGE_BYTES, 0) != IMAGE_BYTES ||
	    pwrite(fd, data, n, (off_t)journal_pos) != (ssize_t)n) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (image_open(path, &io, &img, why, sizeof(why)) == 0) {
		struct stat st;
		inode_stat(img, INODE_ROOT, &st, NULL); /* the replayed metadata is readable */
		image_close(img);
	} else if (!why[0]) {
		fuzz_fail("image_open refused without saying why");
	}
	close(fd);
	return 0;
}
