// SPDX-License-Identifier: MIT
#include "dir.h"

#include "fscrypt_inode.h"
#include "fscrypt_name.h"
#include "image_fs.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Hard cap: bounds memory and time on a hostile directory (the kernel's largedir max is
 * far below what 2^24 entries of 255 bytes would need anyway). */
#define DIR_MAX_ENTRIES (1u << 24)

struct build_entry {
	uint32_t ino, name_off, hash, minor_hash, seq;
	uint16_t name_len;
	uint8_t type;
	bool dot; /* "." or ".." of an indexed directory: these come first */
};

struct build_ctx {
	struct build_entry *ent;
	size_t count, cap;
	char *names;
	size_t names_len, names_cap;
	bool filetype;
	int error;
	const struct ext2fs_nls_table *fold; /* a casefolded directory's encoding */
	bool strict;			     /* ... in strict mode */
	ext2_filsys fs;
	bool hash_in_dirent; /* encrypted and casefolded: each entry carries its hash */
	uint32_t stored_hash, stored_minor_hash; /* ... the current entry's */
};

static uint8_t dtype_of(int ft)
{
	switch (ft) {
	case EXT2_FT_REG_FILE:
		return DT_REG;
	case EXT2_FT_DIR:
		return DT_DIR;
	case EXT2_FT_CHRDEV:
		return DT_CHR;
	case EXT2_FT_BLKDEV:
		return DT_BLK;
	case EXT2_FT_FIFO:
		return DT_FIFO;
	case EXT2_FT_SOCK:
		return DT_SOCK;
	case EXT2_FT_SYMLINK:
		return DT_LNK;
	default:
		return DT_UNKNOWN;
	}
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static bool is_dot_or_dotdot(const char *name, size_t len)
{
	return (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
}

/*
 * The hash an encrypted and casefolded directory's entry carries after its name (SipHash of
 * the casefolded plaintext, which only the key could recompute): EXT4_DIRENT_HASHES, read as
 * htree_dirblock_to_tree and ext4_readdir read it (fs/ext4/namei.c, dir.c). Every entry but "."
 * and ".." must have room for it in its record (ext4_dir_rec_len); those two have none, and
 * the kernel reads the 8 bytes after their names anyway — within the block, so here too.
 */
static int read_dirent_hash(struct build_ctx *c, const struct ext2_dir_entry *de, int offset,
			    int blocksize)
{
	size_t name_len = (size_t)ext2fs_dirent_name_len(de);
	size_t at = 8 + ((name_len + EXT2_DIR_ROUND) & ~(size_t)EXT2_DIR_ROUND);
	const uint8_t *h = (const uint8_t *)de + at;
	bool dot = is_dot_or_dotdot(de->name, name_len);
	unsigned int rec_len = 0;
	uint32_t le[2];

	ext2fs_get_rec_len(c->fs, (struct ext2_dir_entry *)de, &rec_len);
	if ((!dot && at + EXT2_DIR_ENTRY_HASH_LEN > rec_len) ||
	    (size_t)offset + at + EXT2_DIR_ENTRY_HASH_LEN > (size_t)blocksize) {
		c->error = -EUCLEAN; /* "rec_len is too small for name_len" */
		return -1;
	}
	memcpy(le, h, sizeof(le));
	c->stored_hash = ext2fs_le32_to_cpu(le[0]);
	c->stored_minor_hash = ext2fs_le32_to_cpu(le[1]);
	return 0;
}

static int collect_entry(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset,
			 int blocksize, char *buf, void *priv)
{
	struct build_ctx *c = priv;
	int name_len = ext2fs_dirent_name_len(de);
	struct build_entry *e;

	(void)dir;
	(void)entry;
	(void)buf;
	if (de->inode == 0)
		return 0;
	if (c->hash_in_dirent && read_dirent_hash(c, de, offset, blocksize) != 0)
		return DIRENT_ABORT;
	if (c->count >= DIR_MAX_ENTRIES ||
	    grow((void **)&c->ent, &c->cap, c->count + 1, sizeof(*c->ent)) ||
	    grow((void **)&c->names, &c->names_cap, c->names_len + (size_t)name_len + 1, 1)) {
		c->error = c->count >= DIR_MAX_ENTRIES ? -EIO : -ENOMEM;
		return DIRENT_ABORT;
	}
	e = &c->ent[c->count];
	memset(e, 0, sizeof(*e));
	e->ino = de->inode;
	e->name_off = (uint32_t)c->names_len;
	e->name_len = (uint16_t)name_len;
	e->type = c->filetype ? dtype_of(ext2fs_dirent_file_type(de)) : DT_UNKNOWN;
	e->seq = (uint32_t)c->count;
	e->hash = c->stored_hash;
	e->minor_hash = c->stored_minor_hash;
	memcpy(c->names + c->names_len, de->name, (size_t)name_len);
	c->names[c->names_len + (size_t)name_len] = '\0';
	c->names_len += (size_t)name_len + 1;
	c->count++;
	return 0;
}

static int cmp_hash_order(const void *a, const void *b)
{
	const struct build_entry *x = a, *y = b;

	if (x->dot != y->dot)
		return x->dot ? -1 : 1;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->minor_hash != y->minor_hash)
		return x->minor_hash < y->minor_hash ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* ext4_readdir's is_dx_dir(): when the kernel returns entries in hash order. */
static bool kernel_reads_in_hash_order(ext2_filsys fs, const struct ext2_inode *inode)
{
	if (!ext2fs_has_feature_dir_index(fs->super))
		return false;
	return (inode->i_flags & EXT2_INDEX_FL) || (EXT2_I_SIZE(inode) / fs->blocksize == 1) ||
	       (inode->i_flags & EXT4_INLINE_DATA_FL);
}

/* Sorts the entries into the kernel's htree readdir order. */
static void sort_like_kernel(ext2_filsys fs, const struct ext2_inode *inode, struct build_ctx *c)
{
	struct ext2_super_block *sb = fs->super;
	int version = sb->s_def_hash_version;
	bool indexed = inode->i_flags & EXT2_INDEX_FL;

	if (version <= EXT2_HASH_TEA && (sb->s_flags & EXT2_FLAGS_UNSIGNED_HASH))
		version += 3;
	for (size_t i = 0; i < c->count; i++) {
		struct build_entry *e = &c->ent[i];
		const char *name = c->names + e->name_off;
		ext2_dirhash_t h = 0, minor = 0;
		e->dot = indexed && ((e->name_len == 1 && name[0] == '.') ||
				     (e->name_len == 2 && name[0] == '.' && name[1] == '.'));
		if (e->dot) {
			e->hash = e->name_len == 1 ? 0 : 2;
			continue;
		}
		if (c->hash_in_dirent)
			continue; /* stored in the entry, read by collect_entry */
		ext2fs_dirhash2(version, name, e->name_len, fs->encoding,
				inode->i_flags & EXT4_CASEFOLD_FL, sb->s_hash_seed, &h, &minor);
		e->hash = h;
		e->minor_hash = minor;
	}
	if (c->count > 1) /* an empty (corrupt) directory has no array at all */
		qsort(c->ent, c->count, sizeof(*c->ent), cmp_hash_order);
}

/*
 * An encrypted directory's names, rewritten for the listing (fs/crypto/fname.c
 * fscrypt_fname_disk_to_usr): with the key, every name but "." and ".." decrypted, and one that
 * does not decrypt fails the listing with EUCLEAN, as the kernel's readdir fails; without it,
 * the kernel's no-key name of its ciphertext (fscrypt_name.h), with the entry's hash where the
 * kernel reads the directory through its htree (ext4_dx_readdir passes it) and zero where it
 * reads it linearly (ext4_readdir). Lookups then match the names as listed.
 */
static int rewrite_encrypted_names(struct build_ctx *c, const struct fscrypt_inode_key *key,
				   bool hashed)
{
	size_t cap = 1, len = 0;
	char *names;

	/* exactly what the new names take: memory stays in proportion to the directory */
	for (size_t i = 0; i < c->count; i++)
		cap += (key ? c->ent[i].name_len : fscrypt_nokey_name_len(c->ent[i].name_len)) + 1;
	names = malloc(cap);
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < c->count; i++) {
		struct build_entry *e = &c->ent[i];
		const uint8_t *old = (const uint8_t *)c->names + e->name_off;
		int n = e->name_len;
		if (is_dot_or_dotdot((const char *)old, e->name_len))
			memcpy(names + len, old, e->name_len);
		else if (key)
			n = fscrypt_decrypt_name(key, old, e->name_len, names + len);
		else
			n = fscrypt_nokey_name(hashed ? e->hash : 0, hashed ? e->minor_hash : 0, old,
					       e->name_len, names + len);
		if (n <= 0) {
			free(names);
			return -EUCLEAN;
		}
		names[len + (size_t)n] = '\0';
		e->name_off = (uint32_t)len;
		e->name_len = (uint16_t)n;
		len += (size_t)n + 1;
	}
	free(c->names);
	c->names = names;
	c->names_len = len;
	c->names_cap = cap;
	return 0;
}

/* An encrypted directory's names: decrypted with its key; without one (or with a policy that
 * cannot be used), the no-key names, as the kernel lists them (its readdir allows unsupported
 * policies); a missing context or an unreadable one fails, as there. */
static int show_encrypted_names(struct image *img, uint32_t ino, struct build_ctx *c, bool hashed)
    REQUIRES(*img)
{
	struct fscrypt_inode_key key;
	int rc = fscrypt_inode_key(img, ino, false, &key);

	if (rc == 0) {
		rc = rewrite_encrypted_names(c, &key, hashed);
	} else if (rc != -ENODATA && rc != -EIO) {
		rc = rewrite_encrypted_names(c, NULL, hashed);
		/* no-key names match byte for byte, never folded (fscrypt_match_name) */
		c->fold = NULL;
		c->strict = false;
	}
	fscrypt_inode_key_wipe(&key);
	return rc;
}

static uint32_t name_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

/* The bucket key of a name: in a casefolded directory, the hash of its casefolded form (the
 * one ext4 files it under), so every spelling that folds alike lands in one bucket; a name the
 * encoding cannot fold is hashed as its bytes, as ext2fs_dirhash2 and the kernel do. */
static uint32_t key_hash(const struct ext2fs_nls_table *fold, const char *s, size_t len)
{
	ext2_dirhash_t h = 0, minor = 0;

	if (!fold || ext2fs_dirhash2(EXT2_HASH_HALF_MD4, s, (int)len, fold, EXT4_CASEFOLD_FL, NULL,
				     &h, &minor) != 0)
		return name_hash(s, len);
	return h;
}

static int finish_listing(uint32_t ino, struct build_ctx *c, struct dir_listing **out)
{
	struct dir_listing *l = calloc(1, sizeof(*l));
	size_t nb = 16;

	while (nb < c->count * 2)
		nb *= 2;
	if (!l)
		return -ENOMEM;
	l->ino = ino;
	l->count = c->count;
	l->nbuckets = nb;
	l->entries = calloc(c->count ? c->count : 1, sizeof(*l->entries));
	l->buckets = calloc(nb, sizeof(*l->buckets));
	if (!l->entries || !l->buckets) {
		dir_listing_free(l);
		return -ENOMEM;
	}
	l->names = c->names;
	l->fold = c->fold;
	l->strict = c->strict;
	c->names = NULL;
	/* Backwards, so each bucket's chain is in readdir order: where several names fold alike
	 * (a corrupt casefolded directory), lookup finds the first, as ext4's scan does. */
	for (size_t i = c->count; i-- > 0;) {
		struct dir_entry *d = &l->entries[i];
		uint32_t slot;
		d->ino = c->ent[i].ino;
		d->name_off = c->ent[i].name_off;
		d->name_len = c->ent[i].name_len;
		d->type = c->ent[i].type;
		slot = key_hash(l->fold, l->names + d->name_off, d->name_len) & (uint32_t)(nb - 1);
		d->hash_next = l->buckets[slot];
		l->buckets[slot] = (uint32_t)i + 1;
	}
	l->bytes =
	    sizeof(*l) + c->count * sizeof(*l->entries) + nb * sizeof(*l->buckets) + c->names_len;
	*out = l;
	return 0;
}

/* Inodes closer than this to the range being gathered join it (one host read, not two). */
#define HINT_GAP (16u << 10)

/*
 * A listing is usually followed by a stat of every entry (READDIRPLUS, ls -l, du): the inodes
 * are asked of the host at once, as few ranges as their order in the table allows, so the stats
 * that follow find them in the host's cache instead of each waiting for the disk.
 */
static void hint_inodes(struct image *img, const struct build_ctx *c) REQUIRES(*img)
{
	uint64_t start = 0, end = 0, pos;
	size_t isize = EXT2_INODE_SIZE(image_fs(img)->super);

	for (size_t i = 0; i < c->count; i++) {
		if (!image_inode_offset(img, c->ent[i].ino, &pos))
			continue;
		if (end > start && pos + isize > start && pos <= end + HINT_GAP) {
			if (pos + isize > end)
				end = pos + isize;
			continue;
		}
		if (end > start)
			image_will_need(img, start, end - start);
		start = pos;
		end = pos + isize;
	}
	if (end > start)
		image_will_need(img, start, end - start);
}

int dir_listing_build(struct image *img, uint32_t ino, struct dir_listing **out)
{
	struct build_ctx c = {0};
	struct ext2_inode inode;
	errcode_t err;
	int rc;

	image_lock(img);
	c.filetype = ext2fs_has_feature_filetype(image_fs(img)->super);
	if (ino < 1 || ino > image_fs(img)->super->s_inodes_count)
		rc = -ENOENT;
	else if (ext2fs_read_inode(image_fs(img), ino, &inode))
		rc = -EIO;
	else if (!LINUX_S_ISDIR(inode.i_mode))
		rc = -ENOTDIR;
	else {
		if (inode.i_flags & EXT4_CASEFOLD_FL)
			c.fold = image_fs(img)->encoding;
		c.strict =
		    c.fold && (image_fs(img)->super->s_encoding_flags & EXT4_ENC_STRICT_MODE_FL);
		c.fs = image_fs(img);
		c.hash_in_dirent = ext4_hash_in_dirent(&inode);
		err = ext2fs_dir_iterate2(image_fs(img), ino, 0, NULL, collect_entry, &c);
		rc = c.error ? c.error : (err ? -EIO : 0);
		hint_inodes(img, &c);
		bool hashed = kernel_reads_in_hash_order(image_fs(img), &inode);
		if (rc == 0 && hashed)
			sort_like_kernel(image_fs(img), &inode, &c);
		/* an encrypted and casefolded directory's no-key names carry the stored hash
		 * whichever way the kernel reads it (ext4_readdir, htree_dirblock_to_tree) */
		if (rc == 0 && (inode.i_flags & EXT4_ENCRYPT_FL))
			rc = show_encrypted_names(img, ino, &c, hashed || c.hash_in_dirent);
	}
	image_unlock(img);
	if (rc == 0)
		rc = finish_listing(ino, &c, out);
	free(c.ent);
	free(c.names);
	return rc;
}

void dir_listing_free(struct dir_listing *l)
{
	if (!l)
		return;
	free(l->entries);
	free(l->names);
	free(l->buckets);
	free(l);
}

static bool names_match(const struct dir_listing *l, const char *a, size_t la, const char *b,
			size_t lb)
{
	if (la == lb && memcmp(a, b, la) == 0)
		return true;
	return l->fold && ext2fs_casefold_cmp(l->fold, (const unsigned char *)a, la,
					      (const unsigned char *)b, lb) == 0;
}

const struct dir_entry *dir_lookup(const struct dir_listing *l, const char *name, size_t len)
{
	uint32_t i = l->buckets[key_hash(l->fold, name, len) & (uint32_t)(l->nbuckets - 1)];

	while (i) {
		const struct dir_entry *d = &l->entries[i - 1];
		if (names_match(l, l->names + d->name_off, d->name_len, name, len))
			return d;
		i = d->hash_next;
	}
	return NULL;
}

int dir_check_name(const struct dir_listing *l, const char *name, size_t len)
{
	const unsigned char *u = (const unsigned char *)name;

	/* ext2fs_casefold_cmp fails (-1) on a name the encoding cannot normalise, and a valid
	 * name always equals itself */
	if (l->strict && ext2fs_casefold_cmp(l->fold, u, len, u, len) != 0)
		return -EINVAL;
	return 0;
}

void dircache_init(struct dircache *dc, size_t budget_bytes)
{
	memset(dc, 0, sizeof(*dc));
	mutex_init(&dc->lock);
	list_init(&dc->lru);
	dc->budget = budget_bytes;
}

void dircache_destroy(struct dircache *dc)
{
	for (size_t i = 0; i < DIRCACHE_BUCKETS; i++) {
		while (dc->table[i]) {
			struct dir_listing *l = dc->table[i];
			dc->table[i] = l->next;
			dir_listing_free(l);
		}
	}
	mutex_destroy(&dc->lock);
}

static void table_remove_locked(struct dircache *dc, struct dir_listing *l) REQUIRES(dc->lock)
{
	for (struct dir_listing **p = &dc->table[l->ino % DIRCACHE_BUCKETS]; *p; p = &(*p)->next) {
		if (*p == l) {
			*p = l->next;
			break;
		}
	}
	dc->bytes -= l->bytes;
}

/* Frees unused listings, oldest first, while over budget. */
static void evict_locked(struct dircache *dc) REQUIRES(dc->lock)
{
	struct list_node *n;

	while (dc->bytes > dc->budget && (n = list_pop_front(&dc->lru))) {
		struct dir_listing *l = list_entry(n, struct dir_listing, lru);
		table_remove_locked(dc, l);
		dir_listing_free(l);
	}
}

static struct dir_listing *find_and_ref_locked(struct dircache *dc, uint32_t ino) REQUIRES(dc->lock)
{
	for (struct dir_listing *l = dc->table[ino % DIRCACHE_BUCKETS]; l; l = l->next) {
		if (l->ino == ino) {
			if (l->refs++ == 0)
				list_remove(&l->lru);
			return l;
		}
	}
	return NULL;
}

int dircache_get(struct dircache *dc, struct image *img, uint32_t ino, struct dir_listing **out)
{
	struct dir_listing *l, *fresh;
	int rc;

	mutex_lock(&dc->lock);
	l = find_and_ref_locked(dc, ino);
	mutex_unlock(&dc->lock);
	if (l) {
		*out = l;
		return 0;
	}
	rc = dir_listing_build(img, ino, &fresh);
	if (rc)
		return rc;
	mutex_lock(&dc->lock);
	l = find_and_ref_locked(dc, ino); /* another thread may have built it meanwhile */
	if (!l) {
		l = fresh;
		fresh = NULL;
		l->refs = 1;
		list_init(&l->lru);
		l->next = dc->table[ino % DIRCACHE_BUCKETS];
		dc->table[ino % DIRCACHE_BUCKETS] = l;
		dc->bytes += l->bytes;
		evict_locked(dc);
	}
	mutex_unlock(&dc->lock);
	dir_listing_free(fresh);
	*out = l;
	return 0;
}

void dircache_put(struct dircache *dc, struct dir_listing *l)
{
	mutex_lock(&dc->lock);
	assert(l->refs > 0);
	if (--l->refs == 0) {
		list_push_back(&dc->lru, &l->lru);
		evict_locked(dc);
	}
	mutex_unlock(&dc->lock);
}
