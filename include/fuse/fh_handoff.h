// SPDX-License-Identifier: MIT
/*
 * fh_handoff — tells ThreadSanitizer about the one ordering the kernel gives us between two
 * requests: an object handed out as a file handle (fi->fh of OPEN/OPENDIR) is built before the
 * reply that carries it, and every later request naming that fh (READ, READDIR, LSEEK,
 * RELEASE) comes after the reply, because the kernel learns the fh only from it
 * (fs/fuse/file.c: fuse_file_open stores outarg.fh; later requests copy ff->fh).
 *
 * Over /dev/fuse libfuse's worker threads happen to share a lock, which TSan sees. Over
 * io_uring each queue's thread takes only its own (lib/fuse_uring.c), and the handoff goes
 * through ring memory the kernel writes, which TSan cannot see: OPEN answered on one queue and
 * RELEASE arriving on another look like a race on the handle. fh_publish before the reply and
 * fh_receive when the fh comes back state the kernel's ordering; outside TSan builds they are
 * nothing. Part of the FUSE layer.
 */
#ifndef EXT4PAGER_FH_HANDOFF_H
#define EXT4PAGER_FH_HANDOFF_H

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EXT4PAGER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define EXT4PAGER_TSAN 1
#endif

#ifdef EXT4PAGER_TSAN
#include <sanitizer/tsan_interface.h>

/* Everything written to `obj` so far is visible to whoever fh_receive()s it. */
static inline void fh_publish(const void *obj)
{
	__tsan_release((void *)obj);
}

static inline void fh_receive(const void *obj)
{
	__tsan_acquire((void *)obj);
}
#else
static inline void fh_publish(const void *obj)
{
	(void)obj;
}

static inline void fh_receive(const void *obj)
{
	(void)obj;
}
#endif

#endif
