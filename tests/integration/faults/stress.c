// SPDX-License-Identifier: MIT
/*
 * stress — many threads reading the same and different files of a mount at once, by pread and
 * by mmap, over overlapping ranges, while other threads open and close the files as fast as
 * they can (so the daemon reclaims VMOs while page requests are in flight). Every byte read is
 * checked: file k of the set holds, at each 8-byte-aligned offset o, the little-endian word
 * k * 0x9E3779B97F4A7C15 + o (written by test_stress.sh).
 *   stress DIR NFILES SECONDS THREADS
 * Exits 0 when every check passed, 1 on any mismatch or error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *dir;
static int nfiles;
static double deadline;
static _Atomic long checked, failures;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint8_t expected(int k, uint64_t off)
{
	uint64_t word = (uint64_t)k * 0x9E3779B97F4A7C15ull + (off & ~7ull);
	return (uint8_t)(word >> (8 * (off & 7)));
}

static void verify(int k, const uint8_t *p, uint64_t off, size_t n, const char *how)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != expected(k, off + i)) {
			if (atomic_fetch_add(&failures, 1) < 5)
				fprintf(stderr, "stress: %s file %d byte %llu differs\n", how, k,
					(unsigned long long)(off + i));
			return;
		}
	}
	atomic_fetch_add(&checked, (long)n);
}

static int open_file(int k, off_t *size)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof(path), "%s/f%d", dir, k);
	int fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		atomic_fetch_add(&failures, 1);
		fprintf(stderr, "stress: open %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*size = st.st_size;
	return fd;
}

static void do_pread(unsigned *seed, int k)
{
	static _Thread_local uint8_t buf[512 << 10];
	off_t size;
	int fd = open_file(k, &size);
	if (fd < 0)
		return;
	for (int r = 0; r < 8; r++) {
		uint64_t off = (uint64_t)rand_r(seed) % (uint64_t)size;
		size_t len = 1 + (size_t)rand_r(seed) % sizeof(buf);
		ssize_t n = pread(fd, buf, len, (off_t)off);
		if (n < 0) {
			atomic_fetch_add(&failures, 1);
			fprintf(stderr, "stress: pread: %s\n", strerror(errno));
			break;
		}
		verify(k, buf, off, (size_t)n, "pread");
	}
	close(fd);
}

static void do_mmap(unsigned *seed, int k)
{
	off_t size;
	int fd = open_file(k, &size);
	if (fd < 0)
		return;
	const uint8_t *m = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd); /* the mapping keeps the file open: RELEASE comes after munmap */
	if (m == MAP_FAILED) {
		atomic_fetch_add(&failures, 1);
		return;
	}
	for (int r = 0; r < 16; r++) {
		uint64_t off = (uint64_t)rand_r(seed) % (uint64_t)size;
		size_t len = 1 + (size_t)rand_r(seed) % 65536;
		if (off + len > (uint64_t)size)
			len = (size_t)((uint64_t)size - off);
		verify(k, m + off, off, len, "mmap");
	}
	munmap((void *)m, (size_t)size);
}

static void do_open_close(int k)
{
	off_t size;
	for (int r = 0; r < 20; r++) {
		int fd = open_file(k, &size);
		if (fd < 0)
			return;
		close(fd);
	}
}

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	while (now() < deadline && atomic_load(&failures) == 0) {
		int k = rand_r(&seed) % nfiles, op = rand_r(&seed) % 3;
		if (op == 0)
			do_pread(&seed, k);
		else if (op == 1)
			do_mmap(&seed, k);
		else
			do_open_close(k);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: stress DIR NFILES SECONDS THREADS\n");
		return 2;
	}
	dir = argv[1];
	nfiles = atoi(argv[2]);
	deadline = now() + atof(argv[3]);
	int nthreads = atoi(argv[4]);
	pthread_t t[64];
	if (nfiles < 1 || nthreads < 1 || nthreads > 64)
		return 2;
	for (int i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i * 7919 + 1));
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	printf("stress: %ld bytes checked, %ld failures\n", atomic_load(&checked),
	       atomic_load(&failures));
	return atomic_load(&failures) ? 1 : 0;
}
