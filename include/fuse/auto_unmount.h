// SPDX-License-Identifier: MIT
/*
 * auto_unmount — the mount goes when the daemon does, however it dies (fusermount3's
 * auto_unmount, util/fusermount.c in libfuse). As root, libfuse 3.18 mounts itself and hands
 * auto_unmount to `fusermount3 --auto-unmount`, which Debian 12's fusermount3 (3.14) does not
 * know; so for root the daemon does fusermount's part: a watcher process holds one end of a
 * pipe, and once the daemon's end closes (exit, crash, SIGKILL) it lazily unmounts the mount
 * whose device the daemon's connection had, if it is still there. Non-root mounts go through
 * fusermount3 -o auto_unmount, which Debian 12's does know. Part of the FUSE layer.
 */
#ifndef EXT4PAGER_AUTO_UNMOUNT_H
#define EXT4PAGER_AUTO_UNMOUNT_H

#include <stdbool.h>

/* Whether this process must watch its own mount (root, built with libfuse 3.18 or later). */
bool auto_unmount_by_daemon(void);

/* Starts the watcher for the FUSE mount now on `mountpoint` (call right after mounting,
 * before any thread starts). Returns 0, or -1 after printing why. */
int auto_unmount_start(const char *mountpoint);

#endif
