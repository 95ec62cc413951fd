// SPDX-License-Identifier: MIT
/*
 * source — what the user named, as one byte source: the whole disk or filesystem image, before
 * any offset= or partition window.
 *
 *   nbd://HOST[:PORT]/EXPORT, nbds://…, nbd+unix:///EXPORT?socket=PATH   an NBD export (libnbd)
 *   http://…, https://…           an HTTP(S) object, served by `nbdkit --readonly curl`
 *                                 (either holding an Android sparse image: read through its
 *                                 index, as a local one)
 *   a file whose first bytes are:
 *     an Android sparse header    read in place through its chunk index (sparse_source.h)
 *     a qcow2/qcow/QED/VMDK/VHDX/VHD/VDI header
 *                                 served by `qemu-nbd --read-only` (nbd_server.h)
 *     anything else               read as a raw image or block device
 *
 * `format=` names the kind instead of the magic deciding (raw, sparse, or one of qemu's format
 * names): a raw image that happens to start with another format's magic, or a VHD whose footer
 * is only at its end. Image format parsers are qemu's (complete and fuzzed); only the Android
 * sparse index is ours.
 */
#ifndef EXT4PAGER_SOURCE_H
#define EXT4PAGER_SOURCE_H

#include "byte_source.h"

#include <stdbool.h>
#include <stddef.h>

struct source_options {
	const char *format;   /* NULL = detect */
	bool drop_cache;      /* file sources: byte_source_open_file's drop_cache */
	unsigned timeout;     /* NBD: seconds per request and for the connect; 0 = default */
	unsigned connections; /* NBD: connections at most; 0 = default */
};

/* Whether `name` is a URL or URI rather than a path (no realpath, no stat). */
bool source_is_remote(const char *name);

/* Whether `format` is one source_open accepts. */
bool source_format_known(const char *format);

/* Opens `name`. Returns 0, or a negative errno with a one-line reason in `why`. */
int source_open(const char *name, const struct source_options *opts, struct byte_source **out,
		char *why, size_t why_len);

#endif
