// SPDX-License-Identifier: MIT
/*
 * image_io — the libext2fs io_manager ext4pager opens filesystems with.
 *
 * It reads the image through a byte source (byte_source.h), which bounds every read to the
 * source's size — a partition, or the part of the file after offset= — so no metadata read can
 * reach past the filesystem's partition, whatever a corrupt superblock or inode points at.
 * Every write entry point fails: nothing can be written to the image, even by a libext2fs code
 * path that would try.
 *
 * libext2fs passes only a name to io_manager->open, so the window is handed over through
 * image_io_prepare() on the calling thread just before ext2fs_open2() (the undo_io manager in
 * e2fsprogs hands its backing manager over the same way, through a global).
 */
#ifndef EXT4PAGER_IMAGE_IO_H
#define EXT4PAGER_IMAGE_IO_H

#include "byte_source.h"

#include <ext2fs/ext2fs.h>
#include <stdint.h>

/* Overlays replace image bytes as they are read (the replayed journal). Optional. */
struct image_io_overlay {
	/* Copies any replaced bytes of [pos, pos+len) (filesystem-relative) into buf. */
	void (*apply)(const struct image_io_overlay *o, uint64_t pos, size_t len, void *buf);
};

struct image_io_window {
	struct byte_source *src;		/* borrowed: outlives the channel */
	const struct image_io_overlay *overlay; /* borrowed; may be NULL */
};

/* Sets the window the next image_io_manager open on this thread uses. */
void image_io_prepare(const struct image_io_window *w);

extern io_manager image_io_manager;

#endif
