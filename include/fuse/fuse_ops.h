// SPDX-License-Identifier: MIT
/*
 * fuse_ops — the libfuse3 low-level operations: thin glue that maps FUSE node ids to ext4
 * inodes (FUSE root 1 ↔ ext4 inode 2), calls the layers below and replies. The only file
 * besides main.c that sees FUSE types.
 */
#ifndef EXT4PAGER_FUSE_OPS_H
#define EXT4PAGER_FUSE_OPS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "dir.h"
#include "image.h"
#include "pager.h"
#include "statfs.h"

/* Everything a request handler needs; owned by main, lives as long as the session. */
struct fs_context {
	struct image *img;
	struct pager *pager;
	struct dircache dirs;
	struct fs_totals totals;
	unsigned read_ahead_kb; /* set on the mount's bdi after init; 0 = leave it */
	const char *mountpoint;
	unsigned idle_timeout;		   /* seconds; 0 = activity is not tracked */
	atomic_uint open_files;		   /* open files and directories (mmaps included) */
	_Atomic uint64_t last_activity_ms; /* CLOCK_MONOTONIC_COARSE of the last request */
	bool noacl, nouser_xattr; /* ext4's mount options: those xattrs are EOPNOTSUPP */
	bool want_uring;	  /* FUSE over io_uring asked of libfuse */
	/* Directories are read without OPENDIR/RELEASEDIR (set at INIT, see op_opendir). */
	bool zero_opendir;
	atomic_bool on_uring;	  /* the kernel agreed at INIT */

	/* READs not yet answered, and READ handlers still inside the pager: a READ whose pages
	 * are being fetched is answered by the pager thread that completes its page request,
	 * possibly after the FUSE loop has returned, and a handler that supplied its own pages
	 * still tidies up after answering. fuse_ops_drain_reads waits for both before the session
	 * is destroyed. The count and flag are atomic (sequentially consistent: a READ that counts
	 * itself after the flag is set sees it); reads_lock only pairs the last decrement's
	 * broadcast with the drain's wait. */
	pthread_mutex_t reads_lock;
	pthread_cond_t reads_drained;
	atomic_uint reads_in_flight;
	atomic_bool reads_closed; /* later READs get EIO */
};

void fuse_ops_context_init(struct fs_context *c);
/* Answers no READ from now on and waits until every READ started is answered. The pager
 * threads must still run. */
void fuse_ops_drain_reads(struct fs_context *c);
void fuse_ops_context_destroy(struct fs_context *c);

/* Notes activity now (each request does). */
void fuse_ops_touch(struct fs_context *c);
/* Milliseconds since the last activity, or 0 while anything is open. */
uint64_t fuse_ops_idle_ms(struct fs_context *c);

/* The name of the read-only xattr on the mount root that returns the pager's stats. */
#define FUSE_OPS_STATS_XATTR "ext4pager.stats"

const struct fuse_lowlevel_ops *fuse_ops_table(void);

#endif
