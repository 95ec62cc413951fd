// SPDX-License-Identifier: MIT
#include "transport.h"

#include "fuse_ops.h" /* FUSE_USE_VERSION, then libfuse's version macros */
#include "options.h"

#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#define LIBFUSE_HAS_URING (FUSE_VERSION >= FUSE_MAKE_VERSION(3, 18))

/* The kernel's switch: 1 on, 0 off, -1 absent (a kernel without CONFIG_FUSE_IO_URING). */
static int uring_switch(void)
{
	FILE *f = fopen(TRANSPORT_URING_SWITCH, "r");
	int c;

	if (!f)
		return -1;
	c = fgetc(f);
	fclose(f);
	return c == 'Y' || c == 'y' || c == '1';
}

static bool uring_switch_on(void)
{
	FILE *f = fopen(TRANSPORT_URING_SWITCH, "w");
	bool ok;

	if (!f)
		return false;
	ok = fputs("Y\n", f) >= 0;
	ok = (fclose(f) == 0) && ok;
	return ok && uring_switch() == 1;
}

int transport_choose(int mode, bool debug, bool *use_uring, char *why, size_t why_len)
{
	int state;

	*use_uring = false;
	if (mode == IO_URING_OFF)
		return 0;
	if (!LIBFUSE_HAS_URING) {
		if (mode == IO_URING_AUTO)
			return 0;
		snprintf(why, why_len, "-o io_uring=on: built with libfuse %s, which has no io_uring",
			 fuse_pkgversion());
		return -1;
	}
	state = uring_switch();
	if (state < 0) {
		if (mode == IO_URING_AUTO)
			return 0;
		snprintf(why, why_len, "-o io_uring=on: this kernel has no FUSE over io_uring (%s)",
			 TRANSPORT_URING_SWITCH);
		return -1;
	}
	if (state == 0 && geteuid() == 0 && uring_switch_on()) {
		state = 1;
		if (debug)
			fprintf(stderr, "ext4pager: turned FUSE over io_uring on (%s)\n",
				TRANSPORT_URING_SWITCH);
	}
	if (state == 0) {
		if (mode == IO_URING_ON) {
			snprintf(why, why_len,
				 "-o io_uring=on: FUSE over io_uring is off in the kernel; as root: "
				 "echo Y > %s",
				 TRANSPORT_URING_SWITCH);
			return -1;
		}
		fprintf(stderr,
			"ext4pager: hint: FUSE over io_uring is off (faster when root runs: echo Y > "
			"%s)\n",
			TRANSPORT_URING_SWITCH);
		return 0;
	}
	*use_uring = true;
	return 0;
}

void transport_ring_thread_yields(void)
{
	static _Thread_local bool lowered;
	const struct sched_param none = {.sched_priority = 0};

	if (lowered)
		return;
	lowered = true;
	sched_setscheduler(0, SCHED_IDLE, &none); /* any thread may lower itself; best effort */
}
