// SPDX-License-Identifier: MIT
#include "image_io.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The window the next open takes; set and consumed on the same thread. */
static _Thread_local const struct image_io_window *pending_window;

/*
 * Metadata readahead: small reads (inode table and directory blocks, extent and xattr blocks)
 * are served from aligned chunks of the image, read whole, as the kernel's ext4 reads inode
 * tables ahead (fs/ext4/inode.c __ext4_get_inode_loc, inode_readahead_blks). Cold metadata
 * walks (find, ls -lR) then cost a few large reads instead of one small synchronous read per
 * block.
 *
 * How large: a source that can prefetch (a file: the host's readahead) gets 16 KiB chunks and
 * a WILLNEED hint for the 128 KiB around each one it misses, so a cold walk still reads the
 * disk in 128 KiB pieces while a walk of a cached image copies 16 KiB per directory block
 * instead of 128 KiB. Other sources read 128 KiB chunks. CACHE_SLOTS bounds the memory (1 or
 * 8 MiB).
 */
#define CHUNK_BYTES	 (128u << 10)
#define PREFETCHED_CHUNK (16u << 10)
#define CACHE_SLOTS	 64

struct chunk_slot {
	uint64_t index; /* chunk number; UINT64_MAX when empty */
	uint64_t used;	/* LRU clock */
	size_t len;	/* valid bytes (a chunk at the window's end is short) */
	uint8_t *data;	/* chunk_bytes */
};

struct window_channel {
	struct image_io_window w; /* immutable after open */
	size_t chunk_bytes;	  /* immutable after open */
	bool prefetch;		  /* immutable after open; the source takes will_need hints */
	pthread_mutex_t lock;	  /* guards the fields below */
	struct chunk_slot slots[CACHE_SLOTS];
	uint64_t clock;
	uint64_t last_miss; /* the chunk last read in, + 1 (0: none yet) */
};

void image_io_prepare(const struct image_io_window *w)
{
	pending_window = w;
}

static errcode_t window_open(const char *name, int flags, io_channel *out)
{
	struct window_channel *wc;
	io_channel ch;

	if (!pending_window)
		return EXT2_ET_BAD_DEVICE_NAME;
	if (flags & IO_FLAG_RW)
		return EXT2_ET_RO_FILSYS;
	ch = calloc(1, sizeof(*ch));
	wc = calloc(1, sizeof(*wc));
	if (ch)
		ch->name = strdup(name);
	if (!ch || !wc || !ch->name) {
		if (ch)
			free(ch->name);
		free(ch);
		free(wc);
		return EXT2_ET_NO_MEMORY;
	}
	wc->w = *pending_window;
	pending_window = NULL;
	wc->prefetch = byte_source_can_prefetch(wc->w.src);
	wc->chunk_bytes = wc->prefetch ? PREFETCHED_CHUNK : CHUNK_BYTES;
	pthread_mutex_init(&wc->lock, NULL);
	for (int i = 0; i < CACHE_SLOTS; i++)
		wc->slots[i].index = UINT64_MAX;
	ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	ch->manager = image_io_manager;
	ch->block_size = 1024;
	ch->refcount = 1;
	ch->private_data = wc;
	*out = ch;
	return 0;
}

static errcode_t window_close(io_channel ch)
{
	struct window_channel *wc = ch->private_data;

	if (--ch->refcount > 0)
		return 0;
	for (int i = 0; i < CACHE_SLOTS; i++)
		free(wc->slots[i].data);
	pthread_mutex_destroy(&wc->lock);
	free(wc);
	free(ch->name);
	free(ch);
	return 0;
}

static errcode_t window_set_blksize(io_channel ch, int blksize)
{
	if (blksize <= 0)
		return EXT2_ET_INVALID_ARGUMENT;
	ch->block_size = blksize;
	return 0;
}

/* [pos, pos+len) of the source, all of it or an error (the buffer zeroed then). */
static errcode_t read_exact(const struct window_channel *wc, void *data, size_t len, uint64_t pos)
{
	if (byte_source_pread(wc->w.src, data, len, pos) == 0)
		return 0;
	memset(data, 0, len);
	return EXT2_ET_SHORT_READ;
}

/* Chunk `index` is about to be read. A miss right after the previous chunk's is a scan (an
 * inode table): the source is asked for the CHUNK_BYTES that follow, once per window. A lone
 * miss (a directory block) reads its chunk only. Caller holds wc->lock. */
static void hint_ahead(struct window_channel *wc, uint64_t index)
{
	uint64_t pos = (index + 1) * wc->chunk_bytes;

	if (wc->prefetch && wc->last_miss != 0 && wc->last_miss == index && pos % CHUNK_BYTES == 0)
		byte_source_will_need(wc->w.src, pos, CHUNK_BYTES);
	wc->last_miss = index + 1;
}

/* The cached chunk `index`, read in if missing. Caller holds wc->lock. */
static struct chunk_slot *chunk_get(struct window_channel *wc, uint64_t index, errcode_t *err)
{
	struct chunk_slot *victim = &wc->slots[0];
	uint64_t pos = index * wc->chunk_bytes;

	for (int i = 0; i < CACHE_SLOTS; i++) {
		if (wc->slots[i].index == index) {
			wc->slots[i].used = ++wc->clock;
			return &wc->slots[i];
		}
		if (wc->slots[i].used < victim->used)
			victim = &wc->slots[i];
	}
	if (!victim->data && !(victim->data = malloc(wc->chunk_bytes))) {
		*err = EXT2_ET_NO_MEMORY;
		return NULL;
	}
	victim->index = UINT64_MAX;
	victim->len = wc->w.src->size - pos < wc->chunk_bytes ? (size_t)(wc->w.src->size - pos)
							      : wc->chunk_bytes;
	hint_ahead(wc, index);
	*err = read_exact(wc, victim->data, victim->len, pos);
	if (*err)
		return NULL;
	victim->index = index;
	victim->used = ++wc->clock;
	return victim;
}

/* Copies [pos, pos+len) through the chunk cache. */
static errcode_t cached_read(struct window_channel *wc, void *data, size_t len, uint64_t pos)
{
	errcode_t err = 0;
	size_t done = 0;

	pthread_mutex_lock(&wc->lock);
	while (done < len && !err) {
		uint64_t at = pos + done, index = at / wc->chunk_bytes;
		size_t off = (size_t)(at % wc->chunk_bytes), n;
		struct chunk_slot *c = chunk_get(wc, index, &err);
		if (!c)
			break;
		n = c->len - off < len - done ? c->len - off : len - done;
		memcpy((char *)data + done, c->data + off, n);
		done += n;
	}
	pthread_mutex_unlock(&wc->lock);
	if (err)
		memset(data, 0, len);
	return err;
}

static errcode_t window_read64(io_channel ch, unsigned long long block, int count, void *data)
{
	struct window_channel *wc = ch->private_data;
	size_t len =
	    count < 0 ? (size_t) - (long long)count : (size_t)count * (size_t)ch->block_size;
	uint64_t pos = (uint64_t)block * (uint64_t)ch->block_size;
	errcode_t err;

	if (block > UINT64_MAX / (uint64_t)ch->block_size || pos > wc->w.src->size ||
	    len > wc->w.src->size - pos) {
		memset(data, 0, len);
		return EXT2_ET_SHORT_READ; /* outside the filesystem's window */
	}
	err = len < wc->chunk_bytes ? cached_read(wc, data, len, pos) : read_exact(wc, data, len, pos);
	if (err == 0 && wc->w.overlay)
		wc->w.overlay->apply(wc->w.overlay, pos, len, data);
	return err;
}

static errcode_t window_read(io_channel ch, unsigned long block, int count, void *data)
{
	return window_read64(ch, block, count, data);
}

/* Every way of writing is refused: the image is never modified. */
static errcode_t window_write(io_channel ch, unsigned long block, int count, const void *data)
{
	(void)ch, (void)block, (void)count, (void)data;
	return EXT2_ET_RO_FILSYS;
}

static errcode_t window_write64(io_channel ch, unsigned long long block, int count,
				const void *data)
{
	(void)ch, (void)block, (void)count, (void)data;
	return EXT2_ET_RO_FILSYS;
}

static errcode_t window_write_byte(io_channel ch, unsigned long offset, int count, const void *data)
{
	(void)ch, (void)offset, (void)count, (void)data;
	return EXT2_ET_RO_FILSYS;
}

static errcode_t window_flush(io_channel ch)
{
	(void)ch;
	return 0;
}

static errcode_t window_set_option(io_channel ch, const char *option, const char *arg)
{
	(void)ch, (void)option, (void)arg;
	return EXT2_ET_INVALID_ARGUMENT;
}

static struct struct_io_manager window_manager = {
    .magic = EXT2_ET_MAGIC_IO_MANAGER,
    .name = "ext4pager window I/O manager",
    .open = window_open,
    .close = window_close,
    .set_blksize = window_set_blksize,
    .read_blk = window_read,
    .write_blk = window_write,
    .flush = window_flush,
    .write_byte = window_write_byte,
    .set_option = window_set_option,
    .read_blk64 = window_read64,
    .write_blk64 = window_write64,
};

io_manager image_io_manager = &window_manager;
