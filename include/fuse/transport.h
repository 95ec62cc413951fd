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

/*
 * Called by every request handler on an io_uring mount: the first time on a thread, lowers that
 * thread (a ring queue's, pinned to its CPU by lib/fuse_uring.c fuse_uring_set_thread_core) to
 * SCHED_IDLE. Why: a ring thread answers on the requester's CPU, and wakes the requester while
 * it still runs there; kernel/sched/fair.c select_idle_sibling() then moves the requester to
 * the other, idle CPU unless the waker's CPU runs only SCHED_IDLE tasks (sched_idle_cpu). Every
 * request of a walk then crosses CPUs: two inter-processor wake-ups, which in a VM cost far more
 * than the request (ls -lR of a 50k tree: 93,000 migrations, 7.0 s; with SCHED_IDLE ring
 * threads 15 migrations, 1.2 s). libfuse leaves the same idea disabled in that function. The
 * requester is blocked on the answer, so the CPU the ring thread waits for is usually its own.
 */
void transport_ring_thread_yields(void);

#endif
