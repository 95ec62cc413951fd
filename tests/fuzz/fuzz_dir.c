// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: directory listing, lookup and the htree index (dir.c). Every directory
 * reachable from the root (breadth first, bounded) is listed, first directly and then through
 * a dircache small enough to evict; every listed name must be found again by lookup (or, in a
 * casefolded directory, an earlier name that folds alike), and a name that is not listed must
 * not be. Input: a whole image; the seeds include a casefolded, indexed directory.
 */
#include "dir.h"
#include "fuzz_image.h"

#include <ext2fs/ext2fs.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIRS 64

static void check_lookups(const struct dir_listing *l)
{
	for (size_t i = 0; i < l->count; i++) {
		const struct dir_entry *e = &l->entries[i];
		const struct dir_entry *found = dir_lookup(l, l->names + e->name_off, e->name_len);
		bool same =
		    found && found->name_len == e->name_len &&
		    memcmp(l->names + found->name_off, l->names + e->name_off, e->name_len) == 0;
		/* in a casefolded directory an earlier entry that folds alike answers first */
		if (!same && !(found && l->fold && found < e))
			fuzz_fail("dir %u: listed entry %zu not found by lookup", l->ino, i);
	}
	const struct dir_entry *probe = dir_lookup(l, "not-a-name", 10);
	if (probe &&
	    (probe->name_len != 10 || memcmp(l->names + probe->name_off, "not-a-name", 10)) &&
	    !(l->fold &&
	      ext2fs_casefold_cmp(l->fold, (const unsigned char *)l->names + probe->name_off,
				  probe->name_len, (const unsigned char *)"not-a-name", 10) == 0))
		fuzz_fail("dir %u: lookup returned an entry of another name", l->ino);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image *img = fuzz_image_open(data, size);
	uint32_t queue[MAX_DIRS];
	size_t head = 0, tail = 0;
	struct dircache dc;

	if (!img)
		return 0;
	dircache_init(&dc, 16 << 10);
	queue[tail++] = 2;
	while (head < tail) {
		uint32_t ino = queue[head++];
		struct dir_listing *l;
		if (dir_listing_build(img, ino, &l) != 0)
			continue;
		check_lookups(l);
		for (size_t i = 0; i < l->count && tail < MAX_DIRS; i++) {
			const struct dir_entry *e = &l->entries[i];
			bool dot = e->name_len <= 2 && l->names[e->name_off] == '.' &&
				   (e->name_len == 1 || l->names[e->name_off + 1] == '.');
			if (e->type == DT_DIR && !dot)
				queue[tail++] = e->ino;
		}
		dir_listing_free(l);
		if (dircache_get(&dc, img, ino, &l) == 0)
			dircache_put(&dc, l);
	}
	dircache_destroy(&dc);
	fuzz_image_close(img);
	return 0;
}
