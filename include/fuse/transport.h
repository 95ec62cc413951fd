// SPDX-License-Identifier: MIT
/*
 * transport — whether FUSE requests travel over io_uring or over read(2)/write(2) on
 * /dev/fuse. The kernel offers io_uring (Linux 6.14+, fs/fuse/dev_uring.c) only while the fuse
 * module's enable_uring parameter is on, and libfuse carries it from 3.18 (lib/fuse_uring.c,
 * one ring queue per CPU). Part of the FUSE layer.
 */
#ifndef EXT4PAGER_TRANSPORT_H
#define EXT4PAGER_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#define TRANSPORT_URING_SWITCH "/sys/module/fuse/parameters/enable_uring"

/*
 * Decides from `mode` (enum io_uring_mode), the libfuse this is built with and the kernel's
 * switch, which root turns on for auto and on (saying so under `debug`). A normal user in auto
 * mode with the switch off gets a one-line hint on stderr. Returns 0 with *use_uring, or -1
 * with a one-line reason in `why` when mode is on and io_uring cannot be had.
 */
int transport_choose(int mode, bool debug, bool *use_uring, char *why, size_t why_len);

#endif
