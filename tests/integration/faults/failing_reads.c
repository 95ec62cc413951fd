// SPDX-License-Identifier: MIT
/*
 * failing_reads — an LD_PRELOAD shim for the fault tests: pread/preadv on the file whose inode
 * number is EXT4PAGER_FAIL_INO fail with EIO wherever they overlap the byte range
 * EXT4PAGER_FAIL_RANGE ("START:LENGTH"), as a disk with a bad sector would. Everything else
 * passes through. Built by test_lifecycle.sh; never part of ext4pager.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static int overlaps_bad_range(int fd, off_t off, size_t len)
{
	const char *ino = getenv("EXT4PAGER_FAIL_INO"), *range = getenv("EXT4PAGER_FAIL_RANGE");
	struct stat st;
	char *colon;

	if (!ino || !range || fstat(fd, &st) != 0 || st.st_ino != strtoull(ino, NULL, 10))
		return 0;
	uint64_t start = strtoull(range, &colon, 10);
	uint64_t length = *colon == ':' ? strtoull(colon + 1, NULL, 10) : 0;
	return (uint64_t)off < start + length && (uint64_t)off + len > start;
}

static size_t iov_total(const struct iovec *iov, int n)
{
	size_t t = 0;
	for (int i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

#define FAIL_OR_PASS(check, call)                                                                  \
	do {                                                                                       \
		if (check) {                                                                       \
			errno = EIO;                                                               \
			return -1;                                                                 \
		}                                                                                  \
		return call;                                                                       \
	} while (0)

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, void *, size_t, off_t);
	if (!real)
		real = dlsym(RTLD_NEXT, "pread");
	FAIL_OR_PASS(overlaps_bad_range(fd, off, n), real(fd, buf, n, off));
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, void *, size_t, off_t);
	if (!real)
		real = dlsym(RTLD_NEXT, "pread64");
	FAIL_OR_PASS(overlaps_bad_range(fd, off, n), real(fd, buf, n, off));
}

ssize_t preadv(int fd, const struct iovec *iov, int n, off_t off)
{
	static ssize_t (*real)(int, const struct iovec *, int, off_t);
	if (!real)
		real = dlsym(RTLD_NEXT, "preadv");
	FAIL_OR_PASS(overlaps_bad_range(fd, off, iov_total(iov, n)), real(fd, iov, n, off));
}

ssize_t preadv64(int fd, const struct iovec *iov, int n, off_t off)
{
	static ssize_t (*real)(int, const struct iovec *, int, off_t);
	if (!real)
		real = dlsym(RTLD_NEXT, "preadv64");
	FAIL_OR_PASS(overlaps_bad_range(fd, off, iov_total(iov, n)), real(fd, iov, n, off));
}
