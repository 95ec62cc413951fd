// SPDX-License-Identifier: MIT
#include "journal.h"

#include <ext2fs/ext2fs.h> /* crc32c and crc32_be only */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JBD2_MAGIC 0xC03B3998u
enum { BT_DESCRIPTOR = 1, BT_COMMIT = 2, BT_SB_V1 = 3, BT_SB_V2 = 4, BT_REVOKE = 5 };
#define COMPAT_CHECKSUM	      0x1u
#define INCOMPAT_REVOKE	      0x1u
#define INCOMPAT_64BIT	      0x2u
#define INCOMPAT_ASYNC_COMMIT 0x4u
#define INCOMPAT_CSUM_V2      0x8u
#define INCOMPAT_CSUM_V3      0x10u
#define INCOMPAT_FAST_COMMIT  0x20u
#define KNOWN_INCOMPAT                                                                             \
	(INCOMPAT_REVOKE | INCOMPAT_64BIT | INCOMPAT_ASYNC_COMMIT | INCOMPAT_CSUM_V2 |             \
	 INCOMPAT_CSUM_V3)
#define TAG_ESCAPE	  0x1u
#define TAG_SAME_UUID	  0x2u
#define TAG_LAST	  0x8u
#define CRC32_CHKSUM	  1
#define CRC32_CHKSUM_SIZE 4
/* Offsets in the journal superblock (all fields big-endian). */
#define SB_BLOCKSIZE	    12
#define SB_MAXLEN	    16
#define SB_FIRST	    20
#define SB_SEQUENCE	    24
#define SB_START	    28
#define SB_FEATURE_COMPAT   36
#define SB_FEATURE_INCOMPAT 40
#define SB_UUID		    48
#define SB_NR_USERS	    64
/* Commit block: h_chksum_type at 12, h_chksum_size at 13, h_chksum[0] at 16. */
#define COMMIT_CSUM_TYPE 12
#define COMMIT_CSUM_SIZE 13
#define COMMIT_CSUM	 16
/* Revoke block: r_count (bytes used, header included) at 12, records from 16. */
#define REVOKE_COUNT   12
#define REVOKE_RECORDS 16

/* Bounds the work on a hostile journal: no real log has more transactions in it. */
#define MAX_TRANSACTIONS (1u << 24)

struct journal {
	const struct journal_device *dev;
	unsigned bs;
	uint32_t maxlen, first, start, sequence, compat, incompat;
	uint32_t csum_seed; /* crc32c of the journal UUID, for v2/v3 */
	uint8_t *buf;	    /* one block */
	uint8_t *data;	    /* one block */
	/* Revoke table: block → newest revoking transaction (open addressing). */
	uint64_t *revoke_block;
	uint32_t *revoke_seq;
	size_t revoke_cap, revoke_count;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool csum_v23(const struct journal *j)
{
	return j->incompat & (INCOMPAT_CSUM_V2 | INCOMPAT_CSUM_V3);
}

static uint32_t crc32c(uint32_t seed, const void *p, size_t len)
{
	return ext2fs_crc32c_le(seed, p, len);
}

/* Reads journal block `jblk` (a logical block of the journal inode) into `buf`. */
static int read_jblock(struct journal *j, uint32_t jblk, uint8_t *buf)
{
	const struct extmap *map = j->dev->map;
	size_t i = extmap_find(map, jblk);
	const struct extent *e = i < map->count ? &map->ext[i] : NULL;

	if (!e || e->lblk > jblk || e->unwritten)
		return -EIO; /* a journal with holes */
	return j->dev->read_block(j->dev->ctx, e->pblk + (jblk - e->lblk), buf);
}

static uint32_t wrap(const struct journal *j, uint32_t blk)
{
	return blk >= j->maxlen ? blk - (j->maxlen - j->first) : blk;
}

static size_t tag_bytes(const struct journal *j)
{
	size_t sz;

	if (j->incompat & INCOMPAT_CSUM_V3)
		return 16;
	sz = 12 + ((j->incompat & INCOMPAT_CSUM_V2) ? 2 : 0);
	return (j->incompat & INCOMPAT_64BIT) ? sz : sz - 4;
}

/* Verifies the crc32c tail of a descriptor or revoke block (v2/v3); true without them. */
static bool block_tail_ok(const struct journal *j, uint8_t *b)
{
	uint32_t want, got;

	if (!csum_v23(j))
		return true;
	want = be32(b + j->bs - 4);
	memset(b + j->bs - 4, 0, 4);
	got = crc32c(j->csum_seed, b, j->bs);
	b[j->bs - 4] = (uint8_t)(want >> 24), b[j->bs - 3] = (uint8_t)(want >> 16);
	b[j->bs - 2] = (uint8_t)(want >> 8), b[j->bs - 1] = (uint8_t)want;
	return want == got;
}

static bool commit_ok(const struct journal *j, uint8_t *b)
{
	uint32_t want, got;

	if (!csum_v23(j))
		return true;
	want = be32(b + COMMIT_CSUM);
	memset(b + COMMIT_CSUM, 0, 4);
	got = crc32c(j->csum_seed, b, j->bs);
	b[COMMIT_CSUM] = (uint8_t)(want >> 24), b[COMMIT_CSUM + 1] = (uint8_t)(want >> 16);
	b[COMMIT_CSUM + 2] = (uint8_t)(want >> 8), b[COMMIT_CSUM + 3] = (uint8_t)want;
	return want == got;
}

/* One tag of a descriptor block, decoded. */
struct tag {
	uint64_t block;
	uint32_t flags, csum;
};

/* Decodes the tags of descriptor `b`, calling `fn` for each; returns the tag count, or -1 for a
 * malformed descriptor. */
static long for_each_tag(const struct journal *j, const uint8_t *b,
			 int (*fn)(struct journal *, const struct tag *, uint32_t, void *),
			 struct journal *jj, uint32_t seq, void *arg)
{
	size_t tb = tag_bytes(j), end = j->bs - (csum_v23(j) ? 4 : 0), off = 12;
	long n = 0;

	while (off + tb <= end) {
		struct tag t;
		const uint8_t *p = b + off;
		if (j->incompat & INCOMPAT_CSUM_V3) {
			t.flags = be32(p + 4);
			t.block =
			    be32(p) |
			    ((j->incompat & INCOMPAT_64BIT) ? (uint64_t)be32(p + 8) << 32 : 0);
			t.csum = be32(p + 12);
		} else {
			t.flags = (uint32_t)p[6] << 8 | p[7];
			t.block =
			    be32(p) |
			    ((j->incompat & INCOMPAT_64BIT) ? (uint64_t)be32(p + 8) << 32 : 0);
			t.csum = (uint32_t)p[4] << 8 | p[5];
		}
		off += tb;
		if (!(t.flags & TAG_SAME_UUID))
			off += 16;
		n++;
		if (fn && fn(jj, &t, seq, arg) < 0)
			return -1;
		if (t.flags & TAG_LAST)
			return n;
		if (off > end)
			return -1;
	}
	return n > 0 ? n : -1;
}

/* The scan pass: the sequence number one past the last complete transaction. */
static int scan(struct journal *j, uint32_t *end_seq, struct journal_replay_stats *st)
{
	uint32_t blk = j->start, seq = j->sequence, crc = ~0u;
	bool async = j->incompat & INCOMPAT_ASYNC_COMMIT;

	for (uint32_t steps = 0; steps < j->maxlen * 2u && seq - j->sequence < MAX_TRANSACTIONS;
	     steps++) {
		long tags;
		if (read_jblock(j, blk, j->buf) != 0 || be32(j->buf) != JBD2_MAGIC ||
		    be32(j->buf + 8) != seq)
			break;
		switch (be32(j->buf + 4)) {
		case BT_DESCRIPTOR:
			if (!block_tail_ok(j, j->buf))
				goto done;
			tags = for_each_tag(j, j->buf, NULL, NULL, seq, NULL);
			if (tags < 0)
				goto done;
			if (j->compat & COMPAT_CHECKSUM) {
				crc = ext2fs_crc32_be(crc, j->buf, j->bs);
				for (long i = 1; i <= tags; i++) {
					if (read_jblock(j, wrap(j, blk + (uint32_t)i), j->data) !=
					    0)
						goto done;
					crc = ext2fs_crc32_be(crc, j->data, j->bs);
				}
			}
			blk = wrap(j, blk + 1 + (uint32_t)tags);
			break;
		case BT_COMMIT:
			if (!commit_ok(j, j->buf))
				goto done;
			if ((j->compat & COMPAT_CHECKSUM) &&
			    j->buf[COMMIT_CSUM_TYPE] == CRC32_CHKSUM &&
			    j->buf[COMMIT_CSUM_SIZE] == CRC32_CHKSUM_SIZE &&
			    be32(j->buf + COMMIT_CSUM) != crc && !async)
				goto done;
			crc = ~0u;
			seq++;
			st->transactions++;
			blk = wrap(j, blk + 1);
			break;
		case BT_REVOKE:
			if (!block_tail_ok(j, j->buf))
				goto done;
			blk = wrap(j, blk + 1);
			break;
		default:
			goto done;
		}
	}
done:
	*end_seq = seq;
	return 0;
}

static size_t revoke_slot(const struct journal *j, uint64_t block)
{
	size_t h = (size_t)(block * 0x9E3779B97F4A7C15ull) & (j->revoke_cap - 1);

	while (j->revoke_block[h] != UINT64_MAX && j->revoke_block[h] != block)
		h = (h + 1) & (j->revoke_cap - 1);
	return h;
}

static int revoke_grow(struct journal *j)
{
	size_t old_cap = j->revoke_cap, cap = old_cap ? old_cap * 2 : 1024;
	uint64_t *ob = j->revoke_block;
	uint32_t *os = j->revoke_seq;

	j->revoke_block = malloc(cap * sizeof(uint64_t));
	j->revoke_seq = malloc(cap * sizeof(uint32_t));
	if (!j->revoke_block || !j->revoke_seq) {
		free(j->revoke_block), free(j->revoke_seq);
		j->revoke_block = ob, j->revoke_seq = os;
		return -ENOMEM;
	}
	memset(j->revoke_block, 0xff, cap * sizeof(uint64_t));
	j->revoke_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (ob[i] != UINT64_MAX) {
			size_t s = revoke_slot(j, ob[i]);
			j->revoke_block[s] = ob[i];
			j->revoke_seq[s] = os[i];
		}
	free(ob), free(os);
	return 0;
}

/* tid_gt of the kernel: sequence numbers wrap. */
static bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static int set_revoke(struct journal *j, uint64_t block, uint32_t seq)
{
	size_t s;

	if ((j->revoke_count + 1) * 2 > j->revoke_cap && revoke_grow(j) != 0)
		return -ENOMEM;
	s = revoke_slot(j, block);
	if (j->revoke_block[s] == UINT64_MAX) {
		j->revoke_block[s] = block;
		j->revoke_seq[s] = seq;
		j->revoke_count++;
	} else if (seq_after(seq, j->revoke_seq[s])) {
		j->revoke_seq[s] = seq;
	}
	return 0;
}

static bool is_revoked(const struct journal *j, uint64_t block, uint32_t seq)
{
	size_t s;

	if (!j->revoke_cap)
		return false;
	s = revoke_slot(j, block);
	return j->revoke_block[s] != UINT64_MAX && !seq_after(seq, j->revoke_seq[s]);
}

static int collect_revokes(struct journal *j, uint32_t seq)
{
	size_t rec = (j->incompat & INCOMPAT_64BIT) ? 8 : 4;
	size_t used = be32(j->buf + REVOKE_COUNT), limit = j->bs - (csum_v23(j) ? 4 : 0);

	if (used > limit)
		return -EIO;
	for (size_t off = REVOKE_RECORDS; off + rec <= used; off += rec) {
		uint64_t block = rec == 8
				     ? (uint64_t)be32(j->buf + off) << 32 | be32(j->buf + off + 4)
				     : be32(j->buf + off);
		if (set_revoke(j, block, seq) != 0)
			return -ENOMEM;
	}
	return 0;
}

struct replay_ctx {
	struct overlay *ov;
	struct journal_replay_stats *st;
	uint32_t next; /* journal block of the next tag's data */
	uint64_t fs_blocks;
};

static bool data_csum_ok(const struct journal *j, const struct tag *t, uint32_t seq)
{
	uint8_t s[4] = {(uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8),
			(uint8_t)seq};
	uint32_t c;

	if (!csum_v23(j))
		return true;
	c = crc32c(j->csum_seed, s, 4);
	c = crc32c(c, j->data, j->bs);
	return (j->incompat & INCOMPAT_CSUM_V3) ? t->csum == c : t->csum == (c & 0xffff);
}

static int replay_tag(struct journal *j, const struct tag *t, uint32_t seq, void *arg)
{
	struct replay_ctx *r = arg;
	uint32_t at = r->next;

	r->next = wrap(j, r->next + 1);
	r->st->blocks_logged++;
	if (is_revoked(j, t->block, seq)) {
		r->st->blocks_revoked++;
		return 0;
	}
	if (read_jblock(j, at, j->data) != 0)
		return -1;
	if (t->block >= r->fs_blocks || !data_csum_ok(j, t, seq)) {
		r->st->blocks_bad_csum++; /* the kernel skips such a block and goes on */
		return 0;
	}
	if (t->flags & TAG_ESCAPE) {
		j->data[0] = 0xC0, j->data[1] = 0x3B, j->data[2] = 0x39, j->data[3] = 0x98;
	}
	return overlay_put(r->ov, t->block, j->data) == 0 ? 0 : -1;
}

/* The revoke pass (replay == false) or the replay pass, over [start, end_seq). */
static int walk(struct journal *j, uint32_t end_seq, bool replay, struct replay_ctx *r)
{
	uint32_t blk = j->start, seq = j->sequence;

	while (seq != end_seq) {
		long tags;
		if (read_jblock(j, blk, j->buf) != 0 || be32(j->buf) != JBD2_MAGIC ||
		    be32(j->buf + 8) != seq)
			return -EIO; /* the scan pass read the same blocks */
		switch (be32(j->buf + 4)) {
		case BT_DESCRIPTOR:
			r->next = wrap(j, blk + 1);
			tags = for_each_tag(j, j->buf, replay ? replay_tag : NULL, j, seq, r);
			if (tags < 0)
				return -EIO;
			blk = wrap(j, blk + 1 + (uint32_t)tags);
			break;
		case BT_COMMIT:
			seq++;
			blk = wrap(j, blk + 1);
			break;
		case BT_REVOKE:
			if (!replay &&
			    collect_revokes(
				j, seq)) /* whatever the REVOKE feature says, as the kernel */
				return -EIO;
			blk = wrap(j, blk + 1);
			break;
		default:
			return -EIO;
		}
	}
	return 0;
}

/* How many journal blocks the journal inode maps (a log longer than that is corrupt). */
static uint64_t mapped_blocks(const struct journal *j)
{
	const struct extmap *map = j->dev->map;
	const struct extent *last = map->count ? &map->ext[map->count - 1] : NULL;

	return last ? last->lblk + last->len : 0;
}

static int read_superblock(struct journal *j, char *why, size_t why_len)
{
	uint32_t type;

	if (read_jblock(j, 0, j->buf) != 0) {
		snprintf(why, why_len, "cannot read the journal superblock");
		return -EIO;
	}
	type = be32(j->buf + 4);
	if (be32(j->buf) != JBD2_MAGIC || (type != BT_SB_V1 && type != BT_SB_V2)) {
		snprintf(why, why_len, "the journal superblock is corrupt (bad magic or type)");
		return -EINVAL;
	}
	j->maxlen = be32(j->buf + SB_MAXLEN);
	j->first = be32(j->buf + SB_FIRST);
	j->sequence = be32(j->buf + SB_SEQUENCE);
	j->start = be32(j->buf + SB_START);
	if (type == BT_SB_V2) {
		j->compat = be32(j->buf + SB_FEATURE_COMPAT);
		j->incompat = be32(j->buf + SB_FEATURE_INCOMPAT);
		if (be32(j->buf + SB_NR_USERS) > 1) {
			snprintf(why, why_len, "the journal is shared with other filesystems");
			return -EINVAL;
		}
	}
	if (be32(j->buf + SB_BLOCKSIZE) != j->bs || j->first == 0 || j->first >= j->maxlen ||
	    j->maxlen > mapped_blocks(j) ||
	    (j->start && (j->start < j->first || j->start >= j->maxlen))) {
		snprintf(why, why_len, "the journal superblock is corrupt (geometry)");
		return -EINVAL;
	}
	if (j->incompat & ~KNOWN_INCOMPAT) {
		snprintf(why, why_len,
			 "the journal uses features ext4pager cannot replay (0x%x%s); "
			 "-o norecovery mounts the last checkpointed state",
			 j->incompat & ~KNOWN_INCOMPAT,
			 (j->incompat & INCOMPAT_FAST_COMMIT) ? ", fast commit" : "");
		return -EINVAL;
	}
	if (csum_v23(j))
		j->csum_seed = crc32c(~0u, j->buf + SB_UUID, 16);
	return 0;
}

int journal_replay(const struct journal_device *dev, struct overlay *ov,
		   struct journal_replay_stats *st, char *why, size_t why_len)
{
	struct journal j = {.dev = dev, .bs = dev->block_size};
	struct replay_ctx r = {.ov = ov, .st = st, .fs_blocks = dev->fs_blocks};
	uint32_t end_seq;
	int rc;

	memset(st, 0, sizeof(*st));
	overlay_init(ov, dev->block_size);
	j.buf = malloc(j.bs);
	j.data = malloc(j.bs);
	rc = (j.buf && j.data) ? 0 : -ENOMEM;
	if (rc)
		snprintf(why, why_len, "out of memory");
	if (rc == 0)
		rc = read_superblock(&j, why, why_len);
	if (rc == 0 && j.start != 0) { /* s_start == 0: the journal is clean */
		scan(&j, &end_seq, st);
		rc = walk(&j, end_seq, false, &r);
		if (rc == 0)
			rc = walk(&j, end_seq, true, &r);
		if (rc)
			snprintf(why, why_len, "the journal changed or broke while replaying it");
	}
	overlay_seal(ov);
	free(j.buf);
	free(j.data);
	free(j.revoke_block);
	free(j.revoke_seq);
	if (rc)
		overlay_free(ov);
	return rc;
}
