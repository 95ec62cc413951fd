// SPDX-License-Identifier: MIT
/* The journal replay from bytes: a jbd2 log written here block by block (jbd2's on-disk format,
 * include/linux/jbd2.h) into a memory "filesystem", replayed through journal_device, and the
 * overlay checked block by block. No image, no libext2fs open. */
#include "journal.h"
#include "check_main.h"

#include <ext2fs/ext2fs.h> /* crc32c, crc32_be */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BS	 1024u
#define FS_BLKS	 2048u
#define JSTART	 1024u /* the journal's first filesystem block */
#define MAGIC	 0xC03B3998u
#define DESC	 1
#define COMMIT	 2
#define SB_V2	 4
#define REVOKE	 5
#define F_CSUM1	 0x1u /* compat: crc32 in the commit block */
#define F_REVOKE 0x1u
#define F_64BIT	 0x2u
#define F_ASYNC	 0x4u
#define F_CSUM2	 0x8u
#define F_CSUM3	 0x10u
#define T_ESCAPE 0x1u
#define T_SAME	 0x2u
#define T_LAST	 0x8u

static uint8_t fs[FS_BLKS * BS];

/* The log being written. */
struct log {
	uint32_t maxlen, first, compat, incompat;
	uint8_t uuid[16];
	uint32_t seed;
	uint32_t pos;  /* next journal block */
	uint32_t crc1; /* running v1 checksum of the open transaction */
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static uint8_t *jblock(uint32_t n)
{
	return fs + (size_t)(JSTART + n) * BS;
}

static bool csum23(const struct log *l)
{
	return l->incompat & (F_CSUM2 | F_CSUM3);
}

static void header(uint8_t *b, uint32_t type, uint32_t seq)
{
	memset(b, 0, BS);
	put32(b, MAGIC);
	put32(b + 4, type);
	put32(b + 8, seq);
}

static uint32_t take_block(struct log *l)
{
	uint32_t n = l->pos;
	l->pos = l->pos + 1 >= l->maxlen ? l->first : l->pos + 1;
	return n;
}

static void log_init(struct log *l, uint32_t maxlen, uint32_t compat, uint32_t incompat,
		     uint32_t start)
{
	memset(fs, 0, sizeof(fs));
	*l = (struct log){.maxlen = maxlen, .first = 1, .compat = compat, .incompat = incompat};
	for (int i = 0; i < 16; i++)
		l->uuid[i] = (uint8_t)(i * 17 + 3);
	l->seed = ext2fs_crc32c_le(~0u, l->uuid, 16);
	l->pos = start;
	l->crc1 = ~0u;
}

/* The journal superblock: the log starts at `start` with transaction `seq` (0: clean). */
static void write_sb(const struct log *l, uint32_t seq, uint32_t start)
{
	uint8_t *b = jblock(0);
	header(b, SB_V2, 0);
	put32(b + 12, BS);
	put32(b + 16, l->maxlen);
	put32(b + 20, l->first);
	put32(b + 24, seq);
	put32(b + 28, start);
	put32(b + 36, l->compat);
	put32(b + 40, l->incompat);
	memcpy(b + 48, l->uuid, 16);
	put32(b + 64, 1);
}

static void seal_tail(const struct log *l, uint8_t *b)
{
	if (csum23(l))
		put32(b + BS - 4, ext2fs_crc32c_le(l->seed, b, BS));
}

static uint32_t data_csum(const struct log *l, uint32_t seq, const uint8_t *data)
{
	uint8_t s[4];
	put32(s, seq);
	return ext2fs_crc32c_le(ext2fs_crc32c_le(l->seed, s, 4), data, BS);
}

/* One tag at `p`; returns its size. */
static size_t put_tag(const struct log *l, uint8_t *p, uint64_t block, uint32_t flags,
		      uint32_t csum)
{
	bool b64 = l->incompat & F_64BIT;
	if (l->incompat & F_CSUM3) {
		put32(p, (uint32_t)block);
		put32(p + 4, flags);
		put32(p + 8, b64 ? (uint32_t)(block >> 32) : 0);
		put32(p + 12, csum);
		return 16;
	}
	put32(p, (uint32_t)block);
	put16(p + 4, (uint16_t)csum);
	put16(p + 6, (uint16_t)flags);
	if (b64)
		put32(p + 8, (uint32_t)(block >> 32));
	return (b64 ? 12 : 8) + ((l->incompat & F_CSUM2) ? 2 : 0);
}

/* A descriptor for `n` blocks and their data; `fill[i]` is the byte each data block holds, or
 * with `escaped`, data[i] starts with the jbd2 magic. */
static void write_descriptor(struct log *l, uint32_t seq, const uint64_t *blocks,
			     const uint8_t *fill, int n, bool escaped)
{
	uint8_t *d = jblock(take_block(l)), data[BS];
	size_t off = 12;

	header(d, DESC, seq);
	for (int i = 0; i < n; i++) {
		uint8_t *jd = jblock(take_block(l));
		uint32_t flags = (i ? T_SAME : 0) | (i == n - 1 ? T_LAST : 0);
		memset(data, fill[i], BS);
		if (escaped)
			put32(data, MAGIC);
		memcpy(jd, data, BS);
		if (escaped) {
			memset(jd, 0, 4);
			flags |= T_ESCAPE;
		}
		/* jbd2 checksums the block as logged, escaped (jbd2_block_tag_csum_set). */
		off += put_tag(l, d + off, blocks[i], flags, data_csum(l, seq, jd));
		if (!i) {
			memcpy(d + off, l->uuid, 16);
			off += 16;
		}
	}
	seal_tail(l, d);
}

/* v1 checksum of the descriptor just written and its `n` data blocks (they follow it). */
static void crc1_add(struct log *l, uint32_t desc, int n)
{
	uint32_t b = desc;
	for (int i = 0; i <= n; i++) {
		l->crc1 = ext2fs_crc32_be(l->crc1, jblock(b), BS);
		b = b + 1 >= l->maxlen ? l->first : b + 1;
	}
}

static void write_commit(struct log *l, uint32_t seq, bool bad_v1_csum)
{
	uint8_t *c = jblock(take_block(l));
	header(c, COMMIT, seq);
	if (l->compat & F_CSUM1) {
		c[12] = 1, c[13] = 4;
		put32(c + 16, bad_v1_csum ? ~l->crc1 : l->crc1);
	}
	if (csum23(l))
		put32(c + 16, ext2fs_crc32c_le(l->seed, c, BS));
	l->crc1 = ~0u;
}

/* A whole transaction writing blocks[i] filled with fill[i]. */
static void txn(struct log *l, uint32_t seq, const uint64_t *blocks, const uint8_t *fill, int n)
{
	uint32_t desc = l->pos;
	write_descriptor(l, seq, blocks, fill, n, false);
	if (l->compat & F_CSUM1) {
		l->crc1 = ~0u;
		crc1_add(l, desc, n);
	}
	write_commit(l, seq, false);
}

static void revoke(struct log *l, uint32_t seq, const uint64_t *blocks, int n)
{
	uint8_t *r = jblock(take_block(l));
	size_t rec = (l->incompat & F_64BIT) ? 8 : 4, off = 16;
	header(r, REVOKE, seq);
	for (int i = 0; i < n; i++, off += rec) {
		if (rec == 8) {
			put32(r + off, (uint32_t)(blocks[i] >> 32));
			put32(r + off + 4, (uint32_t)blocks[i]);
		} else {
			put32(r + off, (uint32_t)blocks[i]);
		}
	}
	put32(r + 12, (uint32_t)off);
	seal_tail(l, r);
}

static int read_block(void *ctx, uint64_t block, void *buf)
{
	(void)ctx;
	if (block >= FS_BLKS)
		return -EIO;
	memcpy(buf, fs + block * BS, BS);
	return 0;
}

static struct overlay ov;
static struct journal_replay_stats st;
static char why[256];

static int replay(const struct log *l)
{
	struct extent e = {0, JSTART, l->maxlen, false};
	struct extmap map;
	ck_assert_int_eq(extmap_from_array(&e, 1, BS, FS_BLKS, &map), 0);
	struct journal_device dev = {
	    .map = &map, .block_size = BS, .fs_blocks = FS_BLKS, .read_block = read_block};
	int rc = journal_replay(&dev, &ov, &st, why, sizeof(why));
	extmap_free(&map);
	return rc;
}

/* The byte every byte of filesystem block `block` reads as through the overlay, or -1 if the
 * overlay leaves it alone. */
static int replayed(uint64_t block)
{
	uint8_t buf[BS];
	memset(buf, 0xEE, BS);
	overlay_apply(&ov, block * BS, BS, buf);
	if (buf[0] == 0xEE && buf[BS - 1] == 0xEE)
		return -1;
	for (size_t i = 1; i < BS - 4; i++)
		ck_assert_uint_eq(buf[i + 4], buf[4]);
	return buf[4];
}

START_TEST(newest_copy_wins_and_an_uncommitted_transaction_is_ignored)
{
	struct log l;
	log_init(&l, 64, 0, F_REVOKE | F_64BIT | F_CSUM3, 1);
	write_sb(&l, 10, 1);
	txn(&l, 10, (uint64_t[]){100, 200}, (uint8_t[]){'A', 'X'}, 2);
	txn(&l, 11, (uint64_t[]){100}, (uint8_t[]){'B'}, 1);
	write_descriptor(&l, 12, (uint64_t[]){300}, (uint8_t[]){'Z'}, 1, false); /* no commit */
	ck_assert_int_eq(replay(&l), 0);
	ck_assert_uint_eq(st.transactions, 2);
	ck_assert_int_eq(replayed(100), 'B');
	ck_assert_int_eq(replayed(200), 'X');
	ck_assert_int_eq(replayed(300), -1);
	overlay_free(&ov);
}
END_TEST

START_TEST(revokes_hide_earlier_copies_only)
{
	struct log l;
	log_init(&l, 64, 0, F_REVOKE, 1); /* 32-bit tags, no checksums */
	write_sb(&l, 5, 1);
	txn(&l, 5, (uint64_t[]){50, 51}, (uint8_t[]){'a', 'b'}, 2);
	revoke(&l, 6, (uint64_t[]){50, 51}, 2);
	txn(&l, 6, (uint64_t[]){60}, (uint8_t[]){'c'}, 1);
	txn(&l, 7, (uint64_t[]){51}, (uint8_t[]){'d'}, 1); /* logged again after the revoke */
	ck_assert_int_eq(replay(&l), 0);
	ck_assert_uint_eq(st.transactions, 3);
	ck_assert_int_eq(replayed(50), -1);
	ck_assert_int_eq(replayed(51), 'd');
	ck_assert_int_eq(replayed(60), 'c');
	ck_assert_uint_eq(st.blocks_revoked, 2);
	overlay_free(&ov);
}
END_TEST

START_TEST(a_log_that_wraps)
{
	struct log l;
	log_init(&l, 16, 0, F_REVOKE | F_64BIT | F_CSUM3, 13);
	write_sb(&l, 40, 13);
	/* descriptor at 13, data at 14 and 15, commit wraps to 1; the next one follows. */
	txn(&l, 40, (uint64_t[]){70, 71}, (uint8_t[]){'p', 'q'}, 2);
	txn(&l, 41, (uint64_t[]){72}, (uint8_t[]){'r'}, 1);
	ck_assert_uint_eq(l.pos, 5);
	ck_assert_int_eq(replay(&l), 0);
	ck_assert_uint_eq(st.transactions, 2);
	ck_assert_int_eq(replayed(70), 'p');
	ck_assert_int_eq(replayed(71), 'q');
	ck_assert_int_eq(replayed(72), 'r');
	overlay_free(&ov);
}
END_TEST

START_TEST(v2_checksums_skip_a_corrupt_data_block)
{
	struct log l;
	log_init(&l, 64, 0, F_REVOKE | F_CSUM2, 1);
	write_sb(&l, 3, 1);
	txn(&l, 3, (uint64_t[]){80, 81}, (uint8_t[]){'g', 'h'}, 2);
	jblock(3)[100] ^= 1; /* the second data block */
	ck_assert_int_eq(replay(&l), 0);
	ck_assert_uint_eq(st.transactions, 1);
	ck_assert_uint_eq(st.blocks_bad_csum, 1);
	ck_assert_int_eq(replayed(80), 'g');
	ck_assert_int_eq(replayed(81), -1);
	overlay_free(&ov);
}
END_TEST

START_TEST(a_bad_descriptor_checksum_ends_the_log)
{
	struct log l;
	log_init(&l, 64, 0, F_REVOKE | F_64BIT | F_CSUM3, 1);
	write_sb(&l, 3, 1);
	txn(&l, 3, (uint64_t[]){80}, (uint8_t[]){'g'}, 1);
	uint32_t second = l.pos;
	txn(&l, 4, (uint64_t[]){81}, (uint8_t[]){'h'}, 1);
	jblock(second)[40] ^= 1;
	ck_assert_int_eq(replay(&l), 0);
	ck_assert_uint_eq(st.transactions, 1);
	ck_assert_int_eq(replayed(80), 'g');
	ck_assert_int_eq(replayed(81), -1);
	overlay_free(&ov);
}
END_TEST

START_TEST(escaped_blocks_get_their_magic_back)
{
	struct log l;
	uint8_t buf[BS];
	log_init(&l, 64, 0, F_REVOKE | F_64BIT | F_CSUM3, 1);
	write_sb(&l, 9, 1);
	write_descriptor(&l, 9, (uint64_t[]){90}, (uint8_t[]){'e'}, 1, true);
	write_commit(&l, 9, false);
	ck_assert_int_eq(replay(&l), 0);
	memset(buf, 0, BS);
	overlay_apply(&ov, 90 * BS, BS, buf);
	ck_assert_uint_eq(buf[0], 0xC0);
	ck_assert_uint_eq(buf[3], 0x98);
	ck_assert_uint_eq(buf[4], 'e');
	overlay_free(&ov);
}
END_TEST

static void v1_log_with_bad_commit(struct log *l, uint32_t incompat)
{
	log_init(l, 64, F_CSUM1, F_REVOKE | incompat, 1);
	write_sb(l, 20, 1);
	uint32_t desc = l->pos;
	write_descriptor(l, 20, (uint64_t[]){33}, (uint8_t[]){'v'}, 1, false);
	l->crc1 = ~0u;
	crc1_add(l, desc, 1);
	write_commit(l, 20, true);
}

START_TEST(a_bad_v1_commit_checksum_ends_the_log_unless_async_commit)
{
	struct log l;
	v1_log_with_bad_commit(&l, 0);
	ck_assert_int_eq(replay(&l), 0);
	ck_assert_uint_eq(st.transactions, 0);
	ck_assert_int_eq(replayed(33), -1);
	overlay_free(&ov);
	v1_log_with_bad_commit(&l, F_ASYNC);
	ck_assert_int_eq(replay(&l), 0);
	ck_assert_uint_eq(st.transactions, 1);
	ck_assert_int_eq(replayed(33), 'v');
	overlay_free(&ov);
}
END_TEST

START_TEST(a_good_v1_checksum_replays)
{
	struct log l;
	log_init(&l, 64, F_CSUM1, F_REVOKE, 1);
	write_sb(&l, 20, 1);
	txn(&l, 20, (uint64_t[]){33, 34}, (uint8_t[]){'v', 'w'}, 2);
	ck_assert_int_eq(replay(&l), 0);
	ck_assert_uint_eq(st.transactions, 1);
	ck_assert_int_eq(replayed(34), 'w');
	overlay_free(&ov);
}
END_TEST

START_TEST(a_clean_journal_replays_nothing)
{
	struct log l;
	log_init(&l, 64, 0, F_REVOKE | F_CSUM3, 1);
	write_sb(&l, 7, 0);
	txn(&l, 7, (uint64_t[]){100}, (uint8_t[]){'A'}, 1);
	ck_assert_int_eq(replay(&l), 0);
	ck_assert_uint_eq(st.transactions, 0);
	ck_assert_int_eq(replayed(100), -1);
	overlay_free(&ov);
}
END_TEST

START_TEST(a_corrupt_superblock_is_refused_with_a_reason)
{
	struct log l;
	log_init(&l, 64, 0, F_REVOKE, 1);
	write_sb(&l, 7, 1);
	put32(jblock(0) + 16, 1000); /* maxlen past the journal inode's blocks */
	ck_assert_int_eq(replay(&l), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "geometry"));
	write_sb(&l, 7, 1);
	put32(jblock(0) + 40, F_REVOKE | 0x20); /* fast commit */
	ck_assert_int_eq(replay(&l), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "fast commit"));
}
END_TEST

START_TEST(log_blocks_past_the_filesystem_are_skipped)
{
	struct log l;
	log_init(&l, 64, 0, F_REVOKE | F_64BIT | F_CSUM3, 1);
	write_sb(&l, 1, 1);
	txn(&l, 1, (uint64_t[]){(uint64_t)FS_BLKS + 5, 10}, (uint8_t[]){'o', 'k'}, 2);
	ck_assert_int_eq(replay(&l), 0);
	ck_assert_int_eq(replayed(10), 'k');
	ck_assert_uint_eq(st.blocks_bad_csum, 1);
	overlay_free(&ov);
}
END_TEST

CHECK_MAIN("journal", newest_copy_wins_and_an_uncommitted_transaction_is_ignored,
	   revokes_hide_earlier_copies_only, a_log_that_wraps,
	   v2_checksums_skip_a_corrupt_data_block, a_bad_descriptor_checksum_ends_the_log,
	   escaped_blocks_get_their_magic_back,
	   a_bad_v1_commit_checksum_ends_the_log_unless_async_commit, a_good_v1_checksum_replays,
	   a_clean_journal_replays_nothing, a_corrupt_superblock_is_refused_with_a_reason,
	   log_blocks_past_the_filesystem_are_skipped)
