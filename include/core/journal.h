// SPDX-License-Identifier: MIT
/*
 * journal — replays an ext3/ext4 (jbd2) internal journal into an in-memory overlay, as the
 * kernel's recovery does (fs/jbd2/recovery.c), without writing anything:
 *
 *   scan pass:   from s_start/s_sequence, follow descriptor, commit and revoke blocks with
 *                consecutive sequence numbers (the log may wrap) to the last complete
 *                transaction; checksums v1 (crc32 in the commit block), v2 and v3 (crc32c of
 *                descriptor, commit, revoke and data blocks) end the log where they fail, as
 *                the kernel does, except that async_commit tolerates a bad v1 commit checksum;
 *   revoke pass: collect revoked blocks with the newest transaction that revoked them;
 *   replay pass: every logged block not revoked by the same or a later transaction goes into
 *                the overlay (the newest copy wins), escaped blocks restored.
 *
 * The overlay holds at most one copy of each filesystem block, so its memory is bounded by the
 * journal's size. A journal that cannot be parsed is refused with a message; a log that ends in
 * garbage is replayed up to the last good transaction.
 */
#ifndef EXT4PAGER_JOURNAL_H
#define EXT4PAGER_JOURNAL_H

#include "extmap.h"
#include "overlay.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Where the journal lives: the journal inode's extents (journal block → filesystem block) and
 * a way to read one filesystem block. journal.c knows nothing else of the image, so a test can
 * replay a journal it wrote into a buffer.
 */
struct journal_device {
	const struct extmap *map; /* the journal inode's blocks; borrowed */
	unsigned block_size;
	uint64_t fs_blocks; /* logged blocks at or past this are skipped as corrupt */
	/* Reads filesystem block `block` (block_size bytes) into `buf`: 0 or a negative errno. */
	int (*read_block)(void *ctx, uint64_t block, void *buf);
	void *ctx;
};

struct journal_replay_stats {
	uint32_t transactions; /* complete transactions found */
	uint64_t blocks_logged;
	uint64_t blocks_revoked;  /* logged copies skipped because revoked */
	uint64_t blocks_bad_csum; /* data blocks skipped on a checksum mismatch */
};

/*
 * Replays the journal on `dev` into `ov` (initialised and sealed here). Returns 0, or a
 * negative errno with a one-line reason in `why`; `ov` is then empty.
 */
int journal_replay(const struct journal_device *dev, struct overlay *ov,
		   struct journal_replay_stats *st, char *why, size_t why_len);

#endif
