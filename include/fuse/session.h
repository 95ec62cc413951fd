// SPDX-License-Identifier: MIT
/*
 * session — one mounted filesystem: the image, its pager and caches, and the FUSE session
 * that serves them. Part of the FUSE layer (with fuse_ops.c and main.c).
 *
 * Lifecycle, all on the thread that owns the session unless said otherwise:
 *   session_open → session_mount → [fork into the background] → session_start →
 *   session_serve (blocks until unmounted or stopped) → session_close.
 * session_stop may be called from any thread (the idle watcher, run mode's supervisor): it
 * ends session_serve, which then unmounts.
 */
#ifndef EXT4PAGER_SESSION_H
#define EXT4PAGER_SESSION_H

#include "fuse_ops.h"
#include "options.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

/* The signal session_stop sends to interrupt the loop thread's wait (a no-op handler without
 * SA_RESTART, so the wait returns EINTR and the loop sees fuse_session_exited). */
#define SESSION_WAKE_SIGNAL SIGUSR1

struct session {
	struct fs_context ctx;
	struct fuse_session *se;
	struct fuse_args args;
	char *fargv[5];
	char fuse_opts[8192];
	char mountpoint[4096];
	bool single_thread, debug, mounted, handlers, auto_unmount;
	pthread_t loop_thread; /* set by session_serve before serving */
	_Atomic bool loop_running;

	/* The idle watcher (idle_timeout=): wakes every second, stops the session once nothing
	 * has been open or asked for the timeout's length. */
	pthread_t idle_thread;
	bool idle_started;
	pthread_mutex_t idle_lock;
	pthread_cond_t idle_wake;
	bool idle_quit; /* guarded by: idle_lock */
};

/* Prints one "ext4pager: ..." line on stderr; returns 1, the exit status for a failure. */
__attribute__((format(printf, 1, 2))) int session_fail(const char *fmt, ...);

/*
 * Opens the image (resolving -o partition=), sets up the pager and the FUSE session. Returns
 * 0, or non-zero after printing one "ext4pager: ..." line on stderr.
 */
int session_open(struct session *s, const struct options *o, const char *image_path,
		 const char *mountpoint);
/* Mounts on the session's mountpoint. `signals`: libfuse's SIGINT/SIGTERM/SIGHUP handlers
 * unmount (the daemon), or the caller handles signals itself (run mode). */
int session_mount(struct session *s, bool signals);
/* Starts the pager and idle watcher threads: after any fork. */
int session_start(struct session *s);
/* Serves until unmounted (fusermount3 -u, umount), a signal, or session_stop. Returns 0 for
 * a clean stop. */
int session_serve(struct session *s);
/* Asks session_serve to return. Any thread; idempotent. */
void session_stop(struct session *s);
/* Unmounts (if mounted) and frees everything. */
void session_close(struct session *s);

#endif
