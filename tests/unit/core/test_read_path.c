// SPDX-License-Identifier: MIT
/* What the read path allocates, counted: the test links with --wrap=malloc/calloc/realloc, so
 * every allocation in the core library goes through the counters below. A read of present
 * pages allocates nothing; a read that misses allocates its page request and, the first time a
 * chunk of the VMO is touched, that chunk — and nothing to post the request to a pager thread. */
#include "byte_source.h"
#include "pager.h"
#include "check_main.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic long allocations;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n)
{
	atomic_fetch_add(&allocations, 1);
	return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	atomic_fetch_add(&allocations, 1);
	return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	atomic_fetch_add(&allocations, 1);
	return __real_realloc(p, n);
}

#define BS 4096u

static uint8_t backing[4u << 20];

/* Allocations made by one pager_read of [off, off+len) and its view's release. */
static long allocations_of_read(struct pager *p, struct pager_handle *h, uint64_t off, size_t len)
{
	struct vmo_view view;
	long before = atomic_load(&allocations);
	int rc = pager_read(p, h, off, len, &view);
	long n;
	if (rc == 0) {
		int same = view.len == len &&
			   memcmp(view.iov[0].iov_base, backing + off, view.iov[0].iov_len) == 0;
		pager_view_release(p, &view);
		n = atomic_load(&allocations) - before;
		ck_assert_msg(same, "the read returned other bytes than the backing's");
	} else {
		n = atomic_load(&allocations) - before;
	}
	ck_assert_int_eq(rc, 0);
	return n;
}

START_TEST(reads_allocate_only_requests_and_first_touched_chunks)
{
	struct byte_source *src = byte_source_from_memory(backing, sizeof(backing));
	struct pager_backing b = {.data = src};
	struct pager_config cfg = {.threads = 1, .readahead = 128u << 10};
	struct extent e = {0, 0, sizeof(backing) / BS, false};
	struct pager_handle *h;
	struct extmap map;
	struct pager *p;
	for (size_t i = 0; i < sizeof(backing); i++)
		backing[i] = (uint8_t)(i * 13 + (i >> 12));
	ck_assert_int_eq(pager_create(&b, &cfg, &p), 0);
	ck_assert_int_eq(pager_start(p), 0);
	ck_assert_int_eq(extmap_from_array(&e, 1, BS, 1u << 20, &map), 0);
	ck_assert_int_eq(pager_register_map(p, 1, sizeof(backing), &map, &h), 0);
	/* Warm the pool, the chunk table and chunk 0 (64 pages = 256 KiB) once. */
	allocations_of_read(p, h, 0, 4096);
	/* A miss in a chunk that exists: the page request, nothing else. */
	ck_assert_int_eq(allocations_of_read(p, h, 128u << 10, 4096), 1);
	/* A miss in a chunk not touched yet: the request and the chunk. */
	ck_assert_int_eq(allocations_of_read(p, h, 256u << 10, 4096), 2);
	/* Hits: nothing at all. */
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(allocations_of_read(p, h, (uint64_t)(i % 96) * 4096, 4096), 0);
	pager_release(p, h);
	pager_destroy(p);
	byte_source_close(src);
}
END_TEST

CHECK_MAIN("read_path", reads_allocate_only_requests_and_first_touched_chunks)
